//! Opening an input only when it is a regular file: a named pipe, a device, a socket or a
//! folder named like an audio file is refused at once, never read (a FIFO with no writer
//! would hang ingest for ever; a device could be read without end).

use std::fs::File;
use std::path::Path;

/// Why [`open_regular`] gave no file.
pub enum Opened {
    /// The path is not a regular file; what it is.
    NotRegular(&'static str),
    /// The OS refused.
    Io(std::io::Error),
}

/// Opens `path` for reading only if it is a regular file (a symbolic link to one is fine).
///
/// The file is opened without blocking and its type read from the open handle, so a named
/// pipe with no writer cannot hang ingest and nothing can be swapped in between the check
/// and the read.
pub fn open_regular(path: &Path) -> Result<File, Opened> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK);
    }
    let file = match options.open(path) {
        Ok(f) => f,
        // A socket cannot be opened at all (ENXIO): say what it is rather than the errno.
        Err(e) => {
            return Err(match std::fs::metadata(path) {
                Ok(m) if !m.is_file() => Opened::NotRegular(describe_kind(&m.file_type())),
                _ => Opened::Io(e),
            })
        }
    };
    let kind = file.metadata().map_err(Opened::Io)?.file_type();
    if !kind.is_file() {
        return Err(Opened::NotRegular(describe_kind(&kind)));
    }
    #[cfg(unix)]
    {
        // Back to ordinary blocking reads (the flag means nothing for a regular file, but
        // the decoder should not meet an EAGAIN it was never promised).
        use std::os::fd::AsRawFd;
        let fd = file.as_raw_fd();
        // SAFETY: fcntl on a descriptor this function owns, with integer arguments only.
        unsafe {
            let flags = libc::fcntl(fd, libc::F_GETFL);
            if flags >= 0 {
                libc::fcntl(fd, libc::F_SETFL, flags & !libc::O_NONBLOCK);
            }
        }
    }
    Ok(file)
}

/// Names a file type that is not a regular file, for the refusal.
fn describe_kind(kind: &std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if kind.is_fifo() {
            return "a named pipe (FIFO)";
        }
        if kind.is_char_device() {
            return "a character device";
        }
        if kind.is_block_device() {
            return "a block device";
        }
        if kind.is_socket() {
            return "a socket";
        }
    }
    if kind.is_dir() {
        "a folder"
    } else {
        "not a regular file"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind_of(path: &Path) -> Option<&'static str> {
        match open_regular(path) {
            Ok(_) => None,
            Err(Opened::NotRegular(what)) => Some(what),
            Err(Opened::Io(e)) => panic!("{}: {e}", path.display()),
        }
    }

    #[test]
    fn a_named_pipe_is_refused_at_once_without_waiting_for_a_writer() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("f.mp3");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: mkfifo with a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
        assert_eq!(kind_of(&fifo), Some("a named pipe (FIFO)"));
    }

    #[test]
    fn a_device_a_socket_and_a_folder_are_named_for_what_they_are() {
        assert_eq!(kind_of(Path::new("/dev/null")), Some("a character device"));
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(kind_of(dir.path()), Some("a folder"));
        let sock = dir.path().join("s.wav");
        let _listener = std::os::unix::net::UnixListener::bind(&sock).unwrap();
        assert_eq!(kind_of(&sock), Some("a socket"));
    }

    #[test]
    fn a_regular_file_and_a_link_to_one_open_for_blocking_reads() {
        use std::io::Read;
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("a.wav");
        std::fs::write(&f, b"RIFF").unwrap();
        let link = dir.path().join("b.wav");
        std::os::unix::fs::symlink(&f, &link).unwrap();
        for p in [&f, &link] {
            let mut file = open_regular(p).unwrap_or_else(|_| panic!("{}", p.display()));
            let mut s = String::new();
            file.read_to_string(&mut s).unwrap();
            assert_eq!(s, "RIFF");
        }
    }
}
