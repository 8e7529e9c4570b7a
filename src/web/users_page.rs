//! The console's **Người dùng** page (admin only): the accounts, sorted the Vietnamese way,
//! and the forms that add one, set a password, disable one and issue an API token — the
//! changes of `loa user`, through the same functions ([`crate::access::accounts`]), each
//! audited with the admin's name, role and address. Other roles get 403. A new token is
//! shown once, on the answer to its form, never in a link. Words in both languages: [`Words`].

use std::collections::BTreeMap;

use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::Response;
use maud::{html, Markup};

use crate::access::accounts::{self, ChangeError};
use crate::access::password::Password;
use crate::access::{Action, Decision, Role, UserName};
use crate::lang::Lang;

use super::auth::{authenticate, Caller, Client};
use super::login::see_other;
use super::pages::{message_in, page_in, respond};
use super::{locale, AppState};

/// The page's words in one language.
#[derive(Debug)]
pub struct Words {
    title: &'static str,
    cols: [&'static str; 5],
    active: &'static str,
    disabled: &'static str,
    every: &'static str,
    add: &'static str,
    name: &'static str,
    role: &'static str,
    stations: &'static str,
    stations_hint: &'static str,
    password: &'static str,
    new_password: &'static str,
    set_password: &'static str,
    disable: &'static str,
    token: &'static str,
    token_once: &'static str,
    done: &'static str,
    admin_only: &'static str,
    refused: &'static str,
}

/// Vietnamese.
const VI: Words = Words {
    title: "Người dùng",
    cols: ["Tên", "Vai trò", "Đài", "Tình trạng", "Thao tác"],
    active: "hoạt động",
    disabled: "đã khóa",
    every: "mọi đài",
    add: "Thêm người dùng",
    name: "Tên đăng nhập",
    role: "Vai trò",
    stations: "Đài (chỉ cho vai trò xã)",
    stations_hint: "Mã đài, cách nhau bởi dấu phẩy, ví dụ vinh-hung, vinh-tien.",
    password: "Mật khẩu",
    new_password: "Mật khẩu mới",
    set_password: "Đổi mật khẩu",
    disable: "Khóa",
    token: "Cấp mã API",
    token_once: "Mã API mới, chỉ hiện một lần; hãy chép ngay:",
    done: "Đã lưu.",
    admin_only: "Chỉ quản trị viên được quản lý người dùng.",
    refused: "Không thực hiện được:",
};

/// English.
const EN: Words = Words {
    title: "Users",
    cols: ["Name", "Role", "Stations", "State", "Actions"],
    active: "active",
    disabled: "disabled",
    every: "every station",
    add: "Add a user",
    name: "User name",
    role: "Role",
    stations: "Stations (commune role only)",
    stations_hint: "Station codes separated by commas, e.g. vinh-hung, vinh-tien.",
    password: "Password",
    new_password: "New password",
    set_password: "Set the password",
    disable: "Disable",
    token: "Issue an API token",
    token_once: "The new API token, shown only once; copy it now:",
    done: "Saved.",
    admin_only: "Only an admin manages users.",
    refused: "Not done:",
};

fn words(lang: Lang) -> &'static Words {
    match lang {
        Lang::Vi => &VI,
        Lang::En => &EN,
    }
}

fn role_label(lang: Lang, r: Role) -> String {
    match lang {
        Lang::Vi => r.label_vi().to_string(),
        Lang::En => r.as_str().to_string(),
    }
}

/// The caller, when it is an admin's session; else the answer to give.
async fn admin(
    state: &AppState,
    method: &Method,
    headers: &HeaderMap,
    csrf: Option<&str>,
    lang: Lang,
) -> Result<Caller, Response> {
    let caller = match authenticate(state, method, headers, csrf).await {
        Ok(c) if c.session().is_some() => c,
        Ok(_) => return Err(see_other("/login", &[])),
        Err(e) if e.0 == StatusCode::UNAUTHORIZED => return Err(see_other("/login", &[])),
        Err(e) => return Err(respond(e.0, message_in(lang, words(lang).title, &e.1))),
    };
    if caller.decide(Action::UserAdd, None) != Decision::Allowed {
        let w = words(lang);
        return Err(respond(
            StatusCode::FORBIDDEN,
            message_in(lang, w.title, w.admin_only),
        ));
    }
    Ok(caller)
}

/// `GET /users`.
pub async fn page(
    State(state): State<AppState>,
    method: Method,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let lang = locale::of(&headers, query.as_deref());
    let caller = match admin(&state, &method, &headers, None, lang).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let done = query.as_deref().is_some_and(|q| q.contains("done=1"));
    let note = done.then(|| (true, words(lang).done.to_string()));
    let r = render(&state, &caller, lang, StatusCode::OK, note).await;
    locale::remember(r, query.as_deref())
}

/// `POST /users`: one change, named by the form's `op` (`add`, `passwd`, `disable`,
/// `token`).
pub async fn submit(
    State(state): State<AppState>,
    client: Client,
    method: Method,
    headers: HeaderMap,
    form: Result<axum::Form<BTreeMap<String, String>>, axum::extract::rejection::FormRejection>,
) -> Response {
    let form = form.map(|f| f.0).unwrap_or_default();
    let lang = locale::of(&headers, None);
    let csrf = form.get("csrf_token").map(String::as_str);
    let caller = match admin(&state, &method, &headers, csrf, lang).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let get = |k: &str| form.get(k).map(String::as_str).unwrap_or("");
    let draft = |action: Action, name: &UserName| {
        caller.audit(&state, &client, action, None, name.as_str())
    };
    let store = state.store.as_ref();
    let password = |k: &str| Password::parse(get(k)).map_err(ChangeError::from);
    let result: Result<Option<String>, ChangeError> = match get("op") {
        "add" => {
            let stations: Vec<String> = get("stations")
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect();
            match password("password") {
                Ok(p) => accounts::add(store, get("name"), get("role"), &stations, &p, &draft)
                    .await
                    .map(|_| None),
                Err(e) => Err(e),
            }
        }
        "passwd" => match password("password") {
            Ok(p) => accounts::set_password(store, get("name"), &p, &draft)
                .await
                .map(|()| None),
            Err(e) => Err(e),
        },
        "disable" => accounts::disable(store, get("name"), &draft)
            .await
            .map(|_| None),
        "token" => accounts::issue_token(store, get("name"), &draft)
            .await
            .map(|t| Some(t.reveal().to_string())),
        _ => {
            return respond(
                StatusCode::BAD_REQUEST,
                message_in(lang, words(lang).title, words(lang).refused),
            )
        }
    };
    match result {
        Ok(None) => see_other("/users?done=1", &[]),
        Ok(Some(token)) => {
            let w = words(lang);
            render(
                &state,
                &caller,
                lang,
                StatusCode::OK,
                Some((true, format!("{} {token}", w.token_once))),
            )
            .await
        }
        Err(ChangeError::Store(e)) => {
            tracing::error!(error = %e, "account change failed");
            respond(
                StatusCode::INTERNAL_SERVER_ERROR,
                message_in(lang, words(lang).title, &e.to_string()),
            )
        }
        Err(e) => {
            let w = words(lang);
            let sentence = match lang {
                Lang::Vi => e.vi(),
                Lang::En => e.to_string().replace(" on stdin", ""),
            };
            render(
                &state,
                &caller,
                lang,
                StatusCode::BAD_REQUEST,
                Some((false, format!("{} {sentence}", w.refused))),
            )
            .await
        }
    }
}

/// The page, with a note on top (`true`: done, `false`: refused).
async fn render(
    state: &AppState,
    caller: &Caller,
    lang: Lang,
    status: StatusCode,
    note: Option<(bool, String)>,
) -> Response {
    let Caller::User {
        user: me,
        session: Some(session),
    } = caller
    else {
        return see_other("/login", &[]);
    };
    let w = words(lang);
    let mut users = match state.store.users().await {
        Ok(u) => u,
        Err(e) => {
            return respond(
                StatusCode::INTERNAL_SERVER_ERROR,
                message_in(lang, w.title, &e.to_string()),
            )
        }
    };
    users.sort_by(|a, b| crate::text::cmp_vi(a.name.as_str(), b.name.as_str()));
    let csrf = session.csrf.as_str();
    let body: Markup = html! {
        @if let Some((ok, text)) = &note {
            @if *ok { p.ok role="status" { (text) } } @else { p.error role="alert" { (text) } }
        }
        section.card {
            div.table { table {
                thead { tr { @for c in &w.cols { th { (c) } } } }
                tbody { @for u in &users {
                    tr {
                        td { (u.name) }
                        td { (role_label(lang, u.grant.role)) }
                        td { @if u.grant.stations.is_empty() { (w.every) } @else { (u.grant.stations.join(", ")) } }
                        td { @if u.disabled() { (w.disabled) } @else { (w.active) } }
                        td {
                            @if !u.disabled() {
                                form method="post" action="/users" {
                                    input type="hidden" name="csrf_token" value=(csrf);
                                    input type="hidden" name="op" value="passwd";
                                    input type="hidden" name="name" value=(u.name);
                                    input type="password" name="password" autocomplete="new-password" aria-label=(w.new_password) placeholder=(w.new_password);
                                    button type="submit" { (w.set_password) }
                                }
                                div.actions {
                                    form method="post" action="/users" {
                                        input type="hidden" name="csrf_token" value=(csrf);
                                        input type="hidden" name="op" value="token";
                                        input type="hidden" name="name" value=(u.name);
                                        button type="submit" { (w.token) }
                                    }
                                    form method="post" action="/users" {
                                        input type="hidden" name="csrf_token" value=(csrf);
                                        input type="hidden" name="op" value="disable";
                                        input type="hidden" name="name" value=(u.name);
                                        button.stop type="submit" { (w.disable) }
                                    }
                                }
                            }
                        }
                    }
                } }
            } }
        }
        form.card method="post" action="/users" {
            h2 { (w.add) }
            input type="hidden" name="csrf_token" value=(csrf);
            input type="hidden" name="op" value="add";
            label for="name" { (w.name) }
            input #name type="text" name="name" required autocomplete="off";
            label for="role" { (w.role) }
            select #role name="role" {
                @for r in Role::ALL { option value=(r.as_str()) { (role_label(lang, r)) } }
            }
            label for="stations" { (w.stations) }
            input #stations type="text" name="stations";
            p.muted { (w.stations_hint) }
            label for="password" { (w.password) }
            input #password type="password" name="password" required autocomplete="new-password";
            p { button type="submit" { (w.add) } }
        }
    };
    let role = role_label(lang, me.grant.role);
    respond(
        status,
        page_in(lang, w.title, Some((me.name.as_str(), &role, csrf)), body),
    )
}

#[cfg(test)]
mod words_tests {
    use super::*;

    #[test]
    fn the_vietnamese_words_hold_no_english_and_the_english_no_vietnamese() {
        crate::lang::tests::check_word_tables("users_page", &format!("{VI:?}"), &format!("{EN:?}"));
    }
}
