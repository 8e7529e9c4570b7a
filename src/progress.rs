//! Progress of long work (importing a folder of files, playing a week), as the library
//! reports it: counts, nothing else. Silent by default ([`Quiet`]); the command line shows
//! it as a bar on a terminal (`cli::progress`), and never on a pipe or a log file.

/// Someone watching long work.
pub trait Progress: Send + Sync + std::fmt::Debug {
    /// Whether anyone is watching: work that costs something only to know its total
    /// (counting rows ahead of an export) is skipped when nobody is.
    fn watching(&self) -> bool {
        false
    }

    /// The work has `steps` more steps than known so far (work found as it goes, e.g. a
    /// station's slots once they are built).
    fn more(&self, _steps: u64) {}

    /// `steps` more are done.
    fn advance(&self, _steps: u64) {}

    /// Someone watching part `index` of the work (a file of a batch) in its own, finer
    /// steps (the file's audio frames), when anyone is: the console's upload form shows
    /// each file's measurement; the command line's bar counts whole files.
    fn part(&self, _index: usize) -> Option<std::sync::Arc<dyn Progress>> {
        None
    }
}

/// Nobody watching.
#[derive(Debug, Clone, Copy, Default)]
pub struct Quiet;

impl Progress for Quiet {}
