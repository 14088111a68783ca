//! `POST /v1/ijw`: one iJw message in, a retour per product out; accepted products are
//! written as the jeugdhulp facts `POST /v1/events` writes.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;

use crate::problem::{ApiError, ErrorKind, FieldError};
use crate::write::{check_scope, write_all, write_identities};
use crate::{
    authenticate, broker_reachable, content_type, ijw, read_body, trace_of, validate, AppState,
};

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

pub async fn post_ijw(State(st): State<AppState>, req: Request) -> Response {
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
    let trace = trace_of(&parts);
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
    tracing::info!(token = %scope.name, bericht = ?msg.kind, accepted = accepted.len(), rejected, trace_id = %trace.trace_id(), "iJw message read");
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
