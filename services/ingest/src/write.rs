//! The write path of accepted facts: the token's scope, the vault before the log, the log in
//! the order the source sent.

use schakel_core::log::kafka::{CloudEvent, KafkaError, Outgoing, Producer};
use schakel_core::log::trace::TraceParent;

use crate::auth;
use crate::problem::{ApiError, ErrorKind, FieldError};
use crate::validate::{Accepted, Typed};
use crate::AppState;

pub(crate) fn check_scope(scope: &auth::Scope, accepted: &[Accepted]) -> Result<(), ApiError> {
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
pub(crate) async fn await_meldingen(st: &AppState, needed: bool) -> Result<(), ApiError> {
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
pub(crate) async fn write_identities(
    st: &AppState,
    accepted: &[Accepted],
    source: &'static str,
    trace: &TraceParent,
) -> Result<(), ApiError> {
    let sealed = seal_identities(st, accepted, source).await?;
    st.identities
        .send(&st.producer, sealed, trace)
        .await
        .map(drop)
}

/// The identities of a batch sealed by the vault, to be written before its facts.
pub(crate) async fn seal_identities(
    st: &AppState,
    accepted: &[Accepted],
    source: &'static str,
) -> Result<crate::identities::Sealed, ApiError> {
    let items = accepted
        .iter()
        .map(|a| (a.typed.child_key().clone(), a.identity.clone()))
        .collect();
    st.identities.seal(items, source).await
}

/// Writes a batch in its order: every record is handed to the producer before any is awaited,
/// and the idempotent producer keeps that order per partition, so facts about one child land in
/// the log as the source sent them (an enrolment before its end, a melding before its status).
pub(crate) async fn write_all(
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
