//! The null sink: discards the audio and counts it. For dry runs and benchmarks.

use chrono::{DateTime, NaiveDate, Utc};

use super::{check_frames, Sink, SinkError, SinkSpec};
use crate::playout::OutputFormat;

/// Discards everything, counting frames.
#[derive(Debug)]
pub struct NullSink {
    /// The format it pretends to take.
    format: OutputFormat,
    /// Frames discarded so far.
    frames: u64,
}

impl NullSink {
    /// A null sink taking `format`.
    pub fn new(format: OutputFormat) -> NullSink {
        NullSink { format, frames: 0 }
    }
}

/// The `null` entry of the backend table.
pub fn open(_spec: &SinkSpec, fmt: OutputFormat) -> Result<Box<dyn Sink>, SinkError> {
    Ok(Box::new(NullSink::new(fmt)))
}

impl Sink for NullSink {
    fn format(&self) -> OutputFormat {
        self.format
    }

    fn realtime(&self) -> bool {
        false
    }

    fn begin(&mut self, _: &str, _: NaiveDate, _: DateTime<Utc>) -> Result<(), SinkError> {
        Ok(())
    }

    fn write(&mut self, samples: &[f32]) -> Result<(), SinkError> {
        self.frames += check_frames("null", self.format, samples)?;
        Ok(())
    }

    fn end(&mut self) -> Result<(), SinkError> {
        Ok(())
    }

    fn frames_written(&self) -> u64 {
        self.frames
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_null_sink_counts_frames_and_is_not_realtime() {
        let mut sink = open(&SinkSpec::Null, OutputFormat::default()).unwrap();
        let day = NaiveDate::from_ymd_opt(2026, 3, 2).unwrap();
        let at = day.and_hms_opt(5, 30, 0).unwrap().and_utc();
        sink.begin("xa-vinh-hung", day, at).unwrap();
        sink.write(&[0.5; 960]).unwrap();
        sink.end().unwrap();
        assert_eq!(sink.frames_written(), 480);
        assert!(!sink.realtime());
    }
}
