//! The operations endpoints every service serves: `/livez`, `/readyz` and `/metrics`.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;

/// Counters in Prometheus text format. Labels never identify a child.
#[derive(Default)]
pub struct Metrics {
    counters: Mutex<BTreeMap<(String, String), u64>>,
}

impl Metrics {
    /// Adds `n` to counter `name` with labels written `a="x",b="y"` (or empty).
    pub fn add(&self, name: &str, labels: &str, n: u64) {
        let mut c = self.counters.lock().expect("metrics lock");
        *c.entry((name.to_owned(), labels.to_owned())).or_default() += n;
    }

    pub fn inc(&self, name: &str, labels: &str) {
        self.add(name, labels, 1);
    }

    pub fn get(&self, name: &str, labels: &str) -> u64 {
        let c = self.counters.lock().expect("metrics lock");
        c.get(&(name.to_owned(), labels.to_owned()))
            .copied()
            .unwrap_or(0)
    }

    pub fn render(&self) -> String {
        let c = self.counters.lock().expect("metrics lock");
        let mut out = String::new();
        let mut last = "";
        for ((name, labels), v) in c.iter() {
            if name != last {
                out.push_str(&format!("# TYPE {name} counter\n"));
                last = name;
            }
            if labels.is_empty() {
                out.push_str(&format!("{name} {v}\n"));
            } else {
                out.push_str(&format!("{name}{{{labels}}} {v}\n"));
            }
        }
        out
    }
}

/// Liveness, readiness and metrics of one service.
#[derive(Clone, Default)]
pub struct Health {
    ready: Arc<AtomicBool>,
    pub metrics: Arc<Metrics>,
}

impl Health {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn set_ready(&self, ready: bool) {
        self.ready.store(ready, Ordering::SeqCst);
    }

    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::SeqCst)
    }
}

/// The `/livez`, `/readyz` and `/metrics` routes.
pub fn router(health: Health) -> Router {
    Router::new()
        .route("/livez", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .with_state(health)
}

async fn readyz(State(h): State<Health>) -> impl IntoResponse {
    if h.is_ready() {
        (StatusCode::OK, "ready")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "catching up")
    }
}

async fn metrics(State(h): State<Health>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        h.metrics.render(),
    )
}

/// Serves `router` on `listener` until shutdown.
pub async fn serve(
    listener: tokio::net::TcpListener,
    router: Router,
    shutdown: crate::shutdown::Shutdown,
) -> std::io::Result<()> {
    axum::serve(listener, router)
        .with_graceful_shutdown(async move { shutdown.wait().await })
        .await
}

/// Serves the ops endpoints of a stream service while `work` runs; when `work` ends (or fails)
/// everything is shut down and its result returned.
pub async fn run_with_health<F, Fut>(
    listener: tokio::net::TcpListener,
    shutdown: crate::shutdown::Shutdown,
    work: F,
) -> anyhow::Result<()>
where
    F: FnOnce(Health) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<()>>,
{
    let health = Health::new();
    let server = tokio::spawn(serve(listener, router(health.clone()), shutdown.clone()));
    let result = work(health).await;
    shutdown.trigger();
    let _ = server.await;
    result
}
