//! The ingest service: `POST /v1/events` for source systems (see EVENTS.md).

pub mod answers;
pub mod auth;
pub mod body;
pub mod config;
pub mod csvimport;
pub mod fields;
pub mod follow;
pub mod identities;
pub mod ijw;
pub mod imports;
pub mod meldingen;
pub mod problem;
pub mod rejections;
pub mod server;
pub mod tasks;
pub mod validate;

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use schakel_core::domain::ids::Pseudonymizer;
use schakel_core::log::kafka::{CloudEvent, KafkaError, Outgoing, Producer};
use schakel_core::log::trace::TraceParent;
use schakel_core::runtime::ops::{self, Health};
use schakel_core::{Config, Shutdown};
use serde_json::Value;
use tokio::net::TcpListener;

use crate::auth::Tokens;
use crate::problem::{ApiError, ErrorKind, FieldError};
use crate::validate::{Accepted, Typed};

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

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/v1/events", post(post_events))
        .route("/v1/ijw", post(post_ijw))
        .route("/v1/imports/{kind}", post(imports::post_import))
        .route(
            "/v1/imports/{kind}/{import_id}/rejected",
            get(imports::get_rejected),
        )
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
    let trace = trace_of(&parts.headers);
    if let Some(contact) = &scope.contact {
        let n = answers::accept(&st.tasks, &st.producer, &st.cfg, contact, &events, &trace).await?;
        tracing::info!(token = %scope.name, answers = n, trace_id = trace.trace_id(), "handoff answers accepted");
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
    tracing::info!(token = %scope.name, events = accepted.len(), trace_id = trace.trace_id(), "batch accepted");
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

fn trace_of(headers: &HeaderMap) -> TraceParent {
    headers
        .get("traceparent")
        .and_then(|v| v.to_str().ok())
        .and_then(TraceParent::parse)
        .map(|t| t.child())
        .unwrap_or_else(TraceParent::new_root)
}

/// The answer to an iJw message: per product, `0200` or the failed checks.
#[derive(serde::Serialize)]
struct IjwRetour {
    bericht: ijw::Kind,
    versie: String,
    identificatie: String,
    accepted: usize,
    rejected: usize,
    producten: Vec<IjwProduct>,
}

#[derive(serde::Serialize)]
struct IjwProduct {
    client: usize,
    referentie: String,
    retourcodes: Vec<ijw::Check>,
}

async fn post_ijw(State(st): State<AppState>, req: Request) -> Response {
    match accept_ijw(&st, req).await {
        Ok(retour) => {
            st.health.metrics.add(
                "schakel_ingest_events_accepted_total",
                "",
                retour.accepted as u64,
            );
            (StatusCode::OK, Json(retour)).into_response()
        }
        Err(e) => e.into_response(),
    }
}

async fn accept_ijw(st: &AppState, req: Request) -> Result<IjwRetour, ApiError> {
    let (parts, body) = req.into_parts();
    let scope = authenticate(st, &parts.headers)?;
    broker_reachable(st)?;
    let ct = content_type(&parts.headers);
    if ct != "application/xml" && ct != "text/xml" {
        return Err(ApiError::UnsupportedMediaType(ct));
    }
    if !scope.allows_kind("jeugdhulp") {
        return Err(ApiError::Forbidden(vec![FieldError::new(
            0,
            "Bericht",
            ErrorKind::OutOfScope,
            "this token may not write jeugdhulp events",
        )]));
    }
    let bytes = read_body(st, &parts.headers, Body::new(body)).await?;
    let text = std::str::from_utf8(&bytes)
        .map_err(|_| ApiError::Malformed("an iJw message must be UTF-8".into()))?;
    let msg = ijw::read_message(text).map_err(ApiError::Malformed)?;
    let trace = trace_of(&parts.headers);
    let mut producten = Vec::new();
    let mut accepted = Vec::new();
    for p in ijw::products(&msg) {
        let checks = match p.event {
            Err(checks) => checks,
            Ok(ev) => match validate::validate_batch(std::slice::from_ref(&ev), &st.pseudo) {
                Err(errors) => errors.iter().map(ijw::check_for).collect(),
                Ok(mut a) => {
                    let a = a.pop().expect("one event in, one out");
                    match check_scope(&scope, std::slice::from_ref(&a)) {
                        Err(_) => vec![ijw::Check {
                            code: "8008",
                            toelichting:
                                "the municipality of this message is outside this token's scope"
                                    .into(),
                        }],
                        Ok(()) => {
                            accepted.push(a);
                            vec![ijw::Check {
                                code: "0200",
                                toelichting: "geaccepteerd".into(),
                            }]
                        }
                    }
                }
            },
        };
        producten.push(IjwProduct {
            client: p.client,
            referentie: p.referentie,
            retourcodes: checks,
        });
    }
    if producten.is_empty() {
        return Err(ApiError::Malformed(format!(
            "the message holds no Client with a product ({:?})",
            msg.kind
        )));
    }
    write_identities(st, &accepted, "ijw", &trace).await?;
    write_all(&st.producer, &accepted, &trace).await?;
    let rejected = producten.len() - accepted.len();
    tracing::info!(token = %scope.name, bericht = ?msg.kind, accepted = accepted.len(), rejected, trace_id = trace.trace_id(), "iJw message read");
    Ok(IjwRetour {
        bericht: msg.kind,
        versie: msg.version.clone(),
        identificatie: msg
            .root
            .child("Header")
            .and_then(|h| h.text_of("Identificatie"))
            .unwrap_or("")
            .to_owned(),
        accepted: accepted.len(),
        rejected,
        producten,
    })
}

fn check_scope(scope: &auth::Scope, accepted: &[Accepted]) -> Result<(), ApiError> {
    let mut errors = Vec::new();
    for (index, a) in accepted.iter().enumerate() {
        if !scope.allows_kind(a.kind.name()) {
            errors.push(FieldError::new(
                index,
                "type",
                ErrorKind::OutOfScope,
                format!("this token may not write {} events", a.kind),
            ));
        }
        for (field, inst) in &a.institutions {
            if !scope.allows_institution(inst) {
                errors.push(FieldError::new(
                    index,
                    field.clone(),
                    ErrorKind::OutOfScope,
                    format!("this token may not write for {inst}"),
                ));
            }
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::Forbidden(errors))
    }
}

/// Waits until the verzuim view is read up to date, when `needed`.
async fn await_meldingen(st: &AppState, needed: bool) -> Result<(), ApiError> {
    if !needed
        || st
            .meldingen
            .await_ready(std::time::Duration::from_secs(10))
            .await
    {
        Ok(())
    } else {
        tracing::warn!("verzuim meldingen not read up to date yet");
        Err(ApiError::Unavailable)
    }
}

/// The vault gets the identities of a batch before its facts are written.
async fn write_identities(
    st: &AppState,
    accepted: &[Accepted],
    source: &'static str,
    trace: &TraceParent,
) -> Result<(), ApiError> {
    let items = accepted
        .iter()
        .map(|a| (a.typed.child_key().clone(), a.identity.clone()))
        .collect();
    st.identities
        .write(&st.producer, items, source, trace)
        .await
        .map(drop)
}

/// Writes a batch in its order: every record is handed to the producer before any is awaited,
/// and the idempotent producer keeps that order per partition, so facts about one child land in
/// the log as the source sent them (an enrolment before its end, a melding before its status).
async fn write_all(
    producer: &Producer,
    accepted: &[Accepted],
    trace: &TraceParent,
) -> Result<(), ApiError> {
    let sends = accepted
        .iter()
        .map(|a| write_one(producer, &a.typed, trace));
    let mut failure = None;
    for r in futures_util::future::join_all(sends).await {
        if let Err(e) = r {
            tracing::warn!(error = %e, retryable = e.is_retryable(), "write to the log failed");
            failure = Some(ApiError::Unavailable);
        }
    }
    failure.map_or(Ok(()), Err)
}

async fn write_one(
    producer: &Producer,
    typed: &Typed,
    trace: &TraceParent,
) -> Result<(), KafkaError> {
    macro_rules! send {
        ($e:expr) => {{
            let e = $e;
            let ce = CloudEvent::of_source(e, trace.clone());
            producer
                .send(Outgoing {
                    key: e.child.child_key.as_str(),
                    value: e,
                    event: &ce,
                    partition: None,
                })
                .await
                .map(drop)
        }};
    }
    match typed {
        Typed::School(e) => send!(e),
        Typed::Voorschool(e) => send!(e),
        Typed::Leerplicht(e) => send!(e),
        Typed::Jeugdhulp(e) => send!(e),
    }
}
