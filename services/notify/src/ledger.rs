//! The delivery ledger, folded from `hub.deliveries.v1`: what was delivered, what waits for a
//! retry, what was dead-lettered. A restarted notify reads it back and never re-sends what
//! was delivered.

use std::collections::{HashMap, HashSet};

use jiff::Timestamp;
use schakel_core::domain::events::{DeliveryEvent, DeliveryStatus};
use schakel_core::domain::ids::hex;
use sha2::{Digest, Sha256};

pub use crate::lifecycle::DeliveryState;

/// The id of delivering one signal step to one contact over one channel; also the
/// CloudEvents id and `webhook-id` the receiver sees, so a re-send carries the same id.
pub fn delivery_id(signal_event_id: &str, contact: &str, channel: &str) -> String {
    let mut h = Sha256::new();
    for p in [signal_event_id, contact, channel] {
        h.update(p.as_bytes());
        h.update([0u8]);
    }
    hex(&h.finalize()[..16])
}

/// Ledger records about an endpoint (not a delivery) have ids `endpoint:<contact>:<channel>`.
pub const ENDPOINT_PREFIX: &str = "endpoint:";

/// The ledger id of a contact's endpoint on a channel.
pub fn endpoint_id(contact: &str, channel: &str) -> String {
    format!("{ENDPOINT_PREFIX}{contact}:{channel}")
}

/// How one contact's endpoint on one channel has fared.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EndpointHealth {
    /// the first failure since the last success
    pub failing_since: Option<Timestamp>,
    /// disabled after failing too long: deliveries to it are dead-lettered at once
    pub disabled: bool,
}

/// What is known of one endpoint, as times, so records folded in any order (an instance's own
/// outcomes at once, then again as it follows the ledger) give the same health.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Track {
    /// the failures after `forgiven`, earliest first (at most `KEPT`: the earliest count)
    failures: Vec<Timestamp>,
    /// the latest success or re-enabling: failures before it no longer count
    forgiven: Option<Timestamp>,
    disabled_at: Option<Timestamp>,
    enabled_at: Option<Timestamp>,
}

/// Failures kept per endpoint: enough to know the earliest after any later success.
const KEPT: usize = 64;

/// Endpoint health per (contact, channel), folded from the ledger.
#[derive(Debug, Default, Clone)]
pub struct Endpoints(HashMap<(String, String), Track>);

impl Endpoints {
    /// Folds one record. Folding the same records in another order, or one twice, gives the
    /// same health.
    pub fn apply(&mut self, ev: &DeliveryEvent) {
        let key = (ev.contact.clone(), ev.channel.clone());
        let t = self.0.entry(key).or_default();
        let at = ev.at;
        let later = |x: Option<Timestamp>| Some(x.map_or(at, |x| x.max(at)));
        match ev.status {
            DeliveryStatus::Succeeded => t.forgiven = later(t.forgiven),
            DeliveryStatus::EndpointEnabled => {
                t.forgiven = later(t.forgiven);
                t.enabled_at = later(t.enabled_at);
            }
            DeliveryStatus::Failed | DeliveryStatus::DeadLettered => {
                if let Err(i) = t.failures.binary_search(&at) {
                    t.failures.insert(i, at);
                    t.failures.truncate(KEPT);
                }
            }
            DeliveryStatus::EndpointDisabled => t.disabled_at = later(t.disabled_at),
            _ => {}
        }
        // failures a success (or re-enabling) came after are forgiven
        if let Some(g) = t.forgiven {
            t.failures.retain(|f| *f > g);
        }
    }

    /// How many endpoints are disabled now.
    pub fn disabled_count(&self) -> usize {
        self.0
            .keys()
            .filter(|(c, ch)| self.get(c, ch).disabled)
            .count()
    }

    pub fn get(&self, contact: &str, channel: &str) -> EndpointHealth {
        let Some(t) = self.0.get(&(contact.to_owned(), channel.to_owned())) else {
            return EndpointHealth::default();
        };
        let disabled = match (t.disabled_at, t.enabled_at) {
            (Some(d), Some(e)) => d > e,
            (Some(_), None) => true,
            _ => false,
        };
        EndpointHealth {
            failing_since: t.failures.first().copied(),
            disabled,
        }
    }

    /// Forgets an endpoint (its address changed in the directory): it starts afresh.
    pub fn reset(&mut self, contact: &str) {
        self.0.retain(|(c, _), _| c != contact);
    }
}

#[derive(Debug, Default)]
pub struct Ledger {
    states: HashMap<String, DeliveryState>,
    /// the last record of every delivery (its signal, contact, channel and position)
    last: HashMap<String, DeliveryEvent>,
    /// deliveries an operator re-drove, until they are final again
    retried: HashSet<String>,
    /// deliveries that went into a digest
    digested: HashSet<String>,
}

impl Ledger {
    /// Folds one record. A final state is never undone by a late record of an earlier
    /// attempt; only a retry request reopens a dead letter.
    pub fn apply(&mut self, ev: &DeliveryEvent) {
        if ev.id.starts_with(ENDPOINT_PREFIX) {
            return; // an endpoint's record, not a delivery's
        }
        let Some(state) = DeliveryState::of(ev) else {
            return;
        };
        let current = self.states.get(&ev.id);
        match (&state, current) {
            (
                DeliveryState::RetryRequested { .. },
                Some(DeliveryState::DeadLettered { .. } | DeliveryState::Unroutable),
            ) => {
                self.retried.insert(ev.id.clone());
            }
            (DeliveryState::RetryRequested { .. }, _) => return,
            (_, Some(c)) if c.is_final() => return,
            _ => {}
        }
        if state.is_final() {
            self.retried.remove(&ev.id);
            self.digested.remove(&ev.id);
        } else if matches!(state, DeliveryState::DigestScheduled { .. }) {
            self.digested.insert(ev.id.clone());
        }
        self.states.insert(ev.id.clone(), state);
        self.last.insert(ev.id.clone(), ev.clone());
    }

    pub fn get(&self, id: &str) -> Option<&DeliveryState> {
        self.states.get(id)
    }

    /// The last record of a delivery.
    pub fn last(&self, id: &str) -> Option<&DeliveryEvent> {
        self.last.get(id)
    }

    /// Deliveries in a digest that was not sent yet, or not known to be (the last record of
    /// each): a restarted notify puts them back into their digests.
    pub fn open_digests(&self) -> Vec<&DeliveryEvent> {
        let mut out: Vec<&DeliveryEvent> = self
            .digested
            .iter()
            .filter_map(|id| self.last.get(id))
            .collect();
        out.sort_by(|a, b| a.id.cmp(&b.id));
        out
    }

    /// Re-driven deliveries that are not final: a restarted notify resumes them (their signal
    /// offsets were committed long ago, so reading signals would not bring them back).
    pub fn open_retries(&self) -> Vec<&DeliveryEvent> {
        let mut out: Vec<&DeliveryEvent> = self
            .retried
            .iter()
            .filter_map(|id| self.last.get(id))
            .collect();
        out.sort_by(|a, b| a.id.cmp(&b.id));
        out
    }

    pub fn len(&self) -> usize {
        self.states.len()
    }

    /// The deliveries whose last record `keep` accepts, as a ledger of their own.
    pub fn subset(&self, keep: impl Fn(&DeliveryEvent) -> bool) -> Ledger {
        let mut out = Ledger::default();
        for (id, ev) in &self.last {
            if keep(ev) {
                out.last.insert(id.clone(), ev.clone());
                if let Some(s) = self.states.get(id) {
                    out.states.insert(id.clone(), s.clone());
                }
                if self.retried.contains(id) {
                    out.retried.insert(id.clone());
                }
                if self.digested.contains(id) {
                    out.digested.insert(id.clone());
                }
            }
        }
        out
    }

    pub fn is_empty(&self) -> bool {
        self.states.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(id: &str, status: &str, attempt: i32) -> DeliveryEvent {
        DeliveryEvent {
            id: id.into(),
            kind: status
                .parse::<DeliveryStatus>()
                .expect("a status")
                .event_type(),
            signal_id: "s".into(),
            signal_event_id: "se".into(),
            step: "opened".into(),
            contact: "c".into(),
            channel: "webhook".into(),
            attempt,
            status: status.parse().expect("a status"),
            error: None,
            at: Timestamp::UNIX_EPOCH,
            next_attempt_at: None,
            signal_partition: Some(0),
            signal_offset: Some(7),
        }
    }

    #[test]
    fn endpoint_health_is_the_same_in_any_order_and_twice() {
        let at = |h: i64, status: &str| DeliveryEvent {
            at: Timestamp::from_second(h * 3600).unwrap(),
            ..ev("d", status, 1)
        };
        let records = [
            at(1, "failed"),
            at(2, "succeeded"),
            at(3, "failed"),
            at(4, "dead-lettered"),
            at(5, "endpoint-disabled"),
            at(6, "endpoint-enabled"),
            at(7, "failed"),
        ];
        let fold = |order: &[usize]| {
            let mut e = Endpoints::default();
            for i in order {
                e.apply(&records[*i]);
            }
            e.get("c", "webhook")
        };
        let want = EndpointHealth {
            failing_since: Some(records[6].at),
            disabled: false,
        };
        assert_eq!(fold(&[0, 1, 2, 3, 4, 5, 6]), want);
        // an instance's own outcomes at once, then all of them again as it follows the ledger
        assert_eq!(fold(&[2, 3, 0, 1, 2, 3, 4, 5, 6, 6]), want);
        assert_eq!(fold(&[6, 5, 4, 3, 2, 1, 0]), want);
        // before the re-enabling: disabled, failing since the failure after the success
        assert_eq!(
            fold(&[4, 0, 3, 1, 2]),
            EndpointHealth {
                failing_since: Some(records[2].at),
                disabled: true,
            }
        );
    }

    #[test]
    fn the_lifecycle_folds_and_only_a_retry_reopens_a_dead_letter() {
        let mut l = Ledger::default();
        for (status, attempt) in [
            ("queued", 0),
            ("in-flight", 1),
            ("failed", 1),
            ("in-flight", 2),
        ] {
            l.apply(&ev("d", status, attempt));
        }
        assert_eq!(l.get("d"), Some(&DeliveryState::InFlight { attempt: 2 }));
        l.apply(&ev("d", "dead-lettered", 2));
        l.apply(&ev("d", "in-flight", 1)); // late record of an earlier attempt
        assert_eq!(
            l.get("d"),
            Some(&DeliveryState::DeadLettered { attempt: 2 })
        );
        assert!(l.open_retries().is_empty());
        l.apply(&ev("d", "retry-requested", 2));
        assert_eq!(
            l.get("d"),
            Some(&DeliveryState::RetryRequested { attempt: 2 })
        );
        assert_eq!(l.open_retries().len(), 1);
        l.apply(&ev("d", "in-flight", 3));
        assert_eq!(l.open_retries().len(), 1, "still open while in flight");
        l.apply(&ev("d", "succeeded", 3));
        assert!(l.open_retries().is_empty());
        // a retry of something delivered changes nothing
        l.apply(&ev("d", "retry-requested", 3));
        assert_eq!(l.get("d"), Some(&DeliveryState::Delivered { attempt: 3 }));
    }
}
