//! The content-addressed audio store: each bulletin's file lives at `ab/cdef….ext` under the
//! data dir's `audio/`, named by the SHA-256 of its bytes. Files are written to a temporary
//! name, fsynced, renamed into place and the folder fsynced, so a power cut leaves either the
//! whole file or none.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// The audio store under one folder.
#[derive(Debug, Clone)]
pub struct AudioStore {
    /// `DATA_DIR/audio`.
    root: PathBuf,
}

/// The relative path of audio with this hash and container: `ab/cdef….ext`.
pub fn relative_path(sha256: &str, ext: &str) -> String {
    format!("{}/{}.{}", &sha256[..2], &sha256[2..], ext)
}

impl AudioStore {
    /// The store rooted at `root` (created on first write).
    pub fn new(root: impl Into<PathBuf>) -> AudioStore {
        AudioStore { root: root.into() }
    }

    /// The absolute path of a stored file.
    pub fn path_of(&self, relative: &str) -> PathBuf {
        self.root.join(relative)
    }

    /// Copies `source` into the store as `relative`, checking on the way that its bytes
    /// still hash to `sha256` (the file may have changed since it was measured). Returns
    /// `true` when a new file was written, `false` when the same content was already there.
    pub fn put(&self, source: &Path, relative: &str, sha256: &str) -> io::Result<bool> {
        let dest = self.path_of(relative);
        if dest.exists() && hash_file(&dest)? == sha256 {
            return Ok(false);
        }
        let dir = dest.parent().expect("store paths have a folder");
        fs::create_dir_all(dir)?;
        let tmp = dir.join(format!(
            ".{}.tmp",
            dest.file_name().unwrap_or_default().to_string_lossy()
        ));
        let result = (|| {
            let mut input = File::open(source)?;
            let mut out = File::create(&tmp)?;
            let mut hasher = Sha256::new();
            let mut buf = vec![0u8; 256 * 1024];
            loop {
                let n = input.read(&mut buf)?;
                if n == 0 {
                    break;
                }
                hasher.update(&buf[..n]);
                out.write_all(&buf[..n])?;
            }
            let got = hex::encode(hasher.finalize());
            if got != sha256 {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("{} changed while it was being added", source.display()),
                ));
            }
            out.sync_all()?;
            drop(out);
            fs::rename(&tmp, &dest)?;
            sync_dir(dir)
        })();
        if result.is_err() {
            let _ = fs::remove_file(&tmp);
        }
        result.map(|()| true)
    }

    /// Deletes a stored file (a missing file is not an error).
    pub fn remove(&self, relative: &str) -> io::Result<()> {
        let p = self.path_of(relative);
        match fs::remove_file(&p) {
            Ok(()) => p.parent().map(sync_dir).unwrap_or(Ok(())),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(e),
        }
    }
}

/// The lower-case hex SHA-256 of a file, read in blocks.
pub fn hash_file(path: &Path) -> io::Result<String> {
    let mut f = File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hex::encode(hasher.finalize()))
}

/// Makes a rename or delete in `dir` durable.
fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// Writes `bytes` to `path` durably: temporary file, fsync, rename, fsync of the folder.
pub fn write_durably(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let tmp = dir.join(format!(
        ".{}.tmp",
        path.file_name().unwrap_or_default().to_string_lossy()
    ));
    let mut f = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(&tmp)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    drop(f);
    fs::rename(&tmp, path)?;
    sync_dir(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_lands_at_its_hash_and_a_second_put_is_a_no_op() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("in.wav");
        fs::write(&src, b"RIFF....WAVE").unwrap();
        let sha = hash_file(&src).unwrap();
        let store = AudioStore::new(dir.path().join("audio"));
        let rel = relative_path(&sha, "wav");
        assert!(rel.starts_with(&sha[..2]));
        assert!(store.put(&src, &rel, &sha).unwrap());
        assert!(!store.put(&src, &rel, &sha).unwrap());
        assert_eq!(fs::read(store.path_of(&rel)).unwrap(), b"RIFF....WAVE");
        store.remove(&rel).unwrap();
        assert!(!store.path_of(&rel).exists());
        store.remove(&rel).unwrap();
    }

    #[test]
    fn a_file_changed_since_it_was_measured_is_not_stored() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("in.wav");
        fs::write(&src, b"one").unwrap();
        let sha = hash_file(&src).unwrap();
        fs::write(&src, b"two").unwrap();
        let store = AudioStore::new(dir.path().join("audio"));
        let rel = relative_path(&sha, "wav");
        assert!(store.put(&src, &rel, &sha).is_err());
        assert!(!store.path_of(&rel).exists());
        let leftovers: Vec<_> = fs::read_dir(store.path_of(&rel).parent().unwrap())
            .unwrap()
            .collect();
        assert!(leftovers.is_empty(), "no temporary file is left behind");
    }
}
