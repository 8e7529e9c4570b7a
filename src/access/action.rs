//! The actions the audit records (and [`super::rules`] permits): a fixed set, stored by
//! name. New actions are added at the end of the table; a stored name is never changed,
//! since entries already hashed carry it.

use std::fmt;

/// Declares [`Action`] with its stored names and Vietnamese labels in one table.
macro_rules! actions {
    ($($(#[$doc:meta])* $v:ident = $name:literal, $vi:literal;)*) => {
        /// Something an operator did (or tried: a failed login).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
        #[serde(rename_all = "snake_case")]
        pub enum Action {
            $($(#[$doc])* $v,)*
        }

        impl Action {
            /// Every action, in table order.
            pub const ALL: &'static [Action] = &[$(Action::$v,)*];

            /// The stored name.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Action::$v => $name,)*
                }
            }

            /// What it is called in Vietnamese.
            pub fn label_vi(self) -> &'static str {
                match self {
                    $(Action::$v => $vi,)*
                }
            }
        }
    };
}

actions! {
    /// Logged in to the console.
    Login = "login", "đăng nhập";
    /// A login refused (wrong password, unknown or disabled account).
    LoginFailed = "login_failed", "đăng nhập thất bại";
    /// Logged out.
    Logout = "logout", "đăng xuất";
    /// Created an account.
    UserAdd = "user_add", "thêm người dùng";
    /// Set an account's password.
    UserPasswd = "user_passwd", "đổi mật khẩu";
    /// Disabled an account.
    UserDisable = "user_disable", "khóa người dùng";
    /// Issued an API token.
    TokenIssue = "token_issue", "cấp mã API";
    /// Uploaded a bulletin.
    BulletinUpload = "bulletin_upload", "tải lên bản tin";
    /// Approved a bulletin.
    Approve = "approve", "duyệt";
    /// Retired a bulletin.
    Retire = "retire", "ngừng sử dụng";
    /// Removed a bulletin.
    Remove = "remove", "xóa";
    /// Corrected a bulletin's metadata.
    Edit = "edit", "sửa thông tin";
    /// Built or rebuilt a week's schedule.
    ScheduleBuild = "schedule_build", "lập lịch";
    /// Pinned a bulletin into a slot.
    Pin = "pin", "ghim";
    /// Took a pin out.
    Unpin = "unpin", "bỏ ghim";
    /// Locked a week.
    Lock = "lock", "khóa lịch";
    /// Unlocked a week.
    Unlock = "unlock", "mở khóa lịch";
    /// Played a bulletin now.
    Play = "play", "phát ngay";
    /// Skipped the item on air.
    Skip = "skip", "bỏ qua";
    /// Stopped the slot on air.
    Stop = "stop", "dừng";
    /// Sent an urgent announcement.
    Urgent = "urgent", "thông báo khẩn";
    /// Downloaded a report or export.
    ReportDownload = "report_download", "tải báo cáo";
    /// Sent a normal or priority announcement (it waits for the next slot instance; an
    /// emergency one is recorded as [`Action::Urgent`]).
    Announce = "announce", "gửi thông báo";
    /// Cancelled an announcement that waited for its slot.
    AnnounceCancel = "announce_cancel", "hủy thông báo";
}

/// A stored action name that is not in the table.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{0}' is not an audited action")]
pub struct UnknownAction(pub String);

impl TryFrom<&str> for Action {
    type Error = UnknownAction;
    fn try_from(s: &str) -> Result<Action, UnknownAction> {
        Action::ALL
            .iter()
            .copied()
            .find(|a| a.as_str() == s)
            .ok_or_else(|| UnknownAction(s.to_string()))
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_action_reads_back_from_its_stored_name_and_names_are_unique() {
        let mut names: Vec<&str> = Action::ALL.iter().map(|a| a.as_str()).collect();
        for a in Action::ALL {
            assert_eq!(Action::try_from(a.as_str()), Ok(*a));
            assert_eq!(
                serde_json::to_value(a).unwrap(),
                serde_json::json!(a.as_str())
            );
        }
        names.sort();
        names.dedup();
        assert_eq!(names.len(), Action::ALL.len());
    }

    #[test]
    fn an_unknown_action_name_is_refused_naming_it() {
        let err = Action::try_from("format_disk").unwrap_err();
        assert!(err.to_string().contains("'format_disk'"), "{err}");
    }
}
