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

/// Liveness, readiness and metrics of one service. Ready means: the service's own state is
/// caught up (`set_ready`) and the broker answers (`set_broker`, kept by [`watch_broker`]).
#[derive(Clone)]
pub struct Health {
    ready: Arc<AtomicBool>,
    broker: Arc<AtomicBool>,
    pub metrics: Arc<Metrics>,
}

impl Default for Health {
    fn default() -> Self {
        Self {
            ready: Arc::default(),
            broker: Arc::new(AtomicBool::new(true)),
            metrics: Arc::default(),
        }
    }
}

impl Health {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn set_ready(&self, ready: bool) {
        self.ready.store(ready, Ordering::SeqCst);
    }

    /// Whether the broker answered the last time it was asked.
    pub fn set_broker(&self, reachable: bool) {
        self.broker.store(reachable, Ordering::SeqCst);
    }

    pub fn broker_reachable(&self) -> bool {
        self.broker.load(Ordering::SeqCst)
    }

    /// Caught up and the broker reachable.
    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::SeqCst) && self.broker_reachable()
    }

    /// Whether the service's own state is caught up (whatever the broker).
    pub fn is_caught_up(&self) -> bool {
        self.ready.load(Ordering::SeqCst)
    }
}

/// Asks the broker for its metadata every 2 s and keeps `Health::set_broker` true to what it
/// answers, logging each change once: a broker that is away is waited out, not fatal.
pub fn watch_broker(cfg: &crate::Config, health: &Health, shutdown: &crate::Shutdown) {
    use rdkafka::consumer::{BaseConsumer, Consumer};
    let client: BaseConsumer = match crate::log::kafka::client_config(cfg).create() {
        Ok(c) => c,
        Err(e) => {
            tracing::warn!(error = %e, "cannot watch the broker");
            return;
        }
    };
    let client = Arc::new(client);
    let (health, shutdown) = (health.clone(), shutdown.clone());
    tokio::spawn(async move {
        let mut was = true;
        loop {
            let c = client.clone();
            let answered = tokio::task::spawn_blocking(move || {
                c.fetch_metadata(None, std::time::Duration::from_secs(2))
                    .map(|_| ())
            })
            .await
            .map(|r| r.is_ok())
            .unwrap_or(false);
            if answered != was {
                if answered {
                    tracing::info!("broker reachable again");
                } else {
                    tracing::warn!("broker unreachable; waiting for it (not ready meanwhile)");
                }
                was = answered;
            }
            health.set_broker(answered);
            tokio::select! {
                _ = shutdown.wait() => return,
                _ = tokio::time::sleep(std::time::Duration::from_secs(2)) => {}
            }
        }
    });
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
    if !h.broker_reachable() {
        (StatusCode::SERVICE_UNAVAILABLE, "broker unreachable")
    } else if h.is_ready() {
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
    shutdown: crate::runtime::shutdown::Shutdown,
) -> std::io::Result<()> {
    axum::serve(listener, router)
        .with_graceful_shutdown(async move { shutdown.wait().await })
        .await
}

/// Serves the ops endpoints of a stream service while `work` runs; when `work` ends (or fails)
/// everything is shut down and its result returned.
pub async fn run_with_health<F, Fut>(
    listener: tokio::net::TcpListener,
    shutdown: crate::runtime::shutdown::Shutdown,
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
