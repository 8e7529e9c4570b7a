//! Text to speech for typed announcements: runs the configured command
//! ([`crate::config::TtsCommand`], `espeak-ng -v vi` by default) with the text on its stdin
//! and the WAV file it writes handed back as a [`SpokenFile`], which the caller ingests like
//! any uploaded file (the library's checks decide whether it is usable audio).
//!
//! Owns: starting the command, feeding it, its time limit, and removing what it wrote once
//! the caller is done. It does not judge the audio.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::config::TtsCommand;

/// The longest announcement text taken, in characters.
pub const MAX_TEXT_CHARS: usize = 2_000;

/// How long the command may take before it is stopped.
pub const TIME_LIMIT: Duration = Duration::from_secs(120);

/// Why typed text did not become audio.
#[derive(Debug, thiserror::Error)]
pub enum TtsError {
    /// The command could not be started (not installed, not executable).
    #[error("the text-to-speech command '{program}' cannot be started: {source} (install it, or set announce.tts_command in loa.toml)")]
    Start {
        /// The program.
        program: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// It ended with a failure.
    #[error("the text-to-speech command '{program}' failed ({status}): {stderr}")]
    Failed {
        /// The program.
        program: String,
        /// How it ended.
        status: String,
        /// The first line it wrote to stderr.
        stderr: String,
    },
    /// It ran past [`TIME_LIMIT`] and was stopped.
    #[error("the text-to-speech command '{program}' took longer than {} s and was stopped", TIME_LIMIT.as_secs())]
    TimedOut {
        /// The program.
        program: String,
    },
    /// It succeeded but wrote no file where `{out}` said.
    #[error("the text-to-speech command '{program}' wrote no audio to {}", out.display())]
    NoOutput {
        /// The program.
        program: String,
        /// Where it should have written.
        out: PathBuf,
    },
    /// The folder for its output could not be made.
    #[error("cannot make the folder {} for text-to-speech audio: {source}", dir.display())]
    Folder {
        /// The folder.
        dir: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
}

/// A WAV file the command wrote; removed when dropped.
#[derive(Debug)]
pub struct SpokenFile {
    /// Where it is.
    pub path: PathBuf,
}

impl Drop for SpokenFile {
    fn drop(&mut self) {
        if let Err(e) = std::fs::remove_file(&self.path) {
            if e.kind() != std::io::ErrorKind::NotFound {
                tracing::warn!(file = %self.path.display(), error = %e, "cannot remove text-to-speech audio");
            }
        }
    }
}

/// Speaks `text` (already checked: NFC, not empty, at most [`MAX_TEXT_CHARS`]) with `cmd`
/// into a new file under `dir`. Blocking: call it from `spawn_blocking`.
pub fn speak(cmd: &TtsCommand, text: &str, dir: &Path) -> Result<SpokenFile, TtsError> {
    std::fs::create_dir_all(dir).map_err(|source| TtsError::Folder {
        dir: dir.to_path_buf(),
        source,
    })?;
    let mut name = [0u8; 8];
    // A name nobody guesses; a clash is as good as impossible and is overwritten anyway.
    let _ = getrandom::fill(&mut name);
    let out = SpokenFile {
        path: dir.join(format!("tts-{}.wav", hex::encode(name))),
    };
    let program = cmd.program.clone();
    let mut child = Command::new(&cmd.program)
        .args(cmd.args_for(&out.path))
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|source| TtsError::Start {
            program: program.clone(),
            source,
        })?;
    if let Some(mut stdin) = child.stdin.take() {
        // A command that reads no stdin closes it early: that is not a failure here.
        let _ = stdin.write_all(text.as_bytes());
    }
    let deadline = Instant::now() + TIME_LIMIT;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(TtsError::TimedOut { program });
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(source) => return Err(TtsError::Start { program, source }),
        }
    };
    if !status.success() {
        let mut err = String::new();
        if let Some(mut e) = child.stderr.take() {
            let _ = std::io::Read::read_to_string(&mut e, &mut err);
        }
        return Err(TtsError::Failed {
            program,
            status: status.to_string(),
            stderr: err.lines().next().unwrap_or("").trim().to_string(),
        });
    }
    if !out.path.is_file() {
        return Err(TtsError::NoOutput {
            program,
            out: out.path.clone(),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmd(text: &str) -> TtsCommand {
        TtsCommand::parse(text).unwrap()
    }

    fn dir() -> PathBuf {
        let d = std::env::temp_dir().join(format!("loa-tts-test-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn the_text_goes_to_the_command_on_stdin_and_its_file_is_removed_when_dropped() {
        // `tee {out}` writes what it reads: the file holds exactly the text sent.
        let spoken = speak(&cmd("tee {out}"), "Thông báo khẩn: bão số 3", &dir()).unwrap();
        let got = std::fs::read_to_string(&spoken.path).unwrap();
        assert_eq!(got, "Thông báo khẩn: bão số 3");
        let path = spoken.path.clone();
        drop(spoken);
        assert!(!path.exists());
    }

    #[test]
    fn a_missing_program_a_failure_and_no_output_are_each_named() {
        let err = speak(&cmd("loa-no-such-tts {out}"), "x", &dir()).unwrap_err();
        assert!(
            err.to_string()
                .contains("'loa-no-such-tts' cannot be started"),
            "{err}"
        );
        let err = speak(&cmd("false {out}"), "x", &dir()).unwrap_err();
        assert!(matches!(err, TtsError::Failed { .. }), "{err}");
        let err = speak(&cmd("true {out}"), "x", &dir()).unwrap_err();
        assert!(matches!(err, TtsError::NoOutput { .. }), "{err}");
    }
}
