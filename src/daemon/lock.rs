//! One daemon per data dir: `loa serve` (and `loa playout run` on the wall clock) holds an
//! exclusive `flock` on `DATA_DIR/loa.lock` for as long as it runs, with its PID and control
//! address written inside, so a second one is refused at once, naming the first, before it
//! touches a row. The kernel drops the lock when the process ends, however it ends (a crash
//! or power cut leaves no stale lock to clean up).

use std::fs::File;
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};

/// The lock file's name inside the data dir.
pub const LOCK_FILE: &str = "loa.lock";

/// What holds the data dir: written into the lock file by its holder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder {
    /// The holder's process id.
    pub pid: String,
    /// Its control API (`http://ADDR`), or what it has instead.
    pub address: String,
}

impl Holder {
    /// The lock file's text: `pid=…` and `address=…` lines.
    fn text(&self) -> String {
        format!("pid={}\naddress={}\n", self.pid, self.address)
    }

    /// Reads a lock file's text; missing lines read "unknown" (the holder may be between
    /// taking the lock and writing it).
    fn parse(text: &str) -> Holder {
        let get = |key: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(key)?.strip_prefix('='))
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .unwrap_or("unknown")
                .to_string()
        };
        Holder {
            pid: get("pid"),
            address: get("address"),
        }
    }
}

/// Why the data dir could not be locked.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// Another daemon holds it.
    #[error("another loa daemon is already running on the data dir {dir}: PID {pid}, control API {address}; stop it first or use another data dir", pid = holder.pid, address = holder.address)]
    Held {
        /// The data dir.
        dir: PathBuf,
        /// Who holds it.
        holder: Holder,
    },
    /// The lock file could not be created, locked or written.
    #[error("cannot lock the data dir {}: {source}", path.display())]
    Io {
        /// The lock file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
}

/// The data dir's lock, held until dropped.
#[derive(Debug)]
pub struct DataDirLock {
    /// The open, locked file: closing it releases the lock.
    _file: File,
    /// Where it is (to remove its text at a clean stop).
    path: PathBuf,
}

impl DataDirLock {
    /// Locks `data_dir` for this process and writes its PID and `address` (the control
    /// API's, or what runs instead of one) into the lock file.
    pub fn acquire(data_dir: &Path, address: &str) -> Result<DataDirLock, LockError> {
        let path = data_dir.join(LOCK_FILE);
        let io = |source| LockError::Io {
            path: path.clone(),
            source,
        };
        // Not truncated on open: the text belongs to whoever holds the lock.
        let mut file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(io)?;
        if !try_lock(&file).map_err(io)? {
            let mut text = String::new();
            let _ = file.read_to_string(&mut text);
            return Err(LockError::Held {
                dir: data_dir.to_path_buf(),
                holder: Holder::parse(&text),
            });
        }
        let me = Holder {
            pid: std::process::id().to_string(),
            address: address.to_string(),
        };
        file.set_len(0).map_err(io)?;
        file.rewind().map_err(io)?;
        file.write_all(me.text().as_bytes()).map_err(io)?;
        file.sync_all().map_err(io)?;
        Ok(DataDirLock { _file: file, path })
    }

    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Who this process is, for the other daemons sharing a database: what runs, its PID, the
/// host and its control API (`loa serve PID 4242 on may-chu-huyen, API http://…`).
pub fn describe(what: &str, address: &str) -> String {
    format!(
        "{what} PID {} on {}, API {address}",
        std::process::id(),
        host_name()
    )
}

/// This machine's name ("unknown host" when it has none).
fn host_name() -> String {
    #[cfg(unix)]
    {
        let mut buf = [0u8; 256];
        // SAFETY: gethostname writes at most `buf.len()` bytes into the buffer it is given.
        if unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) } == 0 {
            let end = buf.iter().position(|b| *b == 0).unwrap_or(buf.len());
            let name = String::from_utf8_lossy(&buf[..end]).into_owned();
            if !name.is_empty() {
                return name;
            }
        }
    }
    "unknown host".into()
}

/// Takes an exclusive lock without waiting: `false` when another open file holds it.
#[cfg(unix)]
fn try_lock(file: &File) -> std::io::Result<bool> {
    use std::os::fd::AsRawFd;
    // SAFETY: flock on a file descriptor this function borrows for the call.
    if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0 {
        return Ok(true);
    }
    let e = std::io::Error::last_os_error();
    if e.kind() == std::io::ErrorKind::WouldBlock {
        Ok(false)
    } else {
        Err(e)
    }
}

/// Elsewhere the data dir is not locked (loa's daemons run on Linux).
#[cfg(not(unix))]
fn try_lock(_file: &File) -> std::io::Result<bool> {
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_on_the_same_data_dir_is_refused_naming_the_first() {
        let dir = tempfile::tempdir().unwrap();
        let first = DataDirLock::acquire(dir.path(), "http://127.0.0.1:7010").unwrap();
        let err = DataDirLock::acquire(dir.path(), "http://127.0.0.1:7011").unwrap_err();
        let LockError::Held { holder, .. } = &err else {
            panic!("{err}");
        };
        assert_eq!(holder.pid, std::process::id().to_string());
        assert_eq!(holder.address, "http://127.0.0.1:7010");
        let said = err.to_string();
        assert!(
            said.contains(&holder.pid) && said.contains("127.0.0.1:7010"),
            "{said}"
        );
        drop(first);
        let again = DataDirLock::acquire(dir.path(), "http://127.0.0.1:7011").unwrap();
        let text = std::fs::read_to_string(again.path()).unwrap();
        assert!(text.contains("address=http://127.0.0.1:7011"), "{text}");
    }

    #[test]
    fn a_lock_file_without_its_lines_reads_unknown() {
        assert_eq!(
            Holder::parse(""),
            Holder {
                pid: "unknown".into(),
                address: "unknown".into()
            }
        );
        assert_eq!(Holder::parse("pid=42\naddress=x\n").pid, "42");
    }
}
