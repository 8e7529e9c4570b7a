//! `loa user`: console accounts from the server's shell (issue 13, point 2): add, list,
//! passwd, disable, token. Passwords come on stdin only (never as an argument, which `ps`
//! and shell history would show); every change is recorded in the audit trail with the
//! configured operator as its actor.

use std::io::Read;
use std::path::Path;

use clap::Subcommand;

use crate::access::accounts;
use crate::access::audit::AuditDraft;
use crate::access::password::Password;
use crate::access::{Action, Grant, Role, User, UserName};
use crate::clock::{Clock, SystemClock};

use super::output::print_json;
use super::Failure;

/// `loa user` subcommands.
#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create an account; its password is read from stdin (one line).
    Add {
        /// Account name.
        name: String,
        /// admin, operator, commune or viewer.
        #[arg(long)]
        role: String,
        /// The stations a commune account runs (repeat or list several).
        #[arg(long = "station", value_name = "CODE", num_args = 1..)]
        stations: Vec<String>,
        /// Read the password from stdin (required: a password is never an argument).
        #[arg(long, required = true)]
        password_stdin: bool,
    },
    /// List the accounts.
    List {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Set an account's password, read from stdin (one line).
    Passwd {
        /// Account name.
        name: String,
        /// Read the password from stdin (required).
        #[arg(long, required = true)]
        password_stdin: bool,
    },
    /// Disable an account: it can no longer log in or use its tokens.
    Disable {
        /// Account name.
        name: String,
    },
    /// Issue a new API token for an account and print it once (only its hash is kept).
    Token {
        /// Account name.
        name: String,
    },
}

/// Runs a `loa user` command (the changes through [`accounts`], as the console makes them).
pub async fn run(data_dir: &Path, cmd: UserCommand) -> Result<(), Failure> {
    match cmd {
        UserCommand::Add {
            name,
            role,
            stations,
            ..
        } => {
            // Checked before the password is read, so a typo is said at once.
            let typed = UserName::parse(&name).map_err(Failure::input)?;
            let grant = Role::try_from(role.as_str()).map_err(Failure::input)?;
            Grant::new(grant, &stations).map_err(Failure::input)?;
            let password = read_password()?;
            let (config, store) = super::library::open(data_dir).await?;
            let draft = drafter(&config.operator);
            let result = accounts::add(
                store.as_ref(),
                typed.as_str(),
                &role,
                &stations,
                &password,
                &draft,
            )
            .await;
            store.close().await;
            let user = result.map_err(change_failure)?;
            println!(
                "đã thêm người dùng / user added: {} ({})",
                user.name,
                described(&user)
            );
            Ok(())
        }
        UserCommand::List { json } => {
            let (_, store) = super::library::open(data_dir).await?;
            let result = store.users().await;
            store.close().await;
            let mut users = result?;
            users.sort_by(|a, b| crate::text::cmp_vi(a.name.as_str(), b.name.as_str()));
            if json {
                return print_json(&users);
            }
            if users.is_empty() {
                println!("chưa có người dùng / no users yet (loa user add)");
            }
            for u in &users {
                let state = if u.disabled() {
                    "đã khóa / disabled"
                } else {
                    "hoạt động / active"
                };
                println!("{}\t{}\t{state}", u.name, described(u));
            }
            Ok(())
        }
        UserCommand::Passwd { name, .. } => {
            let name = UserName::parse(&name).map_err(Failure::input)?;
            let password = read_password()?;
            let (config, store) = super::library::open(data_dir).await?;
            let draft = drafter(&config.operator);
            let result =
                accounts::set_password(store.as_ref(), name.as_str(), &password, &draft).await;
            store.close().await;
            result.map_err(change_failure)?;
            println!("đã đổi mật khẩu / password changed: {name}");
            Ok(())
        }
        UserCommand::Disable { name } => {
            let name = UserName::parse(&name).map_err(Failure::input)?;
            let (config, store) = super::library::open(data_dir).await?;
            let draft = drafter(&config.operator);
            let result = accounts::disable(store.as_ref(), name.as_str(), &draft).await;
            store.close().await;
            result.map_err(change_failure)?;
            println!("đã khóa người dùng / user disabled: {name}");
            Ok(())
        }
        UserCommand::Token { name } => {
            let name = UserName::parse(&name).map_err(Failure::input)?;
            let (config, store) = super::library::open(data_dir).await?;
            let draft = drafter(&config.operator);
            let result = accounts::issue_token(store.as_ref(), name.as_str(), &draft).await;
            store.close().await;
            let token = result.map_err(change_failure)?;
            eprintln!(
                "mã API mới của {name}, chỉ hiện một lần / new API token for {name}, shown only once:"
            );
            println!("{}", token.reveal());
            Ok(())
        }
    }
}

/// The entries this command records: the configured operator, now.
fn drafter(operator: &str) -> impl Fn(Action, &UserName) -> AuditDraft + Send + Sync + '_ {
    move |action, name| AuditDraft::cli(SystemClock.now(), operator, action, name.as_str())
}

fn change_failure(e: accounts::ChangeError) -> Failure {
    match e {
        accounts::ChangeError::Store(e) => e.into(),
        e => Failure::input(e),
    }
}

/// The password: stdin, one line.
fn read_password() -> Result<Password, Failure> {
    let mut bytes = Vec::new();
    std::io::stdin()
        .take(64 * 1024)
        .read_to_end(&mut bytes)
        .map_err(|e| Failure::input(format!("cannot read the password from stdin: {e}")))?;
    let text = String::from_utf8(bytes)
        .map_err(|_| Failure::input("the password on stdin is not UTF-8 text"))?;
    Password::from_stdin(&text).map_err(Failure::input)
}

/// Role and stations, as a person reads them.
fn described(u: &User) -> String {
    let role = format!("{} / {}", u.grant.role.label_vi(), u.grant.role);
    if u.grant.stations.is_empty() {
        format!("{role}, mọi đài / every station")
    } else {
        format!("{role}: {}", u.grant.stations.join(", "))
    }
}
