//! `GET /api/v1/stations`: the plan's stations the caller may see, and whether this daemon
//! plays each (a commune machine plays a station whose output is `agent`). The list is
//! confined where it is read ([`visible`]), so a commune user never learns another
//! station's code.

use axum::extract::State;
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

use crate::plan::{Level, Output, Plan};
use crate::text::cmp_vi;

use super::super::auth::Caller;
use super::super::{ApiError, AppState};
use super::{ApiCaller, ErrorBody};

/// District or commune.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum StationLevel {
    /// Đài Truyền thanh huyện.
    District,
    /// Đài truyền thanh xã / thị trấn.
    Commune,
}

/// One station as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct StationInfo {
    /// Its code, e.g. `vinh-an`.
    pub code: String,
    /// Its Vietnamese name.
    pub name: String,
    /// District or commune.
    pub level: StationLevel,
    /// The zone its slots and times are in (IANA name).
    pub timezone: String,
    /// Whether this daemon plays it (else a commune machine does, or nobody here).
    pub played_here: bool,
    /// Whether a commune machine plays it (`output = "agent"`).
    pub agent: bool,
}

/// The stations of `plan` that `caller` sees: the district station first, then the
/// communes in Vietnamese order of their names. `played` says which this daemon plays.
pub fn visible(plan: &Plan, caller: &Caller, played: impl Fn(&str) -> bool) -> Vec<StationInfo> {
    let mut out: Vec<StationInfo> = plan
        .stations
        .iter()
        .filter(|s| caller.sees(&s.code))
        .map(|s| StationInfo {
            code: s.code.clone(),
            name: s.name.clone(),
            level: match s.level {
                Level::District => StationLevel::District,
                Level::Commune => StationLevel::Commune,
            },
            timezone: s.timezone.name().to_string(),
            played_here: played(&s.code),
            agent: s.output == Output::Agent,
        })
        .collect();
    out.sort_by(|a, b| {
        (a.level == StationLevel::Commune)
            .cmp(&(b.level == StationLevel::Commune))
            .then_with(|| cmp_vi(&a.name, &b.name))
            .then_with(|| a.code.cmp(&b.code))
    });
    out
}

/// The stations the caller may see.
#[utoipa::path(
    get,
    path = "/api/v1/stations",
    tag = "stations",
    responses(
        (status = 200, description = "The stations the caller may see", body = [StationInfo]),
        (status = 401, description = "No or a wrong token or session", body = ErrorBody),
    )
)]
pub async fn list(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
) -> Result<Json<Vec<StationInfo>>, ApiError> {
    Ok(Json(visible(&state.plan, &caller, |c| {
        state.stations.contains_key(c)
    })))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::{Grant, Role, User, UserName};

    fn plan() -> Plan {
        let text = "[plan]\nname = \"Thử\"\nyear = 2026\n\n\
            [[station]]\ncode = \"vinh-tien\"\nname = \"Xã Vĩnh Tiến\"\nlevel = \"commune\"\n\n\
            [[station]]\ncode = \"vinh-an\"\nname = \"Xã Vĩnh An\"\nlevel = \"commune\"\n\
            output = \"agent\"\n\n\
            [[station]]\ncode = \"huyen\"\nname = \"Đài huyện\"\nlevel = \"district\"\n\n\
            [[slot]]\nname = \"Sáng\"\nstations = [\"all\"]\ncron = \"30 5 * * *\"\n\
            length = \"10m\"\ncchc = \"5m\"\n";
        crate::plan::validate::check(text, "p.toml").expect("the test plan is valid")
    }

    fn user(role: Role, stations: &[&str]) -> Caller {
        let at = chrono::DateTime::UNIX_EPOCH;
        let stations: Vec<String> = stations.iter().map(|s| s.to_string()).collect();
        Caller::User {
            user: User {
                name: UserName::parse("Thử").unwrap(),
                grant: Grant::new(role, &stations).unwrap(),
                disabled_at: None,
                created_by: "t".into(),
                created_at: at,
                updated_by: "t".into(),
                updated_at: at,
            },
            session: None,
        }
    }

    #[test]
    fn an_operator_sees_the_district_first_then_the_communes_in_vietnamese_order() {
        let got = visible(&plan(), &user(Role::Operator, &[]), |c| c == "huyen");
        let codes: Vec<&str> = got.iter().map(|s| s.code.as_str()).collect();
        assert_eq!(codes, ["huyen", "vinh-an", "vinh-tien"]);
        assert!(got[0].played_here && !got[1].played_here);
        assert!(got[1].agent && !got[2].agent);
        assert_eq!(got[0].timezone, "Asia/Ho_Chi_Minh");
    }

    #[test]
    fn a_commune_user_sees_only_its_own_station() {
        let got = visible(&plan(), &user(Role::Commune, &["vinh-tien"]), |_| true);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].code, "vinh-tien");
    }
}
