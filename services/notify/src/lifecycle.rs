//! The lifecycle of one delivery: where it stands, and the one function, [`next`], that says
//! where a step takes it and refuses a step the lifecycle does not have.
//!
//! ```text
//! (none) ─planned─▶ queued ─attempt─▶ in-flight ─sent─▶ succeeded
//!                     │                  │  ▲
//!                     │                  │  └─attempt─ failed (retry scheduled)
//!                     │                  └─failed, no retry left─▶ dead-lettered
//!                     └─digest─▶ digest-scheduled ─attempt─▶ in-flight (the digest's mail)
//! dead-lettered ─retry requested─▶ retry-requested ─attempt─▶ in-flight (one attempt)
//! (none) ─no contact─▶ unroutable ─retry requested─▶ retry-requested ─rerouted─▶ rerouted
//! ```
//!
//! A step that must not be sent at all (the contact was removed, the endpoint disabled) goes
//! from any open state to dead-lettered.

use std::time::Duration;

use jiff::Timestamp;
use schakel_core::domain::events::{DeliveryEvent, DeliveryStatus};

/// Where one delivery stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeliveryState {
    Queued,
    InFlight {
        attempt: i32,
    },
    Delivered {
        attempt: i32,
    },
    RetryScheduled {
        attempt: i32,
        at: Timestamp,
    },
    DeadLettered {
        attempt: i32,
    },
    RetryRequested {
        attempt: i32,
    },
    /// waits for the contact's daily digest at `at`
    DigestScheduled {
        attempt: i32,
        at: Timestamp,
    },
    /// no contact holds the role (the delivery's contact is `role:<role>`); a configuration
    /// signal went to the municipality's `beheer`
    Unroutable,
    /// an unroutable role was retried after the directory was fixed: handed to its contacts
    Rerouted,
}

/// What happened to a delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// planned: recorded before anything is sent
    Planned,
    /// no contact holds the role the step is for
    NoContact,
    /// goes into the contact's daily digest, sent at `at`
    Digest { at: Timestamp },
    /// an attempt starts (again, after a crash, with the same number)
    Attempt,
    /// the receiver took it
    Sent,
    /// the attempt failed
    Failed,
    /// the digest it was in failed: it waits for a later digest
    DigestFailed,
    /// it must not be sent at all
    Refused,
    /// an operator asked for one more attempt
    RetryRequested,
    /// an unroutable step was handed to the role's contacts
    Rerouted,
}

/// A step the lifecycle does not have.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a delivery that is {from} cannot take the step {outcome:?}")]
pub struct IllegalStep {
    pub from: &'static str,
    pub outcome: Outcome,
}

/// When the attempts after a failure are made: the waits before attempt 2, 3, … of one
/// delivery, each spread by up to ±10 % (the same for the same delivery and attempt every
/// time: without the spread, every retry of an endpoint that was down fires in one second).
#[derive(Debug, Clone, Copy)]
pub struct Schedule<'a> {
    waits: &'a [Duration],
    id: &'a str,
}

impl<'a> Schedule<'a> {
    pub fn new(waits: &'a [Duration], id: &'a str) -> Self {
        Self { waits, id }
    }

    /// No retries: an operator's retry of a dead letter is one attempt.
    pub fn single(id: &'a str) -> Self {
        Self { waits: &[], id }
    }

    /// The wait after attempt `attempt` failed; None when it was the last.
    pub fn wait(&self, attempt: i32) -> Option<Duration> {
        let base = *self.waits.get(usize::try_from(attempt - 1).ok()?)?;
        let h = format!("{}/{attempt}", self.id)
            .bytes()
            .fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
                (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
            });
        // a factor in [0.9, 1.1)
        let permille = 900 + (h % 200);
        Some(base * permille as u32 / 1000)
    }

    fn retry_at(&self, attempt: i32, now: Timestamp) -> Option<Timestamp> {
        let wait = jiff::SignedDuration::try_from(self.wait(attempt)?).ok()?;
        now.checked_add(wait).ok()
    }
}

/// Where `outcome` takes a delivery that stands at `state` (None: nothing recorded yet).
pub fn next(
    state: Option<&DeliveryState>,
    outcome: Outcome,
    schedule: &Schedule<'_>,
    now: Timestamp,
) -> Result<DeliveryState, IllegalStep> {
    use DeliveryState as S;
    use Outcome as O;
    let illegal = || IllegalStep {
        from: state.map_or("not recorded", DeliveryState::label),
        outcome,
    };
    Ok(match (state, outcome) {
        (None, O::Planned) => S::Queued,
        (None, O::NoContact) => S::Unroutable,
        (Some(S::Queued | S::InFlight { .. } | S::RetryScheduled { .. }), O::Digest { at }) => {
            S::DigestScheduled { attempt: 1, at }
        }
        (Some(S::Queued), O::Attempt) => S::InFlight { attempt: 1 },
        // it may or may not have arrived: sent again, with the same id
        (Some(S::InFlight { attempt } | S::DigestScheduled { attempt, .. }), O::Attempt) => {
            S::InFlight { attempt: *attempt }
        }
        (Some(S::RetryScheduled { attempt, .. } | S::RetryRequested { attempt }), O::Attempt) => {
            S::InFlight {
                attempt: attempt + 1,
            }
        }
        (Some(S::InFlight { attempt }), O::Sent) => S::Delivered { attempt: *attempt },
        (Some(S::InFlight { attempt }), O::Failed) => match schedule.retry_at(*attempt, now) {
            Some(at) => S::RetryScheduled {
                attempt: *attempt,
                at,
            },
            None => S::DeadLettered { attempt: *attempt },
        },
        (Some(S::InFlight { attempt }), O::DigestFailed) => {
            match schedule.retry_at(*attempt, now) {
                Some(at) => S::DigestScheduled {
                    attempt: attempt + 1,
                    at,
                },
                None => S::DeadLettered { attempt: *attempt },
            }
        }
        (Some(s), O::Refused) if !s.is_final() && *s != S::Unroutable => S::DeadLettered {
            attempt: s.upcoming_attempt(),
        },
        (Some(S::DeadLettered { attempt }), O::RetryRequested) => {
            S::RetryRequested { attempt: *attempt }
        }
        (Some(S::Unroutable), O::RetryRequested) => S::RetryRequested { attempt: 0 },
        (Some(S::RetryRequested { .. } | S::Unroutable), O::Rerouted) => S::Rerouted,
        _ => return Err(illegal()),
    })
}

impl DeliveryState {
    pub fn is_final(&self) -> bool {
        matches!(
            self,
            DeliveryState::Delivered { .. }
                | DeliveryState::DeadLettered { .. }
                | DeliveryState::Unroutable
                | DeliveryState::Rerouted
        )
    }

    /// The state a ledger record stands for; None for a record about an endpoint.
    pub fn of(ev: &DeliveryEvent) -> Option<Self> {
        let attempt = ev.attempt;
        let at = ev.next_attempt_at.unwrap_or(ev.at);
        Some(match ev.status {
            DeliveryStatus::Queued => DeliveryState::Queued,
            DeliveryStatus::InFlight => DeliveryState::InFlight { attempt },
            DeliveryStatus::Succeeded => DeliveryState::Delivered { attempt },
            DeliveryStatus::Failed => DeliveryState::RetryScheduled { attempt, at },
            DeliveryStatus::DeadLettered => DeliveryState::DeadLettered { attempt },
            DeliveryStatus::RetryRequested => DeliveryState::RetryRequested { attempt },
            DeliveryStatus::DigestScheduled => DeliveryState::DigestScheduled { attempt, at },
            DeliveryStatus::Unroutable => DeliveryState::Unroutable,
            DeliveryStatus::Rerouted => DeliveryState::Rerouted,
            DeliveryStatus::EndpointDisabled | DeliveryStatus::EndpointEnabled => return None,
        })
    }

    /// The status its ledger record says.
    pub fn status(&self) -> DeliveryStatus {
        match self {
            DeliveryState::Queued => DeliveryStatus::Queued,
            DeliveryState::InFlight { .. } => DeliveryStatus::InFlight,
            DeliveryState::Delivered { .. } => DeliveryStatus::Succeeded,
            DeliveryState::RetryScheduled { .. } => DeliveryStatus::Failed,
            DeliveryState::DeadLettered { .. } => DeliveryStatus::DeadLettered,
            DeliveryState::RetryRequested { .. } => DeliveryStatus::RetryRequested,
            DeliveryState::DigestScheduled { .. } => DeliveryStatus::DigestScheduled,
            DeliveryState::Unroutable => DeliveryStatus::Unroutable,
            DeliveryState::Rerouted => DeliveryStatus::Rerouted,
        }
    }

    /// The attempt its ledger record names (0 before the first, and for a role's step).
    pub fn attempt(&self) -> i32 {
        match self {
            DeliveryState::InFlight { attempt }
            | DeliveryState::Delivered { attempt }
            | DeliveryState::RetryScheduled { attempt, .. }
            | DeliveryState::DeadLettered { attempt }
            | DeliveryState::RetryRequested { attempt }
            | DeliveryState::DigestScheduled { attempt, .. } => *attempt,
            DeliveryState::Queued | DeliveryState::Unroutable | DeliveryState::Rerouted => 0,
        }
    }

    /// When the next attempt is due, for a state that waits.
    pub fn next_attempt_at(&self) -> Option<Timestamp> {
        match self {
            DeliveryState::RetryScheduled { at, .. }
            | DeliveryState::DigestScheduled { at, .. } => Some(*at),
            _ => None,
        }
    }

    /// The attempt that would be made next.
    fn upcoming_attempt(&self) -> i32 {
        match self {
            DeliveryState::Queued => 1,
            DeliveryState::RetryScheduled { attempt, .. }
            | DeliveryState::RetryRequested { attempt } => attempt + 1,
            other => other.attempt(),
        }
    }

    /// The word `schakel deliveries` shows.
    pub fn label(&self) -> &'static str {
        match self {
            DeliveryState::Queued => "queued",
            DeliveryState::InFlight { .. } => "in-flight",
            DeliveryState::Delivered { .. } => "delivered",
            DeliveryState::RetryScheduled { .. } => "retry-scheduled",
            DeliveryState::DeadLettered { .. } => "dead-lettered",
            DeliveryState::RetryRequested { .. } => "retry-requested",
            DeliveryState::DigestScheduled { .. } => "digest-scheduled",
            DeliveryState::Unroutable => "unroutable",
            DeliveryState::Rerouted => "rerouted",
        }
    }
}

#[cfg(test)]
mod tests;
