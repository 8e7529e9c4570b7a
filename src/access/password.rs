//! Secrets: account passwords (NFC, at least [`MIN_PASSWORD_CHARS`] characters, kept only as
//! an argon2id PHC string) and random tokens (API tokens, web sessions: kept only as their
//! SHA-256). argon2 and the system's random source live in this file only.

use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::Argon2;
use sha2::{Digest, Sha256};

/// The shortest password accepted, in characters.
pub const MIN_PASSWORD_CHARS: usize = 8;
/// The longest, in characters (argon2 hashes any length; this bounds the work).
pub const MAX_PASSWORD_CHARS: usize = 1024;

/// Why a password or token could not be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    /// Nothing was given on stdin.
    #[error(
        "no password on stdin (give it as one line, e.g. from a password manager or `read -rs`)"
    )]
    Empty,
    /// More than one line was given.
    #[error("stdin holds more than one line; give the password as one line")]
    SeveralLines,
    /// The password is too short.
    #[error(
        "the password on stdin has {0} character(s); at least {MIN_PASSWORD_CHARS} are needed"
    )]
    Short(usize),
    /// The password is too long.
    #[error("the password on stdin has {0} characters; at most {MAX_PASSWORD_CHARS} are accepted")]
    Long(usize),
    /// The system's random source failed.
    #[error("the system's random source failed: {0}")]
    Random(String),
    /// argon2 refused (it does not for a valid password).
    #[error("cannot hash the password: {0}")]
    Hash(String),
}

/// A password that meets the rules, NFC (the same word typed on two Vietnamese keyboards is
/// the same password). Never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(…)")
    }
}

impl Password {
    /// The password from what was read on stdin: one line, its line ending stripped.
    pub fn from_stdin(text: &str) -> Result<Password, SecretError> {
        let line = match text.split_once('\n') {
            Some((line, "")) => line,
            Some(_) => return Err(SecretError::SeveralLines),
            None => text,
        };
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.is_empty() {
            return Err(SecretError::Empty);
        }
        Password::parse(line)
    }

    /// A typed password, checked.
    pub fn parse(s: &str) -> Result<Password, SecretError> {
        let p = crate::text::nfc(s);
        match p.chars().count() {
            n if n < MIN_PASSWORD_CHARS => Err(SecretError::Short(n)),
            n if n > MAX_PASSWORD_CHARS => Err(SecretError::Long(n)),
            _ => Ok(Password(p)),
        }
    }

    /// The argon2id PHC string (argon2's default parameters, a random salt).
    pub fn hash(&self) -> Result<String, SecretError> {
        Argon2::default()
            .hash_password(self.0.as_bytes())
            .map(|h| h.to_string())
            .map_err(|e| SecretError::Hash(e.to_string()))
    }
}

/// Whether `typed` is the password `phc` was made from (false for a malformed PHC string).
pub fn password_matches(typed: &str, phc: &str) -> bool {
    Argon2::default()
        .verify_password(crate::text::nfc(typed).as_bytes(), phc)
        .is_ok()
}

/// A new random secret (an API token or a session's cookie): shown once, stored only as
/// [`token_hash`]. Never printed by `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretToken(String);

impl std::fmt::Debug for SecretToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretToken(…)")
    }
}

/// How a token's text starts, so it is recognised when pasted into the wrong place.
pub const TOKEN_PREFIX: &str = "loa_";

impl SecretToken {
    /// 32 bytes from the system's random source, as `loa_` and 64 hex digits.
    pub fn generate() -> Result<SecretToken, SecretError> {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes).map_err(|e| SecretError::Random(e.to_string()))?;
        Ok(SecretToken(format!("{TOKEN_PREFIX}{}", hex::encode(bytes))))
    }

    /// The text to show once.
    pub fn reveal(&self) -> &str {
        &self.0
    }

    /// What is stored.
    pub fn hash(&self) -> String {
        token_hash(&self.0)
    }
}

/// The stored form of a token's text: its SHA-256, hex.
pub fn token_hash(text: &str) -> String {
    hex::encode(Sha256::digest(text.trim().as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_is_one_line_of_stdin_without_its_line_ending() {
        let p = Password::from_stdin("mật khẩu dài\r\n").unwrap();
        assert_eq!(p, Password::parse("mật khẩu dài").unwrap());
        assert!(Password::from_stdin("abcdefgh").is_ok());
    }

    #[test]
    fn empty_stdin_several_lines_and_short_passwords_are_refused() {
        assert_eq!(Password::from_stdin(""), Err(SecretError::Empty));
        assert_eq!(Password::from_stdin("\n"), Err(SecretError::Empty));
        assert_eq!(
            Password::from_stdin("abcdefgh\nijkl\n"),
            Err(SecretError::SeveralLines)
        );
        assert_eq!(Password::from_stdin("ngắn\n"), Err(SecretError::Short(4)));
        assert!(Password::parse(&"a".repeat(1025)).is_err());
    }

    #[test]
    fn a_password_is_counted_in_characters_and_compared_in_nfc() {
        // Seven letters, eleven bytes in NFC: too short.
        assert_eq!(Password::parse("ữữữữữữữ"), Err(SecretError::Short(7)));
        let nfd = "Vie\u{302}\u{323}t Nam 2023";
        let phc = Password::parse(nfd).unwrap().hash().unwrap();
        assert!(phc.starts_with("$argon2id$"), "{phc}");
        assert!(password_matches("Việt Nam 2023", &phc));
        assert!(!password_matches("Viet Nam 2023", &phc));
        assert!(!password_matches("Việt Nam 2023", "not a phc string"));
    }

    #[test]
    fn tokens_are_random_and_stored_only_as_their_hash() {
        let a = SecretToken::generate().unwrap();
        let b = SecretToken::generate().unwrap();
        assert_ne!(a, b);
        assert!(a.reveal().starts_with(TOKEN_PREFIX));
        assert_eq!(a.reveal().len(), TOKEN_PREFIX.len() + 64);
        assert_eq!(a.hash(), token_hash(a.reveal()));
        assert!(!a.hash().contains(&a.reveal()[TOKEN_PREFIX.len()..]));
        assert_eq!(format!("{a:?}"), "SecretToken(…)");
        assert_eq!(
            format!("{:?}", Password::parse("abcdefgh").unwrap()),
            "Password(…)"
        );
    }
}
