//! An operator's retry (`schakel deliveries retry`): a dead letter gets one more attempt with
//! the same id, and a role nobody held is handed to whoever holds it now. The signal step is
//! read back from where the ledger says it is (its offset was committed long ago, so it is not
//! tracked for commits). Only the owner of the signal's partition re-drives it.

use schakel_core::domain::catalogue::Topic;
use schakel_core::domain::events::{DeliveryEvent, SignalEvent};
use schakel_core::log::kafka;
use schakel_core::Shutdown;

use crate::delivery::{deliver, Job};
use crate::deps::Deps;
use crate::ledger::Ledger;
use crate::ledger_writer::{ledger_record, record_until_durable, Subject};
use crate::lifecycle::{self, Outcome, Schedule};
use crate::plan::{plan, Only};

/// The work of one retried delivery: its jobs, run in turn, then (for a role) the record
/// that closes the role's unroutable step.
pub struct Redrive {
    pub jobs: Vec<Job>,
    pub then: Option<DeliveryEvent>,
}

/// Plans the re-drive of one retried delivery; None when there is nothing to do (logged).
pub async fn prepare(deps: &Deps, ledger: &Ledger, ev: &DeliveryEvent) -> Option<Redrive> {
    let (Some(p), Some(o)) = (ev.signal_partition, ev.signal_offset) else {
        tracing::warn!(delivery_id = %ev.id, "retry requested for a delivery without a signal position; not re-driven");
        return None;
    };
    let (cfg, topic) = ((*deps.cfg).clone(), deps.cfg.topic(Topic::SIGNALS));
    let rec = tokio::task::spawn_blocking(move || kafka::read_one(&cfg, &topic, p, o)).await;
    let signal = match rec {
        Ok(Ok(Some(r))) => r.value.as_deref().and_then(|v| {
            deps.producer
                .registry()
                .decode::<SignalEvent>(Topic::SIGNALS, v)
                .ok()
        }),
        _ => None,
    };
    let Some(signal) = signal.filter(|s| s.id == ev.signal_event_id) else {
        tracing::warn!(delivery_id = %ev.id, partition = p, offset = o, "the signal step of a retried delivery cannot be read; not re-driven");
        return None;
    };
    let only = match ev.contact.strip_prefix("role:") {
        Some(role) => Only::Role(role),
        None => Only::Delivery(&ev.id),
    };
    let planned = {
        let directory = deps.directory.read().expect("directory lock");
        plan(
            &deps.cfg,
            &directory,
            ledger,
            &signal,
            (p, o),
            only,
            deps.clock.now(),
        )
    };
    if let Some(role) = ev.contact.strip_prefix("role:") {
        if planned.missing.iter().any(|m| m == role) {
            tracing::warn!(delivery_id = %ev.id, role, "retried, but still no contact holds the role");
            return None;
        }
        tracing::info!(delivery_id = %ev.id, role, deliveries = planned.jobs.len(), "unroutable step handed to the role's contacts");
        // the role's record is closed once every new delivery is final; a crash before that
        // leaves the retry open, and the next owner hands the step over again (same ids)
        let s = Subject {
            id: &ev.id,
            signal: &signal,
            contact: &ev.contact,
            channel: "none",
            position: (p, o),
        };
        let now = deps.clock.now();
        let single = Schedule::single(&ev.id);
        let rerouted = match lifecycle::next(ledger.get(&ev.id), Outcome::Rerouted, &single, now) {
            Ok(r) => r,
            Err(e) => {
                tracing::error!(delivery_id = %ev.id, error = %e, "illegal delivery step refused");
                return None;
            }
        };
        let then = ledger_record(&s, &rerouted, None, now);
        return Some(Redrive {
            jobs: planned.jobs,
            then: Some(then),
        });
    }
    if planned.jobs.is_empty() {
        tracing::warn!(delivery_id = %ev.id, "the contact or channel of a retried delivery is gone; not re-driven");
        return None;
    }
    for job in &planned.jobs {
        let attempt = job.state.as_ref().map_or(0, |s| s.attempt()) + 1;
        tracing::info!(delivery_id = %job.id, attempt, "dead letter re-driven");
    }
    Some(Redrive {
        jobs: planned.jobs,
        then: None,
    })
}

/// Runs a re-drive: its deliveries in turn (usually one or two), then its closing record.
/// True once all is final and recorded.
pub async fn run(deps: &Deps, r: Redrive, stop: &Shutdown) -> bool {
    for job in r.jobs {
        if !deliver(deps, job, stop).await {
            return false;
        }
    }
    match r.then {
        Some(ev) => record_until_durable(deps, &ev, stop).await,
        None => true,
    }
}
