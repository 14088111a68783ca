//! The ingest service: `POST /v1/events` for source systems (see EVENTS.md).

pub mod answers;
pub mod auth;
pub mod fields;
pub mod identities;
pub mod problem;
pub mod tasks;
pub mod validate;

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use schakel_core::events::ResponseEvent;
use schakel_core::ids::Pseudonymizer;
use schakel_core::kafka::{CloudEvent, KafkaError, Outgoing, Producer};
use schakel_core::ops::{self, Health};
use schakel_core::trace::TraceParent;
use schakel_core::{Config, Shutdown};
use serde_json::Value;
use tokio::net::TcpListener;

use crate::auth::Tokens;
use crate::problem::{ApiError, FieldError};
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
}

/// Runs the ingest service on `listener` until shutdown.
pub async fn run(cfg: Config, listener: TcpListener, shutdown: Shutdown) -> anyhow::Result<()> {
    let health = Health::new();
    let state = AppState {
        tokens: Arc::new(Tokens::new(&cfg.ingest.tokens)),
        pseudo: Pseudonymizer::new(cfg.pseudonym.secret.expose().as_bytes()),
        producer: Producer::new(&cfg)?,
        max_events: cfg.ingest.max_batch_events,
        max_bytes: cfg.ingest.max_batch_bytes,
        health: health.clone(),
        tasks: tasks::Tasks::default(),
        identities: identities::IdentityWriter::new(schakel_core::vault::Vault::from_config(&cfg)?),
    };
    if cfg.ingest.tokens.iter().any(|t| t.contact.is_some()) {
        tokio::spawn(tasks::follow(
            cfg.clone(),
            state.tasks.clone(),
            shutdown.clone(),
        ));
    }
    let producer = state.producer.clone();
    let app = router(state).merge(ops::router(health.clone()));
    health.set_ready(true);
    tracing::info!(addr = %listener.local_addr()?, "ingest listening");
    ops::serve(listener, app, shutdown).await?;
    producer.flush(std::time::Duration::from_secs(5));
    Ok(())
}

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/v1/events", post(post_events))
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
    let auth = parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let scope = st
        .tokens
        .authenticate(auth)
        .ok_or(ApiError::Unauthorized)?
        .clone();
    let ct = content_type(&parts.headers);
    let batch_expected = match ct.as_str() {
        "application/cloudevents-batch+json" => Some(true),
        "application/cloudevents+json" => Some(false),
        "application/json" => None,
        other => return Err(ApiError::UnsupportedMediaType(other.to_owned())),
    };
    let bytes = axum::body::to_bytes(Body::new(body), st.max_bytes)
        .await
        .map_err(|_| {
            ApiError::TooLarge(format!("the body is larger than {} bytes", st.max_bytes))
        })?;
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
    let trace = parts
        .headers
        .get("traceparent")
        .and_then(|v| v.to_str().ok())
        .and_then(TraceParent::parse)
        .map(|t| t.child())
        .unwrap_or_else(TraceParent::new_root);
    if let Some(contact) = &scope.contact {
        let responses = answers::check(&st.tasks, contact, &events).await?;
        write_responses(&st.producer, &responses, &trace).await?;
        tracing::info!(token = %scope.name, answers = responses.len(), trace_id = trace.trace_id(), "handoff answers accepted");
        return Ok(responses.len());
    }
    let accepted = validate::validate_batch(&events, &st.pseudo).map_err(ApiError::Invalid)?;
    check_scope(&scope, &accepted)?;
    write_identities(st, &accepted, "events", &trace).await?;
    write_all(&st.producer, &accepted, &trace).await?;
    tracing::info!(token = %scope.name, events = accepted.len(), trace_id = trace.trace_id(), "batch accepted");
    Ok(accepted.len())
}

fn check_scope(scope: &auth::Scope, accepted: &[Accepted]) -> Result<(), ApiError> {
    let mut errors = Vec::new();
    for (index, a) in accepted.iter().enumerate() {
        if !scope.allows_kind(a.kind) {
            errors.push(FieldError {
                index,
                field: "type".into(),
                message: format!("this token may not write {} events", a.kind),
            });
        }
        for (field, inst) in &a.institutions {
            if !scope.allows_institution(inst) {
                errors.push(FieldError {
                    index,
                    field: field.clone(),
                    message: format!("this token may not write for {inst}"),
                });
            }
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::Forbidden(errors))
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

async fn write_all(
    producer: &Producer,
    accepted: &[Accepted],
    trace: &TraceParent,
) -> Result<(), ApiError> {
    let mut sends = tokio::task::JoinSet::new();
    for a in accepted {
        let producer = producer.clone();
        let typed = a.typed.clone();
        let trace = trace.clone();
        sends.spawn(async move { write_one(&producer, &typed, &trace).await });
    }
    let mut failure = None;
    while let Some(r) = sends.join_next().await {
        match r {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                tracing::warn!(error = %e, retryable = e.is_retryable(), "write to the log failed");
                failure = Some(ApiError::Unavailable);
            }
            Err(e) => {
                tracing::error!(error = %e, "writer task failed");
                failure = Some(ApiError::Unavailable);
            }
        }
    }
    failure.map_or(Ok(()), Err)
}

async fn write_responses(
    producer: &Producer,
    responses: &[ResponseEvent],
    trace: &TraceParent,
) -> Result<(), ApiError> {
    for r in responses {
        let ce = CloudEvent {
            id: r.id.clone(),
            source: r.source.clone(),
            kind: r.kind.clone(),
            time: r.time,
            trace: trace.clone(),
        };
        producer
            .send(Outgoing {
                topic: "hub.responses.v1",
                key: r.child_key.as_str(),
                value: r,
                event: &ce,
                partition: None,
            })
            .await
            .map_err(|e| {
                tracing::warn!(error = %e, "write of a handoff answer failed");
                ApiError::Unavailable
            })?;
    }
    Ok(())
}

async fn write_one(
    producer: &Producer,
    typed: &Typed,
    trace: &TraceParent,
) -> Result<(), KafkaError> {
    macro_rules! send {
        ($e:expr) => {{
            let e = $e;
            let ce = CloudEvent {
                id: e.id.clone(),
                source: e.source.clone(),
                kind: e.kind.clone(),
                time: e.time,
                trace: trace.clone(),
            };
            producer
                .send(Outgoing {
                    topic: typed.topic(),
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
