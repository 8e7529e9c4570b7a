//! Account changes over a store, each with its audit entry: the one path `loa user` and the
//! console's **Người dùng** page both take (add, set a password, disable, issue a token).
//! The caller says who acts through `draft` (the command line's configured operator, or
//! the console's user with role and address); the entry records the change's before and
//! after where it applies. Never a password or a token in it.

use crate::access::audit::AuditDraft;
use crate::access::password::{Password, SecretError, SecretToken};
use crate::access::{AccountError, Action, Grant, Role, UnknownRole, User, UserName};
use crate::store::users::{NewUser, UserError};
use crate::store::{Store, StoreError};

/// Why an account change was refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum ChangeError {
    /// A bad name or stations.
    #[error(transparent)]
    Account(#[from] AccountError),
    /// A role that is none of the four.
    #[error(transparent)]
    Role(#[from] UnknownRole),
    /// A password that breaks the rules (or the random source failed).
    #[error(transparent)]
    Secret(#[from] SecretError),
    /// An unknown, duplicate or disabled account.
    #[error(transparent)]
    User(UserError),
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<UserError> for ChangeError {
    fn from(e: UserError) -> ChangeError {
        match e {
            UserError::Store(e) => ChangeError::Store(e),
            e => ChangeError::User(e),
        }
    }
}

impl ChangeError {
    /// Whether the input was at fault (the CLI exits 2, the console answers 400).
    pub fn is_input(&self) -> bool {
        !matches!(self, ChangeError::Store(_))
    }

    /// The sentence in Vietnamese, for the console.
    pub fn vi(&self) -> String {
        use AccountError as A;
        match self {
            ChangeError::Account(A::EmptyName) => "Tên đăng nhập đang trống.".into(),
            ChangeError::Account(A::LongName(n)) => {
                format!("Tên '{n}' dài quá {} ký tự.", super::MAX_NAME_CHARS)
            }
            ChangeError::Account(A::ControlInName(n)) => {
                format!("Tên '{n}' có ký tự điều khiển.")
            }
            ChangeError::Account(A::BadStation(s)) => {
                format!("'{s}' không phải mã đài (chữ thường, số và dấu '-', ví dụ vinh-hung).")
            }
            ChangeError::Account(A::CommuneWithoutStation) => {
                "Người dùng vai trò xã cần ít nhất một đài.".into()
            }
            ChangeError::Account(A::StationsForUnconfined(r)) => format!(
                "Vai trò {} xem mọi đài; không ghi đài cho vai trò này.",
                r.label_vi()
            ),
            ChangeError::Role(UnknownRole(r)) => format!("'{r}' không phải một vai trò."),
            ChangeError::Secret(SecretError::Short(n)) => format!(
                "Mật khẩu có {n} ký tự; cần ít nhất {}.",
                crate::access::password::MIN_PASSWORD_CHARS
            ),
            ChangeError::Secret(SecretError::Long(n)) => format!(
                "Mật khẩu có {n} ký tự; tối đa {}.",
                crate::access::password::MAX_PASSWORD_CHARS
            ),
            ChangeError::Secret(SecretError::Empty | SecretError::SeveralLines) => {
                "Mật khẩu đang trống.".into()
            }
            ChangeError::Secret(_) => "Không tạo được mật khẩu hoặc mã; hãy thử lại.".into(),
            ChangeError::User(UserError::Unknown(n)) => format!("Không có người dùng '{n}'."),
            ChangeError::User(UserError::Duplicate(n)) => {
                format!("Đã có người dùng tên '{n}'.")
            }
            ChangeError::User(UserError::Disabled(n)) => {
                format!("Người dùng '{n}' đã bị khóa; không cấp mã cho người đã khóa.")
            }
            ChangeError::User(UserError::Store(_)) | ChangeError::Store(_) => {
                "Lỗi cơ sở dữ liệu; xem nhật ký máy chủ.".into()
            }
        }
    }
}

/// Who acts: makes the audit entry of `action` on account `name`.
pub type Drafter<'a> = &'a (dyn Fn(Action, &UserName) -> AuditDraft + Send + Sync);

/// Creates an account: `role`, its `stations` (a commune account's), its password.
pub async fn add(
    store: &dyn Store,
    name: &str,
    role: &str,
    stations: &[String],
    password: &Password,
    draft: Drafter<'_>,
) -> Result<User, ChangeError> {
    let name = UserName::parse(name)?;
    let role = Role::try_from(role)?;
    let grant = Grant::new(role, stations)?;
    let hash = password.hash()?;
    let audit = draft(Action::UserAdd, &name).with_change(
        None,
        Some(serde_json::json!({ "role": role.as_str(), "stations": grant.stations })),
    );
    let new = NewUser {
        name,
        grant,
        password_hash: hash,
    };
    Ok(store.add_user(&new, &audit).await?)
}

/// Sets an account's password.
pub async fn set_password(
    store: &dyn Store,
    name: &str,
    password: &Password,
    draft: Drafter<'_>,
) -> Result<(), ChangeError> {
    let name = UserName::parse(name)?;
    let hash = password.hash()?;
    let audit = draft(Action::UserPasswd, &name);
    store.set_password(&name, &hash, &audit).await?;
    Ok(())
}

/// Disables an account: it can no longer log in or use its tokens.
pub async fn disable(
    store: &dyn Store,
    name: &str,
    draft: Drafter<'_>,
) -> Result<User, ChangeError> {
    let name = UserName::parse(name)?;
    let audit = draft(Action::UserDisable, &name).with_change(
        Some(serde_json::json!({ "disabled": false })),
        Some(serde_json::json!({ "disabled": true })),
    );
    Ok(store.disable_user(&name, &audit).await?)
}

/// Issues a new API token for an account; the caller shows it once (only its hash is kept).
pub async fn issue_token(
    store: &dyn Store,
    name: &str,
    draft: Drafter<'_>,
) -> Result<SecretToken, ChangeError> {
    let name = UserName::parse(name)?;
    let token = SecretToken::generate()?;
    let audit = draft(Action::TokenIssue, &name);
    store.add_token(&name, &token.hash(), &audit).await?;
    Ok(token)
}
