//! Console accounts, their roles and the audit trail (issue 13, point 2): who may see which
//! stations and take which actions ([`rules`], the one place that decides), passwords and
//! tokens ([`password`]), the hash-chained record of every operator action ([`audit`]), the
//! login rate limit ([`limit`]) and the session and CSRF rules of the console ([`session`]).
//! [`accounts`] changes accounts over a store for the CLI and the console; the rest is
//! pure: the store keeps users and entries ([`crate::store::UserStore`],
//! [`crate::store::AuditStore`]), the CLI and the coming web console call these.

pub mod accounts;
pub mod action;
pub mod audit;
pub mod limit;
pub mod password;
pub mod role;
pub mod rules;
pub mod session;

use chrono::{DateTime, Utc};

pub use action::Action;
pub use role::{Role, UnknownRole};
pub use rules::{Decision, Scope};

/// The longest account name, in characters.
pub const MAX_NAME_CHARS: usize = 64;

/// Why an account's name or stations are refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AccountError {
    /// The name is empty after trimming.
    #[error("a user name cannot be empty")]
    EmptyName,
    /// The name is too long.
    #[error("user name '{0}' is longer than {MAX_NAME_CHARS} characters")]
    LongName(String),
    /// The name holds a control character (a tab, a newline …).
    #[error("user name '{0}' contains a control character")]
    ControlInName(String),
    /// A station code is malformed.
    #[error("'{0}' is not a station code (lower-case letters, digits and '-', e.g. vinh-hung)")]
    BadStation(String),
    /// A commune account names no station.
    #[error("a commune user needs at least one --station (the stations it runs)")]
    CommuneWithoutStation,
    /// Another role was given stations.
    #[error("a {0} user sees every station and takes no --station (only commune users are confined to stations)")]
    StationsForUnconfined(Role),
}

/// An account name: NFC, trimmed, 1 to [`MAX_NAME_CHARS`] characters, no control characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(transparent)]
pub struct UserName(String);

impl UserName {
    /// Checks and normalises a typed name.
    pub fn parse(s: &str) -> Result<UserName, AccountError> {
        let name = crate::text::nfc(s.trim());
        if name.is_empty() {
            return Err(AccountError::EmptyName);
        }
        if name.chars().count() > MAX_NAME_CHARS {
            return Err(AccountError::LongName(name));
        }
        if name.chars().any(char::is_control) {
            return Err(AccountError::ControlInName(name.escape_debug().to_string()));
        }
        Ok(UserName(name))
    }

    /// The name as stored.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for UserName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// What an account may reach: its role and, for a commune account, its stations (checked
/// against each other: a commune account names at least one station, the others none).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Grant {
    /// The role.
    pub role: Role,
    /// The stations a commune account runs, sorted, without repeats; empty for the others.
    pub stations: Vec<String>,
}

impl Grant {
    /// A role with the stations given for it.
    pub fn new(role: Role, stations: &[String]) -> Result<Grant, AccountError> {
        let mut codes: Vec<String> = Vec::new();
        for s in stations {
            let code = s.trim();
            if !crate::library::service::is_station_code(code) {
                return Err(AccountError::BadStation(s.clone()));
            }
            codes.push(code.to_string());
        }
        codes.sort();
        codes.dedup();
        match (role.is_confined(), codes.is_empty()) {
            (true, true) => Err(AccountError::CommuneWithoutStation),
            (false, false) => Err(AccountError::StationsForUnconfined(role)),
            _ => Ok(Grant {
                role,
                stations: codes,
            }),
        }
    }
}

/// A console account as stored (its password hash is read apart, only where a login checks
/// it).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct User {
    /// The account name (NFC).
    pub name: UserName,
    /// Role and stations.
    #[serde(flatten)]
    pub grant: Grant,
    /// When it was disabled (a disabled account cannot log in or use its tokens).
    pub disabled_at: Option<DateTime<Utc>>,
    /// Who created it.
    pub created_by: String,
    /// When.
    pub created_at: DateTime<Utc>,
    /// Who changed it last (password, disabling).
    pub updated_by: String,
    /// When.
    pub updated_at: DateTime<Utc>,
}

impl User {
    /// Whether the account is disabled.
    pub fn disabled(&self) -> bool {
        self.disabled_at.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_user_name_is_trimmed_and_stored_in_nfc() {
        let decomposed = "Nguye\u{302}\u{303}n Va\u{306}n An";
        let name = UserName::parse(&format!("  {decomposed} ")).unwrap();
        assert_eq!(name.as_str(), "Nguyễn Văn An");
    }

    #[test]
    fn an_empty_long_or_control_character_name_is_refused() {
        assert_eq!(UserName::parse("   "), Err(AccountError::EmptyName));
        assert!(matches!(
            UserName::parse(&"ữ".repeat(65)),
            Err(AccountError::LongName(_))
        ));
        assert!(UserName::parse(&"ữ".repeat(64)).is_ok());
        let err = UserName::parse("an\tbinh").unwrap_err();
        assert!(err.to_string().contains("an\\tbinh"), "{err}");
    }

    #[test]
    fn a_commune_grant_needs_a_station_and_the_other_roles_take_none() {
        assert_eq!(
            Grant::new(Role::Commune, &[]),
            Err(AccountError::CommuneWithoutStation)
        );
        for role in [Role::Admin, Role::Operator, Role::Viewer] {
            assert_eq!(
                Grant::new(role, &["vinh-an".into()]),
                Err(AccountError::StationsForUnconfined(role))
            );
            assert_eq!(
                Grant::new(role, &[]).unwrap().stations,
                Vec::<String>::new()
            );
        }
    }

    #[test]
    fn a_commune_grant_keeps_its_stations_sorted_once_and_refuses_a_bad_code() {
        let g = Grant::new(
            Role::Commune,
            &["vinh-tien".into(), "vinh-an".into(), "vinh-tien".into()],
        )
        .unwrap();
        assert_eq!(g.stations, vec!["vinh-an", "vinh-tien"]);
        assert_eq!(
            Grant::new(Role::Commune, &["Vĩnh An".into()]),
            Err(AccountError::BadStation("Vĩnh An".into()))
        );
    }
}
