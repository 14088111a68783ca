//! Writing the delivery ledger (`hub.deliveries.v1`): one record per step of a delivery's
//! lifecycle, each durable before the next step is taken.

use std::time::Duration;

use jiff::Timestamp;
use schakel_core::domain::events::{DeliveryEvent, SignalEvent};
use schakel_core::log::kafka::{CloudEvent, Outgoing};
use schakel_core::log::trace::TraceParent;
use schakel_core::Shutdown;

use crate::deps::Deps;

/// What a ledger record is about.
pub struct Subject<'a> {
    pub id: &'a str,
    pub signal: &'a SignalEvent,
    pub contact: &'a str,
    pub channel: &'a str,
    pub position: (i32, i64),
}

/// The ledger record of one step of a delivery's lifecycle.
pub fn ledger_record(
    s: &Subject<'_>,
    status: &str,
    attempt: i32,
    error: Option<String>,
    at: Timestamp,
    next_attempt_at: Option<Timestamp>,
) -> DeliveryEvent {
    DeliveryEvent {
        id: s.id.to_owned(),
        kind: format!("nl.schakel.delivery.{status}.v1"),
        signal_id: s.signal.signal_id.clone(),
        signal_event_id: s.signal.id.clone(),
        step: s.signal.step.clone(),
        contact: s.contact.to_owned(),
        channel: s.channel.to_owned(),
        attempt,
        status: status.into(),
        error,
        at,
        next_attempt_at,
        signal_partition: Some(s.position.0),
        signal_offset: Some(s.position.1),
    }
}

/// Writes an outcome to the ledger, retrying with backoff while the broker refuses it: a
/// delivery whose outcome is not durable must not be given up until shutdown (the signal
/// offset stays uncommitted, so a restart would resume it). False only when `stop` came.
pub async fn record_until_durable(deps: &Deps, ev: &DeliveryEvent, stop: &Shutdown) -> bool {
    let mut backoff = Duration::from_millis(200);
    loop {
        match record(deps, ev).await {
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

async fn record(deps: &Deps, ev: &DeliveryEvent) -> anyhow::Result<()> {
    let id = format!("{}-{}-{}", ev.id, ev.attempt, ev.status);
    let ce = CloudEvent {
        trace: TraceParent::derived(&id),
        id,
        source: "urn:nl:schakel:notify".into(),
        kind: ev.kind.clone(),
        time: ev.at,
    };
    deps.producer
        .send(Outgoing {
            topic: "hub.deliveries.v1",
            key: &ev.id,
            value: ev,
            event: &ce,
            partition: None,
        })
        .await?;
    Ok(())
}
