//! The endpoints deliveries go to: a concurrency cap per endpoint, and each endpoint's health
//! folded from the ledger. An endpoint failing for `notify.disable_after` without a success is
//! disabled (recorded in the ledger) and the municipality's `beheer` gets configuration signal
//! C2; a changed directory entry enables it again.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use schakel_core::domain::events::{DeliveryEvent, DeliveryStatus};
use schakel_core::Shutdown;
use tokio::sync::Semaphore;

use crate::config_signals;
use crate::delivery::Job;
use crate::deps::Deps;
use crate::ledger::{self, delivery_id, endpoint_id, EndpointHealth};
use crate::ledger_writer::{endpoint_record, record_until_durable, Subject};

/// The caps and health of every endpoint.
#[derive(Clone)]
pub struct Endpoints {
    health: Arc<Mutex<ledger::Endpoints>>,
    caps: Arc<Mutex<HashMap<String, Arc<Semaphore>>>>,
    per_endpoint: usize,
    disable_after: Duration,
    /// where the number of disabled endpoints is published
    metrics: Arc<schakel_core::runtime::metrics::Metrics>,
}

impl Endpoints {
    pub fn new(
        health: ledger::Endpoints,
        per_endpoint: usize,
        disable_after: Duration,
        metrics: Arc<schakel_core::runtime::metrics::Metrics>,
    ) -> Self {
        publish(&metrics, &health);
        Self {
            health: Arc::new(Mutex::new(health)),
            caps: Arc::default(),
            per_endpoint: per_endpoint.max(1),
            disable_after,
            metrics,
        }
    }

    /// The concurrency cap of an endpoint (`Send::endpoint`).
    pub fn cap(&self, endpoint: &str) -> Arc<Semaphore> {
        let mut m = self.caps.lock().expect("endpoint caps lock");
        m.entry(endpoint.to_owned())
            .or_insert_with(|| Arc::new(Semaphore::new(self.per_endpoint)))
            .clone()
    }

    pub fn health(&self, contact: &str, channel: &str) -> EndpointHealth {
        self.health
            .lock()
            .expect("endpoint health lock")
            .get(contact, channel)
    }

    /// Folds a ledger record (any instance's) into the endpoints' health.
    pub fn apply(&self, ev: &DeliveryEvent) {
        let mut all = self.health.lock().expect("endpoint health lock");
        all.apply(ev);
        if matches!(
            ev.status,
            DeliveryStatus::EndpointDisabled | DeliveryStatus::EndpointEnabled
        ) {
            publish(&self.metrics, &all);
        }
    }
}

fn publish(metrics: &schakel_core::runtime::metrics::Metrics, all: &ledger::Endpoints) {
    metrics.set(
        "schakel_notify_endpoints_disabled",
        "",
        all.disabled_count() as f64,
    );
}

/// Folds an attempt's outcome into its endpoint's health and disables an endpoint that failed
/// too long. False only when `stop` interrupted it.
pub async fn check(deps: &Deps, job: &Job, outcome: &DeliveryEvent, stop: &Shutdown) -> bool {
    let channel = job.send.channel();
    // folding is order-independent: the outcome now, and again when the ledger is followed
    let failing_since = {
        let mut all = deps.endpoints.health.lock().expect("endpoint health lock");
        all.apply(outcome);
        let h = all.get(&job.contact, channel);
        // the region's own Notificaties API is not a contact's address: an outage shows as
        // dead letters and alerts, and it is never disabled (no directory entry would bring it
        // back)
        if channel == crate::notificaties::CHANNEL {
            return true;
        }
        let too_long = h.failing_since.is_some_and(|f| {
            Duration::try_from(outcome.at.duration_since(f)).unwrap_or_default()
                >= deps.endpoints.disable_after
        });
        if h.disabled || !too_long {
            return true;
        }
        // marked at once, so only one delivery of this instance disables it
        let mark = DeliveryEvent {
            status: DeliveryStatus::EndpointDisabled,
            ..outcome.clone()
        };
        all.apply(&mark);
        publish(&deps.endpoints.metrics, &all);
        h.failing_since
    };
    let id = endpoint_id(&job.contact, channel);
    let s = Subject {
        id: &id,
        signal: &job.signal,
        contact: &job.contact,
        channel,
        position: job.position,
    };
    let since = failing_since.map_or_else(String::new, |t| t.to_string());
    let ev = endpoint_record(
        &s,
        DeliveryStatus::EndpointDisabled,
        Some(format!("failing since {since}")),
        outcome.at,
    );
    if !record_until_durable(deps, &ev, stop).await {
        return false;
    }
    tracing::warn!(contact = %job.contact, channel, "endpoint disabled after failing too long");
    deps.health
        .metrics
        .inc("schakel_notify_endpoints_disabled_total", "");
    let inst = job
        .signal
        .municipality
        .as_ref()
        .map(|m| format!("gemeente:{m}"))
        .unwrap_or_default();
    let policy = [
        ("disabledContact".to_owned(), job.contact.clone()),
        ("channel".to_owned(), channel.to_owned()),
        ("failingSince".to_owned(), since.clone()),
    ]
    .into_iter()
    .collect();
    let signal_id = delivery_id("C2", &format!("{}:{since}", job.contact), channel);
    // dated on notify's clock at the outcome: the log's time, not the wall clock's
    let on = outcome.at.to_zoned(deps.tz.clone()).date();
    let _ = config_signals::raise(
        deps,
        config_signals::Raise {
            about: &job.signal,
            rule: "C2",
            signal_id,
            institution: &inst,
            policy,
            on,
            at: outcome.at,
        },
    )
    .await;
    true
}

/// An endpoint disabled for a contact whose directory entry changed starts afresh: the
/// address may be fixed. Recorded as `endpoint-enabled` by the contact's owner only.
pub async fn enable(deps: &Deps, contact: &str, stop: &Shutdown) {
    if !deps.owner.owns_contact(contact) {
        return;
    }
    let disabled: Vec<&str> = crate::directory::CHANNELS
        .iter()
        .copied()
        .filter(|ch| deps.endpoints.health(contact, ch).disabled)
        .collect();
    for channel in disabled {
        let ev = DeliveryEvent {
            id: endpoint_id(contact, channel),
            kind: DeliveryStatus::EndpointEnabled.event_type(),
            signal_id: String::new(),
            signal_event_id: String::new(),
            step: String::new(),
            contact: contact.to_owned(),
            channel: channel.to_owned(),
            attempt: 0,
            status: DeliveryStatus::EndpointEnabled,
            error: None,
            at: deps.clock.now(),
            next_attempt_at: None,
            signal_partition: None,
            signal_offset: None,
        };
        if record_until_durable(deps, &ev, stop).await {
            deps.endpoints.apply(&ev);
            tracing::info!(
                contact,
                channel,
                "endpoint enabled again: the directory entry changed"
            );
        }
    }
}
