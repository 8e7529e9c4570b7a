//! Gives the heap's free pages back to the system while the daemon runs.
//!
//! glibc keeps what a burst of work freed (fifty console sessions, a week built, an hour of
//! audio measured) inside its heaps: it returns memory only from the top of a heap, and
//! only past a threshold that grows with the largest block ever freed. The console
//! benchmark saw the idle daemon at 88 MB after a load that had needed 124 MB, of which
//! 67 MB was heap, most of it free (docs/benchmarks.md, "Console"). Every
//! [`EVERY`] the daemon asks glibc (`malloc_trim`) to release the free pages of every heap,
//! which costs well under a millisecond for a heap of this size; other C libraries do
//! nothing here.

use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;

/// How often the free pages are given back.
pub const EVERY: Duration = Duration::from_secs(30);

/// When they are first given back: after the start's own burst (recovery, the weeks built
/// ahead, the library read).
pub const FIRST: Duration = Duration::from_secs(10);

/// Releases the free pages of every heap; whether any were released.
pub fn give_back() -> bool {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: malloc_trim only walks and trims glibc's own heaps under their locks.
        unsafe { libc::malloc_trim(0) == 1 }
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    {
        false
    }
}

/// Gives the free pages back [`FIRST`] after the start, then every [`EVERY`] until the
/// stop, on a blocking thread (the heaps are locked while they are walked, never a player's
/// thread).
pub fn keep_giving_back(mut stop: watch::Receiver<bool>) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut wait = FIRST;
        loop {
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = stop.wait_for(|s| *s) => return,
            }
            wait = EVERY;
            let _ = tokio::task::spawn_blocking(give_back).await;
        }
    })
}
