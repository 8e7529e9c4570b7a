//! Progress bars for the long commands (`library import`, `playout run`, `airlog export`,
//! `airlog verify`), drawn with indicatif on stderr only when stderr is a terminal: a pipe,
//! a log file or a test sees nothing extra. The only file that uses indicatif.

use std::io::IsTerminal;
use std::sync::Arc;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::progress::{Progress, Quiet};

/// A bar (or spinner) on a terminal's stderr, or nothing.
#[derive(Debug, Clone)]
pub struct Bar(Option<ProgressBar>);

/// Whether bars are drawn: stderr is a terminal.
fn shown() -> bool {
    std::io::stderr().is_terminal()
}

impl Bar {
    /// A bar of steps that become known as the work goes (`Progress::more`), labelled
    /// `what` (e.g. "tệp / files").
    pub fn steps(what: &str) -> Bar {
        if !shown() {
            return Bar(None);
        }
        let style = ProgressStyle::with_template(
            "{spinner} {msg}: {pos}/{len} [{bar:30}] {elapsed_precise}, còn / left {eta}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
        let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr())
            .with_style(style)
            .with_message(what.to_string());
        bar.enable_steady_tick(Duration::from_millis(200));
        // Drawn at once: a command shorter than a tick still shows its bar.
        bar.tick();
        Bar(Some(bar))
    }

    /// As the library's [`Progress`] (silent when no bar is drawn).
    pub fn progress(&self) -> Arc<dyn Progress> {
        match &self.0 {
            Some(_) => Arc::new(self.clone()),
            None => Arc::new(Quiet),
        }
    }

    /// Removes the bar from the terminal (the command's own output follows).
    pub fn done(&self) {
        if let Some(b) = &self.0 {
            b.finish_and_clear();
        }
    }
}

impl Progress for Bar {
    fn watching(&self) -> bool {
        self.0.is_some()
    }

    fn more(&self, steps: u64) {
        if let Some(b) = &self.0 {
            b.inc_length(steps);
        }
    }

    fn advance(&self, steps: u64) {
        if let Some(b) = &self.0 {
            b.inc(steps);
        }
    }
}
