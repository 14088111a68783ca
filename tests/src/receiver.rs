//! A real HTTP webhook receiver that verifies Standard Webhooks signatures.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;

/// One webhook as received.
#[derive(Debug, Clone)]
pub struct Received {
    pub contact: String,
    pub webhook_id: String,
    pub signature_valid: bool,
    pub body: serde_json::Value,
    pub raw: String,
    /// the `traceparent` header, if any
    pub traceparent: Option<String>,
    /// when it arrived
    pub at: std::time::Instant,
}

#[derive(Default)]
struct Inner {
    got: Vec<Received>,
    secrets: HashMap<String, String>,
    delay: Duration,
    /// contacts whose endpoint answers 503
    down: std::collections::HashSet<String>,
    /// calls answered 503, per contact
    refused: HashMap<String, usize>,
}

/// Listens on 127.0.0.1; `POST /hooks/{contact}`.
#[derive(Clone)]
pub struct Receiver {
    inner: Arc<Mutex<Inner>>,
    pub port: u16,
}

impl Receiver {
    pub async fn start(delay: Duration) -> Self {
        let inner = Arc::new(Mutex::new(Inner {
            delay,
            ..Inner::default()
        }));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind receiver");
        let port = listener.local_addr().expect("addr").port();
        let app = Router::new()
            .route("/hooks/{contact}", post(hook))
            .with_state(inner.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self { inner, port }
    }

    /// Registers a contact's secret and returns its webhook URL.
    pub fn contact(&self, id: &str, secret: &str) -> String {
        self.inner
            .lock()
            .unwrap()
            .secrets
            .insert(id.to_owned(), secret.to_owned());
        format!("http://127.0.0.1:{}/hooks/{id}", self.port)
    }

    pub fn received(&self) -> Vec<Received> {
        self.inner.lock().unwrap().got.clone()
    }

    /// How many webhooks received so far satisfy `f`, without copying them (a benchmark that
    /// polls must not hold the receiver up).
    pub fn count(&self, f: impl Fn(&Received) -> bool) -> usize {
        self.inner
            .lock()
            .unwrap()
            .got
            .iter()
            .filter(|r| f(r))
            .count()
    }

    /// Makes a contact's endpoint answer 503 (down) or accept again.
    pub fn set_down(&self, contact: &str, down: bool) {
        let mut i = self.inner.lock().unwrap();
        if down {
            i.down.insert(contact.to_owned());
        } else {
            i.down.remove(contact);
        }
    }

    /// How many calls to a contact's endpoint were answered 503.
    pub fn refused(&self, contact: &str) -> usize {
        self.inner
            .lock()
            .unwrap()
            .refused
            .get(contact)
            .copied()
            .unwrap_or(0)
    }
}

async fn hook(
    State(inner): State<Arc<Mutex<Inner>>>,
    Path(contact): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let delay = inner.lock().unwrap().delay;
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    {
        let mut i = inner.lock().unwrap();
        if i.down.contains(&contact) {
            *i.refused.entry(contact).or_default() += 1;
            return StatusCode::SERVICE_UNAVAILABLE;
        }
    }
    let h = |k: &str| {
        headers
            .get(k)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let (id, ts, sig) = (
        h("webhook-id"),
        h("webhook-timestamp"),
        h("webhook-signature"),
    );
    let secret = inner
        .lock()
        .unwrap()
        .secrets
        .get(&contact)
        .cloned()
        .unwrap_or_default();
    let valid = ts
        .parse::<i64>()
        .ok()
        .and_then(|t| schakel_notify::webhook::sign(&secret, &id, t, &body).ok())
        .is_some_and(|expected| expected == sig);
    let raw = String::from_utf8_lossy(&body).into_owned();
    let json = serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null);
    inner.lock().unwrap().got.push(Received {
        contact,
        webhook_id: id,
        signature_valid: valid,
        body: json,
        raw,
        traceparent: headers
            .get("traceparent")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
        at: std::time::Instant::now(),
    });
    StatusCode::NO_CONTENT
}

impl Received {
    pub fn signal_is_valid(&self) -> bool {
        self.signature_valid
    }
}
