//! Who is asking: a contact person logged in (a session, by local account or OpenID Connect)
//! or a system with a contact token (`Authorization: Bearer`).

pub mod accounts;
pub mod oidc;
pub mod session;

use axum::http::HeaderMap;

pub use session::{Session, Sessions};

use crate::config::Settings;

/// How a request proved who it is.
#[derive(Debug, Clone)]
pub enum Via {
    Session(Session),
    Token,
}

/// The contact person (or their system) behind a request.
#[derive(Debug, Clone)]
pub struct Viewer {
    pub contact: String,
    pub via: Via,
}

impl Viewer {
    /// The session's CSRF token (empty for a token, which posts no forms).
    pub fn csrf(&self) -> &str {
        match &self.via {
            Via::Session(s) => &s.csrf,
            Via::Token => "",
        }
    }
}

/// The bearer token of the request, if any.
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
}

/// The viewer of a request: a contact token first, else a logged-in session.
pub fn viewer(settings: &Settings, sessions: &Sessions, headers: &HeaderMap) -> Option<Viewer> {
    if let Some(t) = bearer(headers) {
        return settings
            .contact_tokens
            .iter()
            .find(|(secret, _)| session::same(secret.expose(), t))
            .map(|(_, contact)| Viewer {
                contact: contact.clone(),
                via: Via::Token,
            });
    }
    let s = sessions.of(headers)?;
    Some(Viewer {
        contact: s.contact.clone()?,
        via: Via::Session(s),
    })
}
