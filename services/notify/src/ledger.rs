//! The delivery ledger, folded from `hub.deliveries.v1`: what was delivered, what waits for a
//! retry, what was dead-lettered. A restarted notify reads it back and never re-sends what
//! was delivered.

use std::collections::HashMap;

use jiff::Timestamp;
use schakel_core::events::DeliveryEvent;
use schakel_core::ids::hex;
use sha2::{Digest, Sha256};

/// Where one delivery stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeliveryState {
    Delivered { attempt: i32 },
    RetryScheduled { attempt: i32, at: Timestamp },
    DeadLettered { attempt: i32 },
}

impl DeliveryState {
    pub fn is_final(&self) -> bool {
        !matches!(self, DeliveryState::RetryScheduled { .. })
    }
}

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

#[derive(Debug, Default)]
pub struct Ledger {
    states: HashMap<String, DeliveryState>,
}

impl Ledger {
    pub fn apply(&mut self, ev: &DeliveryEvent) {
        let state = match ev.status.as_str() {
            "succeeded" => DeliveryState::Delivered {
                attempt: ev.attempt,
            },
            "dead-lettered" => DeliveryState::DeadLettered {
                attempt: ev.attempt,
            },
            _ => DeliveryState::RetryScheduled {
                attempt: ev.attempt,
                at: ev.next_attempt_at.unwrap_or(ev.at),
            },
        };
        // a final state is never undone by a late record of an earlier attempt
        if self.states.get(&ev.id).is_some_and(DeliveryState::is_final) {
            return;
        }
        self.states.insert(ev.id.clone(), state);
    }

    pub fn get(&self, id: &str) -> Option<&DeliveryState> {
        self.states.get(id)
    }

    pub fn len(&self) -> usize {
        self.states.len()
    }

    pub fn is_empty(&self) -> bool {
        self.states.is_empty()
    }
}
