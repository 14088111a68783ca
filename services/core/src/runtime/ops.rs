//! The operations endpoints every service serves: `/livez`, `/readyz` and `/metrics`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;

use crate::log::trace::TraceParent;

pub use super::metrics::Metrics;

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

/// Publishes every 5 s the lag of consumer group `group` on `topics` (full names) as
/// `schakel_consumer_lag_records{group,topic,partition}`: the partition's high watermark minus
/// the offset the group committed (all of the partition while it has committed nothing). It
/// asks for the group's committed offsets without joining the group.
pub fn watch_lag(
    cfg: &impl AsRef<crate::log::kafka::KafkaConfig>,
    group: String,
    topics: Vec<String>,
    metrics: Arc<Metrics>,
    shutdown: &crate::Shutdown,
) {
    use rdkafka::consumer::{BaseConsumer, Consumer};
    use rdkafka::{Offset, TopicPartitionList};
    let client: BaseConsumer = match crate::log::kafka::client_config(cfg)
        .set("group.id", &group)
        .set("enable.auto.commit", "false")
        .create()
    {
        Ok(c) => c,
        Err(e) => {
            tracing::warn!(error = %e, "cannot watch the consumer lag");
            return;
        }
    };
    let client = Arc::new(client);
    let shutdown = shutdown.clone();
    tokio::spawn(async move {
        let wait = std::time::Duration::from_secs(2);
        loop {
            let (c, topics) = (client.clone(), topics.clone());
            let lags = tokio::task::spawn_blocking(move || -> Option<Vec<(String, i32, i64)>> {
                let mut tpl = TopicPartitionList::new();
                for t in &topics {
                    let md = c.fetch_metadata(Some(t), wait).ok()?;
                    for mt in md.topics() {
                        for p in mt.partitions() {
                            tpl.add_partition(t, p.id());
                        }
                    }
                }
                let committed = c.committed_offsets(tpl, wait).ok()?;
                let mut out = Vec::new();
                for e in committed.elements() {
                    let (low, high) = c.fetch_watermarks(e.topic(), e.partition(), wait).ok()?;
                    let from = match e.offset() {
                        Offset::Offset(o) => o,
                        _ => low,
                    };
                    out.push((e.topic().to_owned(), e.partition(), (high - from).max(0)));
                }
                Some(out)
            })
            .await
            .ok()
            .flatten();
            if let Some(lags) = lags {
                metrics.clear("schakel_consumer_lag_records");
                for (topic, partition, lag) in lags {
                    metrics.set(
                        "schakel_consumer_lag_records",
                        &format!("group=\"{group}\",topic=\"{topic}\",partition=\"{partition}\""),
                        lag as f64,
                    );
                }
            }
            tokio::select! {
                _ = shutdown.wait() => return,
                _ = tokio::time::sleep(std::time::Duration::from_secs(5)) => {}
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
    let flag = |b: bool| if b { 1.0 } else { 0.0 };
    h.metrics.set("schakel_ready", "", flag(h.is_ready()));
    h.metrics
        .set("schakel_broker_reachable", "", flag(h.broker_reachable()));
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        h.metrics.render(),
    )
}

/// Counts and times every request by its route: the path pattern (`/v1/signals/{id}`), never
/// the path itself, which may hold an id. Each request is a server span under the caller's
/// `traceparent`; handlers find it as [`RequestTrace`]. Add with `Router::route_layer`.
pub async fn track(
    State(metrics): State<Arc<Metrics>>,
    mut req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use crate::runtime::telemetry::{self, Attr, Kind};
    let route = req
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let started = std::time::Instant::now();
    let caller = caller_trace(req.headers());
    let method = req.method().clone();
    let mut span = telemetry::span(Kind::Server, caller.as_ref()).start(|| {
        (
            format!("{method} {route}").into(),
            vec![
                Attr::new("http.request.method", method.to_string()),
                Attr::new("http.route", route.clone()),
            ],
        )
    });
    req.extensions_mut()
        .insert(RequestTrace(span.context().clone()));
    let res = next.run(req).await;
    let status = res.status();
    span.record(|| {
        vec![Attr::new(
            "http.response.status_code",
            i64::from(status.as_u16()),
        )]
    });
    if status.is_server_error() {
        span.fail(|| status.to_string());
    }
    metrics.observe(
        "schakel_http_request_duration_seconds",
        &format!("route=\"{route}\""),
        &super::metrics::DURATION_BUCKETS,
        started.elapsed().as_secs_f64(),
    );
    metrics.inc(
        "schakel_http_requests_total",
        &format!("route=\"{route}\",code=\"{}\"", res.status().as_u16()),
    );
    res
}

/// `GET /openapi.json`: the service's OpenAPI document, as compiled in.
pub fn openapi<S: Clone + Send + Sync + 'static>(
    document: &'static str,
) -> axum::routing::MethodRouter<S> {
    get(move || async move { ([(header::CONTENT_TYPE, "application/json")], document) })
}

/// The caller's trace context (`traceparent`, `tracestate`), if it sent a valid one.
pub fn caller_trace(headers: &axum::http::HeaderMap) -> Option<TraceParent> {
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    TraceParent::parse(text("traceparent")?, text("tracestate"))
}

/// The server span of the request (set by [`track`]), or a new trace for a route without it.
#[derive(Debug, Clone)]
pub struct RequestTrace(pub TraceParent);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for RequestTrace {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _: &S,
    ) -> Result<Self, Self::Rejection> {
        Ok(Self::of(parts))
    }
}

impl RequestTrace {
    /// The request's server span, or (a route without [`track`]) a child of the caller's.
    pub fn of(parts: &axum::http::request::Parts) -> Self {
        parts.extensions.get::<Self>().cloned().unwrap_or_else(|| {
            Self(
                caller_trace(&parts.headers)
                    .map(|t| t.child())
                    .unwrap_or_else(TraceParent::new_root),
            )
        })
    }
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
