//! The ingest service: `POST /v1/events` for source systems (see EVENTS.md).

pub mod answers;
pub mod auth;
pub mod body;
pub mod config;
pub mod csvimport;
pub mod fields;
pub mod identities;
pub mod ijw;
pub mod imports;
pub mod meldingen;
pub mod problem;
pub mod rejections;
pub mod server;
pub mod tasks;
pub mod validate;
pub mod write;

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use schakel_core::domain::ids::Pseudonymizer;
use schakel_core::log::kafka::Producer;
use schakel_core::log::trace::TraceParent;
use schakel_core::runtime::ops::{self, Health};
use schakel_core::{Config, Shutdown};
use serde_json::Value;
use tokio::net::TcpListener;

use crate::auth::Tokens;
use crate::problem::{ApiError, ErrorKind, FieldError};
use crate::write::{await_meldingen, check_scope, write_all, write_identities};

/// Shared state of the request handlers.
#[derive(Clone)]
pub struct AppState {
    tokens: Arc<Tokens>,
    pseudo: Pseudonymizer,
    producer: Producer,
    max_events: usize,
    max_bytes: usize,
    health: Health,
    tasks: tasks::Tasks,
    identities: identities::IdentityWriter,
    meldingen: meldingen::Meldingen,
    /// memory all request bodies together may hold
    budget: body::Budget,
    body_timeout: std::time::Duration,
    cfg: Config,
    ingest: config::IngestConfig,
}

/// Runs the ingest service on `listener` until shutdown.
pub async fn run(cfg: Config, listener: TcpListener, shutdown: Shutdown) -> anyhow::Result<()> {
    let own = config::IngestConfig::from_config(&cfg)?;
    let health = Health::new();
    let state = AppState {
        tokens: Arc::new(Tokens::new(&own.tokens)),
        pseudo: schakel_core::vault::pseudonymizer(&cfg)?,
        producer: Producer::new(&cfg)?,
        max_events: own.max_batch_events,
        max_bytes: own.max_batch_bytes,
        health: health.clone(),
        tasks: tasks::Tasks::default(),
        identities: identities::IdentityWriter::new(schakel_core::vault::Vault::from_config(&cfg)?),
        meldingen: meldingen::Meldingen::default(),
        budget: body::Budget::new(buffer_budget(&own)),
        body_timeout: own.body_timeout,
        cfg: cfg.clone(),
        ingest: own.clone(),
    };
    ops::watch_broker(&cfg, &health, &shutdown);
    tokio::spawn(meldingen::follow(
        cfg.clone(),
        state.meldingen.clone(),
        shutdown.clone(),
    ));
    let follows_tasks = own.tokens.iter().any(|t| t.contact.is_some());
    if follows_tasks {
        tokio::spawn(tasks::follow(
            cfg.clone(),
            state.tasks.clone(),
            shutdown.clone(),
        ));
    }
    tokio::spawn(become_ready(
        health.clone(),
        state.meldingen.clone(),
        follows_tasks.then(|| state.tasks.clone()),
        shutdown.clone(),
    ));
    let producer = state.producer.clone();
    let app = router(state).merge(ops::router(health.clone()));
    tracing::info!(addr = %listener.local_addr()?, "ingest listening");
    let limits = server::Limits {
        max_connections: own.max_connections,
        header_timeout: own.header_timeout,
    };
    server::serve(listener, app, limits, health, shutdown).await?;
    // off the runtime: flushing waits for the broker
    let _ = tokio::task::spawn_blocking(move || producer.flush(std::time::Duration::from_secs(5)))
        .await;
    Ok(())
}

/// The body budget: `ingest.max_buffered_bytes`, but room for at least one largest batch.
fn buffer_budget(own: &config::IngestConfig) -> usize {
    let (budget, batch) = (own.max_buffered_bytes, own.max_batch_bytes);
    if budget < batch {
        tracing::warn!(
            max_buffered_bytes = budget,
            max_batch_bytes = batch,
            "ingest.max_buffered_bytes is below ingest.max_batch_bytes; using the latter"
        );
    }
    budget.max(batch)
}

/// The `Content-Length` a request declares, if any.
fn declared_length(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok())
}

/// Reads a whole request body within `ingest.body_timeout` and the body budget.
async fn read_body(st: &AppState, headers: &HeaderMap, body: Body) -> Result<body::Held, ApiError> {
    body::read_all(
        body,
        declared_length(headers),
        st.max_bytes,
        &st.budget,
        st.body_timeout,
    )
    .await
}

/// Ready (caught up) once the views ingest judges requests by have read the log up to where
/// it ended at start; `/readyz` also needs the broker to answer (`ops::watch_broker`).
async fn become_ready(
    health: Health,
    meldingen: meldingen::Meldingen,
    tasks: Option<tasks::Tasks>,
    shutdown: Shutdown,
) {
    loop {
        if meldingen.is_ready() && tasks.as_ref().is_none_or(tasks::Tasks::is_ready) {
            health.set_ready(true);
            tracing::info!("ingest caught up with the log");
            return;
        }
        tokio::select! {
            _ = shutdown.wait() => return,
            _ = tokio::time::sleep(std::time::Duration::from_millis(50)) => {}
        }
    }
}

/// Refuses at once (503, `Retry-After`) while the broker does not answer, instead of holding
/// the request until the produce timeout.
fn broker_reachable(st: &AppState) -> Result<(), ApiError> {
    if st.health.broker_reachable() {
        Ok(())
    } else {
        Err(ApiError::Unavailable)
    }
}

/// The OpenAPI 3.1 document of this API (`GET /openapi.json`).
pub const OPENAPI: &str = include_str!("../openapi.json");

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/v1/events", post(post_events))
        .route("/v1/ijw", post(ijw::post_ijw))
        .route("/v1/imports/{kind}", post(imports::post_import))
        .route(
            "/v1/imports/{kind}/{import_id}/rejected",
            get(imports::get_rejected),
        )
        .route(
            "/openapi.json",
            schakel_core::runtime::ops::openapi(OPENAPI),
        )
        .route_layer(axum::middleware::from_fn_with_state(
            state.health.metrics.clone(),
            schakel_core::runtime::ops::track,
        ))
        .with_state(state)
}

async fn post_events(State(st): State<AppState>, req: Request) -> Response {
    match accept(&st, req).await {
        Ok(n) => {
            st.health
                .metrics
                .add("schakel_ingest_events_accepted_total", "", n as u64);
            (
                StatusCode::ACCEPTED,
                Json(serde_json::json!({ "accepted": n })),
            )
                .into_response()
        }
        Err(e) => {
            let status = e.into_response();
            st.health.metrics.inc(
                "schakel_ingest_requests_refused_total",
                &format!("status=\"{}\"", status.status().as_u16()),
            );
            status
        }
    }
}

fn content_type(headers: &HeaderMap) -> String {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        })
        .unwrap_or_default()
}

async fn accept(st: &AppState, req: Request) -> Result<usize, ApiError> {
    let (parts, body) = req.into_parts();
    let scope = authenticate(st, &parts.headers)?;
    broker_reachable(st)?;
    let ct = content_type(&parts.headers);
    let batch_expected = match ct.as_str() {
        "application/cloudevents-batch+json" => Some(true),
        "application/cloudevents+json" => Some(false),
        "application/json" => None,
        other => return Err(ApiError::UnsupportedMediaType(other.to_owned())),
    };
    let bytes = read_body(st, &parts.headers, Body::new(body)).await?;
    let json: Value =
        serde_json::from_slice(&bytes).map_err(|e| ApiError::MalformedJson(e.to_string()))?;
    let events = match (json, batch_expected) {
        (Value::Array(a), Some(true) | None) => a,
        (v @ Value::Object(_), Some(false) | None) => vec![v],
        (_, Some(true)) => {
            return Err(ApiError::MalformedJson(
                "a batch must be a JSON array".into(),
            ))
        }
        (_, _) => {
            return Err(ApiError::MalformedJson(
                "an event must be a JSON object".into(),
            ))
        }
    };
    if events.len() > st.max_events {
        return Err(ApiError::TooLarge(format!(
            "a batch holds at most {} events; this one has {}",
            st.max_events,
            events.len()
        )));
    }
    let trace = trace_of(&parts);
    if let Some(contact) = &scope.contact {
        let n = answers::accept(&st.tasks, &st.producer, &st.cfg, contact, &events, &trace).await?;
        tracing::info!(token = %scope.name, answers = n, trace_id = %trace.trace_id(), "handoff answers accepted");
        return Ok(n);
    }
    let accepted = validate::validate_batch(&events, &st.pseudo).map_err(ApiError::Invalid)?;
    check_scope(&scope, &accepted)?;
    await_meldingen(st, meldingen::Meldingen::concerns(&accepted)).await?;
    let refused = st.meldingen.checker().group(&accepted);
    if !refused.is_empty() {
        return Err(ApiError::Conflict(
            refused
                .into_iter()
                .map(|r| FieldError::new(r.index, r.field, ErrorKind::Conflict, r.message))
                .collect(),
        ));
    }
    write_identities(st, &accepted, "events", &trace).await?;
    write_all(&st.producer, &accepted, &trace).await?;
    st.meldingen.record(&accepted);
    tracing::info!(token = %scope.name, events = accepted.len(), trace_id = %trace.trace_id(), "batch accepted");
    Ok(accepted.len())
}

/// The scope of the request's bearer token.
fn authenticate(st: &AppState, headers: &HeaderMap) -> Result<auth::Scope, ApiError> {
    let auth = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    st.tokens
        .authenticate(auth)
        .cloned()
        .ok_or(ApiError::Unauthorized)
}

/// The request's server span (see `ops::track`).
fn trace_of(parts: &axum::http::request::Parts) -> TraceParent {
    schakel_core::runtime::ops::RequestTrace::of(parts).0
}
