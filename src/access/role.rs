//! The four console roles (issue 13): what a role is called, stored and shown as. What
//! each may do is decided in [`super::rules`].

use std::fmt;

/// A console account's role.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Everything, users included.
    Admin,
    /// The district operator: library, approval, schedules, playout control and reports for
    /// every station.
    Operator,
    /// A commune operator: only the stations named on the account.
    Commune,
    /// Phòng Nội vụ: reads the airlog, compliance and reports of every station; changes
    /// nothing.
    Viewer,
}

/// A role name that is none of the four.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{0}' is not a role (expected admin, operator, commune or viewer)")]
pub struct UnknownRole(pub String);

impl Role {
    /// Every role, most powerful first.
    pub const ALL: [Role; 4] = [Role::Admin, Role::Operator, Role::Commune, Role::Viewer];

    /// The stored and typed name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Operator => "operator",
            Role::Commune => "commune",
            Role::Viewer => "viewer",
        }
    }

    /// The Vietnamese name shown to people.
    pub fn label_vi(self) -> &'static str {
        match self {
            Role::Admin => "quản trị",
            Role::Operator => "điều hành (huyện)",
            Role::Commune => "xã",
            Role::Viewer => "xem (Phòng Nội vụ)",
        }
    }

    /// Whether accounts of this role are confined to the stations named on them.
    pub fn is_confined(self) -> bool {
        self == Role::Commune
    }
}

impl TryFrom<&str> for Role {
    type Error = UnknownRole;
    fn try_from(s: &str) -> Result<Role, UnknownRole> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s.trim())
            .ok_or_else(|| UnknownRole(s.to_string()))
    }
}

impl std::str::FromStr for Role {
    type Err = UnknownRole;
    fn from_str(s: &str) -> Result<Role, UnknownRole> {
        Role::try_from(s)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_role_reads_back_from_its_stored_name() {
        for r in Role::ALL {
            assert_eq!(Role::try_from(r.as_str()), Ok(r));
            assert_eq!(r.to_string(), r.as_str());
        }
    }

    #[test]
    fn an_unknown_role_is_refused_naming_the_value() {
        let err = Role::try_from("superuser").unwrap_err();
        assert_eq!(err, UnknownRole("superuser".into()));
        assert!(err.to_string().contains("'superuser'"), "{err}");
        assert!(Role::try_from("Admin").is_err(), "roles are lower-case");
        assert!(Role::try_from("").is_err());
    }

    #[test]
    fn only_the_commune_role_is_confined_to_named_stations() {
        let confined: Vec<Role> = Role::ALL.into_iter().filter(|r| r.is_confined()).collect();
        assert_eq!(confined, vec![Role::Commune]);
    }
}
