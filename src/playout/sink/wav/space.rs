//! The capture's watch on free disk space: captures are evidence of what played, not worth
//! a full disk (the airlog and the database live on the same disk and must go on). Below
//! twice the floor an alert says when capture will stop; below the floor capture stops,
//! with an alert, and playout goes on; once there is twice the floor again, it resumes.
//!
//! The decision is pure ([`Watch::check`] takes the free bytes); [`free_bytes`] asks the
//! operating system.

use std::path::Path;

use crate::playout::alert::Alert;

/// Bytes written between two checks while a segment plays (about 4 minutes of 16 kHz mono
/// 16-bit, 22 s of 48 kHz stereo float).
pub const CHECK_EVERY_BYTES: u64 = 8 * 1024 * 1024;

/// Free bytes for an unprivileged writer on the file system holding `path`.
pub fn free_bytes(path: &Path) -> std::io::Result<u64> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(path.as_os_str().as_bytes())
        .map_err(|_| std::io::Error::other("the path holds a NUL byte"))?;
    // SAFETY: statvfs writes into the zeroed struct we own; the path is NUL-terminated.
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    if unsafe { libc::statvfs(c.as_ptr(), &mut st) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok((st.f_bavail as u64).saturating_mul(st.f_frsize as u64))
}

/// What a check decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Go on as before.
    Same,
    /// Go on, and say this.
    Warn(Alert),
    /// Stop capturing, and say this.
    Stop(Alert),
    /// Capture again, and say this.
    Resume(Alert),
}

/// The free-space state of one capture folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Watch {
    /// Capture stops below this many free bytes (0: never).
    floor: u64,
    /// Whether capture is on.
    capturing: bool,
    /// Whether the early warning was given since space was last plentiful.
    warned: bool,
}

fn mb(bytes: u64) -> u64 {
    bytes / (1024 * 1024)
}

impl Watch {
    /// A watch that stops capture below `floor` free bytes.
    pub fn new(floor: u64) -> Watch {
        Watch {
            floor,
            capturing: true,
            warned: false,
        }
    }

    /// Whether capture is on.
    pub fn capturing(&self) -> bool {
        self.capturing
    }

    /// Decides on `free` bytes free in `dir` (unknown: no change).
    pub fn check(&mut self, dir: &Path, free: Option<u64>) -> Verdict {
        let Some(free) = free.filter(|_| self.floor > 0) else {
            return Verdict::Same;
        };
        let (d, floor) = (dir.display().to_string(), self.floor);
        if free < floor {
            if self.capturing {
                self.capturing = false;
                return Verdict::Stop(Alert::CaptureStopped {
                    dir: d,
                    free_mb: mb(free),
                    floor_mb: mb(floor),
                });
            }
            return Verdict::Same;
        }
        if free < floor.saturating_mul(2) {
            if self.capturing && !self.warned {
                self.warned = true;
                return Verdict::Warn(Alert::DiskLow {
                    dir: d,
                    free_mb: mb(free),
                    floor_mb: mb(floor),
                });
            }
            return Verdict::Same;
        }
        self.warned = false;
        if !self.capturing {
            self.capturing = true;
            return Verdict::Resume(Alert::CaptureResumed {
                dir: d,
                free_mb: mb(free),
            });
        }
        Verdict::Same
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MB: u64 = 1024 * 1024;

    #[test]
    fn a_falling_disk_warns_once_then_stops_capture_and_plenty_resumes_it() {
        let dir = Path::new("/srv/loa/capture");
        let mut w = Watch::new(500 * MB);
        assert_eq!(w.check(dir, Some(5_000 * MB)), Verdict::Same);
        assert_eq!(
            w.check(dir, Some(900 * MB)),
            Verdict::Warn(Alert::DiskLow {
                dir: "/srv/loa/capture".into(),
                free_mb: 900,
                floor_mb: 500
            })
        );
        assert_eq!(w.check(dir, Some(800 * MB)), Verdict::Same);
        assert_eq!(
            w.check(dir, Some(499 * MB)),
            Verdict::Stop(Alert::CaptureStopped {
                dir: "/srv/loa/capture".into(),
                free_mb: 499,
                floor_mb: 500
            })
        );
        assert!(!w.capturing());
        // Just over the floor is not enough to start again: it would stop at once.
        assert_eq!(w.check(dir, Some(600 * MB)), Verdict::Same);
        assert!(!w.capturing());
        assert_eq!(
            w.check(dir, Some(1_000 * MB)),
            Verdict::Resume(Alert::CaptureResumed {
                dir: "/srv/loa/capture".into(),
                free_mb: 1000
            })
        );
        assert!(w.capturing());
    }

    #[test]
    fn no_floor_or_an_unknown_free_space_changes_nothing() {
        let mut w = Watch::new(0);
        assert_eq!(w.check(Path::new("/x"), Some(0)), Verdict::Same);
        let mut w = Watch::new(MB);
        assert_eq!(w.check(Path::new("/x"), None), Verdict::Same);
        assert!(w.capturing());
    }

    #[test]
    fn the_free_space_of_a_real_folder_is_read() {
        let dir = tempfile::tempdir().unwrap();
        assert!(free_bytes(dir.path()).unwrap() > 0);
        assert!(free_bytes(&dir.path().join("missing")).is_err());
    }
}
