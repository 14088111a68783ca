//! The pages and JSON answers of the monitor.

pub mod actions;
pub mod dashboard;
pub mod detail;
pub mod inbox;
pub mod layout;
pub mod list;
pub mod login;
pub mod signal;
pub mod whatif;

use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};

use crate::auth::Viewer;
use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/login", get(login::form).post(login::submit))
        .route("/auth/start", get(login::oidc_start))
        .route("/auth/callback", get(login::oidc_callback))
        .route("/logout", post(login::logout))
        .route("/inbox", get(inbox::inbox))
        .route("/dashboard", get(dashboard::dashboard))
        .route("/dashboard/lijst", get(dashboard::list))
        .route("/whatif", get(whatif::whatif))
        .route("/v1/stats/{figure}", get(dashboard::stats))
        .route("/v1/signals", get(list::list))
        .route("/v1/signals/{id}", get(signal::show))
        .route(
            "/v1/signals/{id}/{action}",
            get(actions::confirm).post(actions::act),
        )
}

/// Whether the client asked for JSON (a system) rather than a page (a person).
pub fn wants_json(headers: &HeaderMap) -> bool {
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    accept.contains("application/json") && !accept.contains("text/html")
}

/// The frame's view of the viewer: their name from the directory, and the session's CSRF
/// token.
pub fn who<'a>(st: &'a AppState, v: &'a Viewer, name: &'a mut String) -> layout::Who<'a> {
    let dashboard;
    (*name, dashboard) = st.view.read(|s| match s.contact(&v.contact) {
        Some(c) => (
            c.name.clone(),
            c.roles
                .iter()
                .any(|r| dashboard::ROLES.contains(&r.as_str())),
        ),
        None => (v.contact.clone(), false),
    });
    layout::Who {
        name: name.as_str(),
        csrf: v.csrf(),
        dashboard,
    }
}

/// A problem document (RFC 9457) for systems.
pub fn problem(status: StatusCode, title: &str, detail: &str) -> Response {
    let mut r = (
        status,
        Json(serde_json::json!({
            "type": format!("urn:nl:schakel:problem:{}", status.as_u16()),
            "title": title,
            "status": status.as_u16(),
            "detail": detail,
        })),
    )
        .into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/problem+json"),
    );
    layout::secure_headers(r.headers_mut());
    r
}

/// The answer to a request without a viewer: log in (a person) or 401 (a system).
pub fn login_first(headers: &HeaderMap, back_to: &str) -> Response {
    if wants_json(headers) || crate::auth::bearer(headers).is_some() {
        return problem(
            StatusCode::UNAUTHORIZED,
            "niet aangemeld",
            "send a contact token (Authorization: Bearer) or log in",
        );
    }
    Redirect::to(&format!("/login?terug={}", encode(back_to))).into_response()
}

/// Percent-encodes a path for a query value.
pub fn encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Where to go after a login: only a path of our own (never another site).
pub fn safe_back(s: Option<&str>) -> String {
    match s {
        Some(p)
            if p.starts_with('/')
                && !p.starts_with("//")
                && !p.contains('\\')
                && p.bytes().all(|b| b.is_ascii_graphic()) =>
        {
            p.to_owned()
        }
        _ => "/inbox".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_our_own_paths_are_followed_after_login() {
        assert_eq!(safe_back(Some("/v1/signals/ab")), "/v1/signals/ab");
        for bad in [
            "https://evil.example",
            "//evil.example",
            "/\\evil",
            "inbox",
            "/\u{8}",
            "/a b",
        ] {
            assert_eq!(safe_back(Some(bad)), "/inbox", "{bad}");
        }
        assert_eq!(safe_back(None), "/inbox");
        assert_eq!(encode("/v1/signals/ab?x=1"), "/v1/signals/ab%3Fx%3D1");
    }
}
