//! Claims on stations: one daemon plays a station at a time. On PostgreSQL (a central
//! server several machines share) a daemon holds a session advisory lock per station on a
//! connection of its own for as long as it plays; a second daemon for any of the same
//! stations is refused, told who holds it (the holder's `application_name`, which says its
//! PID, host and control API). The embedded SQLite database lives in one data dir, whose
//! lock file ([`crate::daemon::lock`]) already keeps a second daemon out, so its claim
//! holds nothing.

use sha2::{Digest, Sha256};

/// The first key of every loa station lock (`"loa"` in ASCII): keeps loa's advisory locks
/// apart from other applications' on the same database.
pub(crate) const LOCK_CLASS: i32 = 0x006c_6f61;

/// A station's advisory lock key: the first 31 bits of SHA-256 over its code (non-negative,
/// so `pg_locks.objid` shows it as written).
pub(crate) fn station_key(code: &str) -> i32 {
    let d = Sha256::digest(format!("loa station\u{1f}{code}").as_bytes());
    i32::from_be_bytes([d[0], d[1], d[2], d[3]]) & 0x7fff_ffff
}

/// PostgreSQL keeps at most 63 bytes of an `application_name`; cut on a character
/// boundary so the holder reads cleanly.
pub(crate) fn application_name(holder: &str) -> String {
    let mut out = String::new();
    for c in holder.chars().filter(|c| !c.is_control()) {
        if out.len() + c.len_utf8() > 63 {
            break;
        }
        out.push(c);
    }
    out
}

/// A daemon's hold on its stations, kept until [`StationClaim::release`] or drop (closing
/// the connection ends the session, which releases its locks).
#[derive(Debug)]
pub struct StationClaim {
    /// The connection whose session holds the locks (none on SQLite).
    conn: Option<sqlx::PgConnection>,
}

impl StationClaim {
    /// A claim that holds nothing (SQLite: the data dir lock covers it).
    pub(crate) fn none() -> StationClaim {
        StationClaim { conn: None }
    }

    /// A claim held by `conn`'s session.
    pub(crate) fn held_by(conn: sqlx::PgConnection) -> StationClaim {
        StationClaim { conn: Some(conn) }
    }

    /// Whether a database session holds locks for this claim.
    pub fn holds_locks(&self) -> bool {
        self.conn.is_some()
    }

    /// Lets the stations go (at a clean stop).
    pub async fn release(self) {
        if let Some(mut conn) = self.conn {
            use sqlx::Connection;
            // Unlocked before the session ends, so the next daemon finds them free at once.
            let _ = sqlx::query("SELECT pg_advisory_unlock_all()")
                .execute(&mut conn)
                .await;
            let _ = conn.close().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn station_keys_are_stable_non_negative_and_differ_between_stations() {
        let a = station_key("vinh-an");
        assert!(a >= 0);
        assert_eq!(a, station_key("vinh-an"));
        assert_ne!(a, station_key("vinh-hung"));
    }

    #[test]
    fn an_application_name_is_cut_to_63_bytes_on_a_character_boundary() {
        let long = "loa serve PID 123 trên máy Phòng Văn hóa – Thông tin huyện Vĩnh Lộc";
        let cut = application_name(long);
        assert!(cut.len() <= 63, "{}", cut.len());
        assert!(long.starts_with(&cut));
        assert_eq!(application_name("a\nb"), "ab");
    }
}
