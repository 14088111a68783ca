//! Writing the delivery ledger (`hub.deliveries.v1`): one record per step of a delivery's
//! lifecycle, each durable before the next step is taken.

use std::time::Duration;

use jiff::Timestamp;
use schakel_core::domain::events::{DeliveryEvent, DeliveryStatus, SignalEvent};
use schakel_core::log::kafka::{CloudEvent, Outgoing};
use schakel_core::log::trace::TraceParent;
use schakel_core::Shutdown;

use crate::deps::Deps;
use crate::lifecycle::{self, DeliveryState, Outcome, Schedule};

/// What a ledger record is about.
pub struct Subject<'a> {
    pub id: &'a str,
    pub signal: &'a SignalEvent,
    pub contact: &'a str,
    pub channel: &'a str,
    pub position: (i32, i64),
}

/// The ledger record of a delivery that reached `state`.
pub fn ledger_record(
    s: &Subject<'_>,
    state: &DeliveryState,
    error: Option<String>,
    at: Timestamp,
) -> DeliveryEvent {
    DeliveryEvent {
        id: s.id.to_owned(),
        kind: state.status().event_type(),
        signal_id: s.signal.signal_id.clone(),
        signal_event_id: s.signal.id.clone(),
        step: s.signal.step.clone(),
        contact: s.contact.to_owned(),
        channel: s.channel.to_owned(),
        attempt: state.attempt(),
        status: state.status(),
        error,
        at,
        next_attempt_at: state.next_attempt_at(),
        signal_partition: Some(s.position.0),
        signal_offset: Some(s.position.1),
    }
}

/// Takes the lifecycle step `step.outcome` from `state` and writes its record, durable before
/// the caller goes on. The new state; None when `stop` came first, or when the lifecycle has
/// no such step (a bug: logged and counted; the delivery stays open, so nothing is lost).
pub async fn record_step(
    deps: &Deps,
    step: Step<'_>,
    state: Option<&DeliveryState>,
    stop: &Shutdown,
) -> Option<Recorded> {
    let now = deps.clock.now();
    let next = match lifecycle::next(state, step.outcome, &step.schedule, now) {
        Ok(n) => n,
        Err(e) => {
            tracing::error!(delivery_id = %step.subject.id, error = %e, "illegal delivery step refused");
            deps.health
                .metrics
                .inc("schakel_notify_illegal_steps_total", "");
            return None;
        }
    };
    let record = ledger_record(&step.subject, &next, step.error, now);
    record_traced(deps, &record, step.trace, stop)
        .await
        .then_some(Recorded {
            state: next,
            record,
        })
}

/// A step taken and durable: where the delivery stands now, and the record that says so.
pub struct Recorded {
    pub state: DeliveryState,
    pub record: DeliveryEvent,
}

/// One step to record: about what, what happened, with which error, on which schedule.
pub struct Step<'a> {
    pub subject: Subject<'a>,
    pub outcome: Outcome,
    pub error: Option<String>,
    pub schedule: Schedule<'a>,
    /// the span the delivery runs under: its ledger records are written in its trace
    pub trace: Option<&'a TraceParent>,
}

/// A record about a contact's endpoint on a channel (not about one delivery).
pub fn endpoint_record(
    s: &Subject<'_>,
    status: DeliveryStatus,
    error: Option<String>,
    at: Timestamp,
) -> DeliveryEvent {
    debug_assert!(status.is_endpoint());
    DeliveryEvent {
        id: s.id.to_owned(),
        kind: status.event_type(),
        signal_id: s.signal.signal_id.clone(),
        signal_event_id: s.signal.id.clone(),
        step: s.signal.step.clone(),
        contact: s.contact.to_owned(),
        channel: s.channel.to_owned(),
        attempt: 0,
        status,
        error,
        at,
        next_attempt_at: None,
        signal_partition: Some(s.position.0),
        signal_offset: Some(s.position.1),
    }
}

/// Writes an outcome to the ledger, retrying with backoff while the broker refuses it: a
/// delivery whose outcome is not durable must not be given up until shutdown (the signal
/// offset stays uncommitted, so a restart would resume it). False only when `stop` came.
pub async fn record_until_durable(deps: &Deps, ev: &DeliveryEvent, stop: &Shutdown) -> bool {
    record_traced(deps, ev, None, stop).await
}

/// [`record_until_durable`], the record written in `trace` (else in a trace of its own).
pub async fn record_traced(
    deps: &Deps,
    ev: &DeliveryEvent,
    trace: Option<&TraceParent>,
    stop: &Shutdown,
) -> bool {
    let mut backoff = Duration::from_millis(200);
    loop {
        match record(deps, ev, trace).await {
            Ok(()) => return true,
            Err(e) => {
                tracing::error!(delivery_id = %ev.id, error = %e, retry_in_ms = backoff.as_millis() as u64, "cannot record delivery outcome; retrying");
                deps.health
                    .metrics
                    .inc("schakel_notify_ledger_write_errors_total", "");
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(backoff) => {},
            _ = stop.wait() => return false,
        }
        backoff = (backoff * 2).min(Duration::from_secs(10));
    }
}

async fn record(
    deps: &Deps,
    ev: &DeliveryEvent,
    trace: Option<&TraceParent>,
) -> anyhow::Result<()> {
    let id = format!("{}-{}-{}", ev.id, ev.attempt, ev.status);
    let ce = CloudEvent {
        trace: trace.cloned().unwrap_or_else(|| TraceParent::derived(&id)),
        id,
        source: "urn:nl:schakel:notify".into(),
        kind: ev.kind,
        time: ev.at,
    };
    deps.producer
        .send(Outgoing {
            key: &ev.id,
            value: ev,
            event: &ce,
            partition: None,
        })
        .await?;
    Ok(())
}
