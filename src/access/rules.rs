//! The confinement rule (issue 13, point 2), pure: which stations an account may see and
//! which actions it may take there. The web layer filters its queries by [`Scope`] and
//! asks [`decide`] before acting; a station outside the scope is [`Decision::Hidden`], so
//! it answers 404 as if it did not exist, never 403.

use super::{Action, Role, User};

/// The stations an account may see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope<'a> {
    /// Every station (admin, operator, viewer).
    All,
    /// Only these (a commune account's).
    Only(&'a [String]),
    /// None (a disabled account).
    Nothing,
}

impl Scope<'_> {
    /// Whether `station` is in the scope.
    pub fn sees(&self, station: &str) -> bool {
        match self {
            Scope::All => true,
            Scope::Only(codes) => codes.iter().any(|c| c == station),
            Scope::Nothing => false,
        }
    }

    /// The stations of `all` in the scope, in their order.
    pub fn filter<'s, S: AsRef<str>>(&self, all: &'s [S]) -> Vec<&'s str> {
        all.iter()
            .map(AsRef::as_ref)
            .filter(|s| self.sees(s))
            .collect()
    }
}

/// The stations `user` may see.
pub fn scope(user: &User) -> Scope<'_> {
    if user.disabled() {
        Scope::Nothing
    } else if user.grant.role.is_confined() {
        Scope::Only(&user.grant.stations)
    } else {
        Scope::All
    }
}

/// What the rule says about one action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Go ahead.
    Allowed,
    /// The account sees the station (or the action names none) but its role may not do this
    /// (403).
    Forbidden,
    /// The station is outside the account's scope: answer as if it did not exist (404).
    Hidden,
}

/// Whether `role` may take `action` at all (on a station it sees).
pub fn role_may(role: Role, action: Action) -> bool {
    use Action::*;
    match action {
        // Everyone logs in and out; a failed login is recorded, not permitted.
        Login | Logout | LoginFailed => true,
        UserAdd | UserPasswd | UserDisable | TokenIssue => role == Role::Admin,
        BulletinUpload | Play | Skip | Stop | Urgent | Announce | AnnounceCancel => {
            role != Role::Viewer
        }
        ReportDownload => true,
        Approve | Retire | Remove | Edit | ScheduleBuild | Pin | Unpin | Lock | Unlock => {
            matches!(role, Role::Admin | Role::Operator)
        }
    }
}

/// Whether `user` may take `action`, at `station` when the action is about one. A commune
/// account's actions are always about one of its stations: one that names none is
/// forbidden. A disabled account may do nothing.
pub fn decide(user: &User, action: Action, station: Option<&str>) -> Decision {
    let scope = scope(user);
    if let Some(code) = station {
        if !scope.sees(code) {
            return Decision::Hidden;
        }
    }
    let allowed = match scope {
        Scope::Nothing => false,
        Scope::Only(_) => station.is_some() && role_may(user.grant.role, action),
        Scope::All => role_may(user.grant.role, action),
    };
    if allowed {
        Decision::Allowed
    } else {
        Decision::Forbidden
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::{Grant, UserName};
    use Decision::*;

    fn user(role: Role, stations: &[&str]) -> User {
        let at = chrono::DateTime::UNIX_EPOCH;
        User {
            name: UserName::parse("Thử").unwrap(),
            grant: Grant::new(
                role,
                &stations.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
            )
            .unwrap(),
            disabled_at: None,
            created_by: "admin".into(),
            created_at: at,
            updated_by: "admin".into(),
            updated_at: at,
        }
    }

    const STATIONS: [&str; 3] = ["huyen", "vinh-an", "vinh-tien"];

    #[test]
    fn admin_operator_and_viewer_see_every_station() {
        for role in [Role::Admin, Role::Operator, Role::Viewer] {
            let u = user(role, &[]);
            assert_eq!(scope(&u).filter(&STATIONS), STATIONS.to_vec(), "{role}");
        }
    }

    #[test]
    fn a_commune_user_sees_only_its_named_stations() {
        let u = user(Role::Commune, &["vinh-an"]);
        assert_eq!(scope(&u).filter(&STATIONS), vec!["vinh-an"]);
        assert!(!scope(&u).sees("vinh-tien"));
    }

    #[test]
    fn a_disabled_user_sees_nothing_and_may_do_nothing() {
        let mut u = user(Role::Admin, &[]);
        u.disabled_at = Some(chrono::DateTime::UNIX_EPOCH);
        assert!(scope(&u).filter(&STATIONS).is_empty());
        assert_eq!(decide(&u, Action::Approve, None), Forbidden);
        assert_eq!(decide(&u, Action::Play, Some("vinh-an")), Hidden);
    }

    #[test]
    fn a_commune_user_runs_playout_on_its_station_and_another_station_is_hidden() {
        let u = user(Role::Commune, &["vinh-an"]);
        for a in [
            Action::Play,
            Action::Skip,
            Action::Stop,
            Action::Urgent,
            Action::Announce,
            Action::AnnounceCancel,
            Action::BulletinUpload,
            Action::ReportDownload,
        ] {
            assert_eq!(decide(&u, a, Some("vinh-an")), Allowed, "{a}");
            assert_eq!(decide(&u, a, Some("vinh-tien")), Hidden, "{a}");
        }
    }

    #[test]
    fn a_commune_user_may_not_approve_build_pin_lock_or_manage_users_even_on_its_station() {
        let u = user(Role::Commune, &["vinh-an"]);
        for a in [
            Action::Approve,
            Action::Retire,
            Action::Remove,
            Action::Edit,
            Action::ScheduleBuild,
            Action::Pin,
            Action::Unpin,
            Action::Lock,
            Action::Unlock,
            Action::UserAdd,
            Action::TokenIssue,
        ] {
            assert_eq!(decide(&u, a, Some("vinh-an")), Forbidden, "{a}");
        }
    }

    #[test]
    fn a_commune_action_that_names_no_station_is_forbidden() {
        let u = user(Role::Commune, &["vinh-an"]);
        assert_eq!(decide(&u, Action::Play, None), Forbidden);
        assert_eq!(decide(&u, Action::ReportDownload, None), Forbidden);
    }

    #[test]
    fn a_viewer_only_reads_and_downloads_reports_for_every_station() {
        let u = user(Role::Viewer, &[]);
        for a in Action::ALL {
            let expected = match a {
                Action::ReportDownload | Action::Login | Action::Logout | Action::LoginFailed => {
                    Allowed
                }
                _ => Forbidden,
            };
            assert_eq!(decide(&u, *a, Some("vinh-tien")), expected, "{a}");
        }
    }

    #[test]
    fn an_operator_does_everything_but_manage_users_at_every_station() {
        let u = user(Role::Operator, &[]);
        for a in Action::ALL {
            let users = matches!(
                a,
                Action::UserAdd | Action::UserPasswd | Action::UserDisable | Action::TokenIssue
            );
            let expected = if users { Forbidden } else { Allowed };
            assert_eq!(decide(&u, *a, Some("vinh-tien")), expected, "{a}");
            assert_eq!(decide(&u, *a, None), expected, "{a}");
        }
    }

    #[test]
    fn an_admin_may_take_every_action_anywhere() {
        let u = user(Role::Admin, &[]);
        for a in Action::ALL {
            assert_eq!(decide(&u, *a, Some("huyen")), Allowed, "{a}");
            assert_eq!(decide(&u, *a, None), Allowed, "{a}");
        }
    }
}
