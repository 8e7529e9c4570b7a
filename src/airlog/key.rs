//! The district's Ed25519 key: it signs each station's chain head as playout advances and
//! the integrity block of every export, so a history re-chained by someone who can write
//! the database, but does not hold this file, no longer verifies.
//!
//! The key lives outside the database, in a file only its owner can read (0600), whose path
//! is in `loa.toml` (`[airlog] signing_key`). It is created by `loa init`, or by the first
//! start of a data dir made before keys existed. Its public half and its fingerprint (the
//! SHA-256 of the 32 public-key bytes, hex) are printed in every export and by `verify`.

use std::io::Write;
use std::path::{Path, PathBuf};

use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};

/// The first line of a key file (its format and version).
const KEY_HEADER: &str = "loa-ed25519-signing-key/1";

/// Why a key could not be made, read or used.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The key file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The file is not a loa key.
    #[error("{path}: not a loa signing key ({reason})")]
    Malformed {
        /// The key file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The key file can be read by others than its owner.
    #[error("{path}: the signing key is readable by other users (mode {mode:o}); run `chmod 600 {path}`")]
    Exposed {
        /// The key file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
}

/// The district's signing key (its secret never printed in `Debug`).
pub struct DistrictKey {
    signing: SigningKey,
}

impl std::fmt::Debug for DistrictKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DistrictKey")
            .field("fingerprint", &self.public().fingerprint())
            .finish_non_exhaustive()
    }
}

/// A public key, as printed in exports and used to check signatures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicKey(VerifyingKey);

impl PublicKey {
    /// Reads 64 hex digits.
    pub fn from_hex(s: &str) -> Option<PublicKey> {
        let bytes: [u8; 32] = hex::decode(s.trim()).ok()?.try_into().ok()?;
        VerifyingKey::from_bytes(&bytes).ok().map(PublicKey)
    }

    /// The 32 bytes as hex.
    pub fn hex(&self) -> String {
        hex::encode(self.0.as_bytes())
    }

    /// SHA-256 of the 32 public-key bytes, hex: what an operator reads out to compare keys.
    pub fn fingerprint(&self) -> String {
        hex::encode(Sha256::digest(self.0.as_bytes()))
    }

    /// Whether `signature` (128 hex digits) is this key's signature of `message`.
    pub fn verifies(&self, message: &[u8], signature: &str) -> bool {
        self.verifies_parts(&[message], signature)
    }

    /// Whether `signature` is this key's of the message made of `parts` in order.
    pub fn verifies_parts(&self, parts: &[&[u8]], signature: &str) -> bool {
        use ed25519_dalek::ed25519::signature::MultipartVerifier;
        let Some(bytes) = hex::decode(signature.trim())
            .ok()
            .and_then(|b| <[u8; 64]>::try_from(b).ok())
        else {
            return false;
        };
        self.0
            .multipart_verify(parts, &Signature::from_bytes(&bytes))
            .is_ok()
    }
}

impl DistrictKey {
    /// A key from its 32 secret bytes (tests build fixed keys with it).
    pub fn from_seed(seed: [u8; 32]) -> DistrictKey {
        DistrictKey {
            signing: SigningKey::from_bytes(&seed),
        }
    }

    /// The public half.
    pub fn public(&self) -> PublicKey {
        PublicKey(self.signing.verifying_key())
    }

    /// The signature of `message`, 128 hex digits.
    pub fn sign(&self, message: &[u8]) -> String {
        hex::encode(self.signing.sign(message).to_bytes())
    }

    /// The signature of the message made of `parts` in order (the same as [`Self::sign`]
    /// of their concatenation, without building it).
    pub fn sign_parts(&self, parts: &[&[u8]]) -> String {
        use ed25519_dalek::ed25519::signature::MultipartSigner;
        hex::encode(self.signing.multipart_sign(parts).to_bytes())
    }

    /// Reads the key at `path`; refuses a file others can read.
    pub fn load(path: &Path) -> Result<DistrictKey, KeyError> {
        let io = |source| KeyError::Io {
            path: path.to_path_buf(),
            source,
        };
        let bad = |reason: &str| KeyError::Malformed {
            path: path.to_path_buf(),
            reason: reason.to_string(),
        };
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(path).map_err(io)?.permissions().mode() & 0o777;
            if mode & 0o077 != 0 {
                return Err(KeyError::Exposed {
                    path: path.to_path_buf(),
                    mode,
                });
            }
        }
        let text = std::fs::read_to_string(path).map_err(io)?;
        let mut lines = text.lines().filter(|l| !l.starts_with('#'));
        if lines.next().map(str::trim) != Some(KEY_HEADER) {
            return Err(bad(&format!("its first line is not {KEY_HEADER}")));
        }
        let seed: [u8; 32] = lines
            .next()
            .and_then(|l| hex::decode(l.trim()).ok())
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| bad("its second line is not 64 hex digits"))?;
        Ok(DistrictKey::from_seed(seed))
    }

    /// Reads the key at `path`, creating it (0600, from the kernel's random generator) when
    /// there is none. Returns the key and whether it was created.
    pub fn load_or_create(path: &Path) -> Result<(DistrictKey, bool), KeyError> {
        if path.exists() {
            return Ok((DistrictKey::load(path)?, false));
        }
        let io = |source| KeyError::Io {
            path: path.to_path_buf(),
            source,
        };
        let mut seed = [0u8; 32];
        {
            use std::io::Read;
            std::fs::File::open("/dev/urandom")
                .and_then(|mut f| f.read_exact(&mut seed))
                .map_err(io)?;
        }
        let key = DistrictKey::from_seed(seed);
        let text = format!(
            "{KEY_HEADER}\n{}\n# The district's airlog signing key (Ed25519). Keep it secret and back it up;\n# public key {}\n# fingerprint {}\n",
            hex::encode(seed),
            key.public().hex(),
            key.public().fingerprint()
        );
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        write_private(path, text.as_bytes()).map_err(io)?;
        Ok((key, true))
    }
}

/// Loads the district key the config names, creating it when there is none (the first start
/// of a data dir made before keys existed), for playout to sign chain heads with
/// (`crate::playout::Settings::signed_by`).
pub fn load_for_playout(config: &crate::config::Config) -> Result<DistrictKey, KeyError> {
    let (key, created) = DistrictKey::load_or_create(&config.signing_key)?;
    if created {
        tracing::warn!(
            path = %config.signing_key.display(),
            fingerprint = %key.public().fingerprint(),
            "created the district's airlog signing key; back it up"
        );
    }
    Ok(key)
}

/// Writes a new file only its owner can read and write (0600), durably: a temporary file
/// beside it, synced, then renamed into place. Refuses to replace an existing file.
pub fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty());
    let dir = dir.unwrap_or(Path::new("."));
    let tmp = dir.join(format!(
        ".{}.tmp",
        path.file_name().unwrap_or_default().to_string_lossy()
    ));
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(&tmp)?;
    #[cfg(unix)]
    {
        // A leftover temporary file keeps its old mode through `open`: set it again.
        use std::os::unix::fs::PermissionsExt;
        f.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    f.write_all(bytes)?;
    f.sync_all()?;
    drop(f);
    if path.exists() {
        let _ = std::fs::remove_file(&tmp);
        return Err(std::io::Error::new(
            std::io::ErrorKind::AlreadyExists,
            "the file already exists",
        ));
    }
    std::fs::rename(&tmp, path)?;
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_created_key_is_private_reads_back_and_signs_what_its_public_half_verifies() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys/airlog.key");
        let (key, created) = DistrictKey::load_or_create(&path).unwrap();
        assert!(created);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
        let (again, created) = DistrictKey::load_or_create(&path).unwrap();
        assert!(!created);
        assert_eq!(again.public(), key.public());
        let sig = key.sign(b"head");
        assert!(key.public().verifies(b"head", &sig));
        assert!(!key.public().verifies(b"head2", &sig));
        assert!(!key.public().verifies(b"head", "00"));
        let printed = format!("{key:?}");
        assert!(!printed.contains(&hex::encode(key.signing.to_bytes())));
    }

    #[test]
    fn a_key_readable_by_others_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("airlog.key");
        DistrictKey::load_or_create(&path).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
            assert!(matches!(
                DistrictKey::load(&path),
                Err(KeyError::Exposed { .. })
            ));
        }
    }

    #[test]
    fn signatures_match_rfc_8032_test_vector_1() {
        // RFC 8032, section 7.1, TEST 1 (the empty message).
        let seed: [u8; 32] =
            hex::decode("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
                .unwrap()
                .try_into()
                .unwrap();
        let key = DistrictKey::from_seed(seed);
        assert_eq!(
            key.public().hex(),
            "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
        );
        assert_eq!(key.sign(b""), "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b");
    }
}
