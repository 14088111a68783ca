//! Sessions: a random id in an HttpOnly, SameSite=Lax cookie (Secure unless the monitor is
//! reached on loopback), ended after an idle time or at logout. Each session has its own
//! CSRF token, which every form carries. A login starts a new session (a new id), so an id
//! known before the login is worth nothing after it.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::http::HeaderMap;

/// The cookie's name.
pub const COOKIE: &str = "schakel_sessie";

#[derive(Debug, Clone)]
pub struct Session {
    pub id: String,
    /// the contact logged in; None before a login (the session then only carries a CSRF
    /// token for the login form)
    pub contact: Option<String>,
    pub csrf: String,
    last: Instant,
}

#[derive(Debug)]
pub struct Sessions {
    all: Mutex<HashMap<String, Session>>,
    idle: Duration,
    secure: bool,
}

fn random_id() -> String {
    schakel_core::log::trace::random_hex(32)
}

impl Sessions {
    /// `secure`: cookies only over HTTPS (anything but loopback).
    pub fn new(idle: Duration, secure: bool) -> Self {
        Self {
            all: Mutex::default(),
            idle,
            secure,
        }
    }

    /// The live session named by the request's cookie, touched.
    pub fn of(&self, headers: &HeaderMap) -> Option<Session> {
        let id = cookie(headers, COOKIE)?;
        let mut all = self.all.lock().expect("sessions lock");
        let now = Instant::now();
        all.retain(|_, s| now.duration_since(s.last) < self.idle);
        let s = all.get_mut(&id)?;
        s.last = now;
        Some(s.clone())
    }

    /// A new session, for `contact` or anonymous.
    pub fn start(&self, contact: Option<String>) -> Session {
        let s = Session {
            id: random_id(),
            contact,
            csrf: random_id(),
            last: Instant::now(),
        };
        self.all
            .lock()
            .expect("sessions lock")
            .insert(s.id.clone(), s.clone());
        s
    }

    /// Ends a session.
    pub fn end(&self, id: &str) {
        self.all.lock().expect("sessions lock").remove(id);
    }

    /// How many sessions are live (for the metrics).
    pub fn count(&self) -> usize {
        self.all.lock().expect("sessions lock").len()
    }

    /// The `Set-Cookie` value that hands a session to the browser.
    pub fn set_cookie(&self, s: &Session) -> String {
        format!(
            "{COOKIE}={}; Path=/; HttpOnly; SameSite=Lax{}",
            s.id,
            if self.secure { "; Secure" } else { "" }
        )
    }

    /// The `Set-Cookie` value that removes the session cookie.
    pub fn clear_cookie(&self) -> String {
        format!(
            "{COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0{}",
            if self.secure { "; Secure" } else { "" }
        )
    }
}

/// The value of cookie `name` in the request.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

/// Compares two secrets in time independent of where they differ.
pub fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn with_cookie(v: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(
            axum::http::header::COOKIE,
            HeaderValue::from_str(v).unwrap(),
        );
        h
    }

    #[test]
    fn a_session_is_found_by_its_cookie_until_it_idles_out_or_ends() {
        let s = Sessions::new(Duration::from_millis(200), false);
        let a = s.start(Some("jt".into()));
        let h = with_cookie(&format!("other=1; {COOKIE}={}", a.id));
        assert_eq!(s.of(&h).unwrap().contact.as_deref(), Some("jt"));
        assert!(s.of(&with_cookie(&format!("{COOKIE}=guessed"))).is_none());
        s.end(&a.id);
        assert!(s.of(&h).is_none());
        let b = s.start(None);
        std::thread::sleep(Duration::from_millis(250));
        assert!(
            s.of(&with_cookie(&format!("{COOKIE}={}", b.id))).is_none(),
            "idle"
        );
        assert!(s.set_cookie(&b).contains("HttpOnly; SameSite=Lax"));
        assert!(!s.set_cookie(&b).contains("Secure"));
        assert!(Sessions::new(Duration::from_secs(1), true)
            .set_cookie(&b)
            .ends_with("; Secure"));
    }

    #[test]
    fn secrets_compare_whole() {
        assert!(same("abc", "abc"));
        assert!(!same("abc", "abd") && !same("abc", "ab"));
    }
}
