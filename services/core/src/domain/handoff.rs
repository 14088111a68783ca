//! The warm-handoff lifecycle: which answers a contact may give to a task, and what they do.
//!
//! `opened` → `acknowledged` (the receiver confirms) → `completed` (sender and receiver both
//! confirm the conversation took place), or `cancelled` (moot) at any point before completion.
//! Ingest checks an answer against the task as it knows it (a quick, clear refusal); rules
//! applies the same function to its own state and is the authority.

use serde::{Deserialize, Serialize};

use crate::domain::catalogue::EventType;

/// The sending and receiving roles of the handoff task a rule opens; None for a notice.
pub fn task_sides(rule: &str) -> Option<(&'static [&'static str], &'static [&'static str])> {
    match rule {
        "R1a" => Some((&["vve-mentor"], &["ib"])),
        "R2b" => Some((&["ib"], &["zorgcoordinator"])),
        "R3b" => Some((&["jeugdteam"], &["volwassenen"])),
        "R3d" => Some((&["leerplicht"], &["rmc"])),
        _ => None,
    }
}

/// An answer a contact gives to a task.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    Acknowledge,
    Complete,
    Cancel,
}

impl Answer {
    /// The answer of a response event type (`nl.schakel.hub.handoff-acknowledged.v1` …).
    pub fn from_type(kind: EventType) -> Option<Self> {
        match kind {
            EventType::HandoffAcknowledged => Some(Self::Acknowledge),
            EventType::HandoffCompleted => Some(Self::Complete),
            EventType::HandoffCancelled => Some(Self::Cancel),
            _ => None,
        }
    }

    /// The response type that records this answer.
    pub fn event_type(self) -> EventType {
        match self {
            Self::Acknowledge => EventType::HandoffAcknowledged,
            Self::Complete => EventType::HandoffCompleted,
            Self::Cancel => EventType::HandoffCancelled,
        }
    }
}

/// Which side(s) of a task a contact answers for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Sides {
    pub sender: bool,
    pub receiver: bool,
}

impl Sides {
    /// The sides a contact holding `roles` takes in a task from `sender` to `receiver` roles.
    pub fn of(roles: &[String], sender: &[&str], receiver: &[&str]) -> Self {
        let holds = |set: &[&str]| roles.iter().any(|r| set.contains(&r.as_str()));
        Self {
            sender: holds(sender),
            receiver: holds(receiver),
        }
    }
}

/// Where a task stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Progress {
    pub acknowledged: bool,
    pub sender_confirmed: bool,
    pub receiver_confirmed: bool,
    pub completed: bool,
    pub cancelled: bool,
}

/// What an accepted answer changes: the step to announce, if any.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Acknowledged,
    /// one side confirmed; the task completes when the other side confirms too
    HalfConfirmed,
    Completed,
    Cancelled,
}

impl Progress {
    pub fn is_closed(&self) -> bool {
        self.completed || self.cancelled
    }

    /// Applies an answer, or says why it is refused (and changes nothing).
    pub fn answer(&mut self, answer: Answer, sides: Sides) -> Result<Outcome, &'static str> {
        if !sides.sender && !sides.receiver {
            return Err("the contact holds none of the roles this task is addressed to");
        }
        if self.completed {
            return Err("the task is already completed");
        }
        if self.cancelled {
            return Err("the task is already cancelled");
        }
        match answer {
            Answer::Acknowledge => {
                if !sides.receiver {
                    return Err("only the receiving side acknowledges a task");
                }
                if self.acknowledged {
                    return Err("the task is already acknowledged");
                }
                self.acknowledged = true;
                Ok(Outcome::Acknowledged)
            }
            Answer::Complete => {
                if !self.acknowledged {
                    return Err("a task must be acknowledged before it is completed");
                }
                let new_sender = sides.sender && !self.sender_confirmed;
                let new_receiver = sides.receiver && !self.receiver_confirmed;
                if !new_sender && !new_receiver {
                    return Err("this side already confirmed the handoff");
                }
                self.sender_confirmed |= sides.sender;
                self.receiver_confirmed |= sides.receiver;
                if self.sender_confirmed && self.receiver_confirmed {
                    self.completed = true;
                    Ok(Outcome::Completed)
                } else {
                    Ok(Outcome::HalfConfirmed)
                }
            }
            Answer::Cancel => {
                self.cancelled = true;
                Ok(Outcome::Cancelled)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SENDER: Sides = Sides {
        sender: true,
        receiver: false,
    };
    const RECEIVER: Sides = Sides {
        sender: false,
        receiver: true,
    };

    #[test]
    fn the_lifecycle_runs_acknowledge_then_both_confirm() {
        let mut p = Progress::default();
        assert!(
            p.answer(Answer::Complete, RECEIVER).is_err(),
            "not before ack"
        );
        assert!(
            p.answer(Answer::Acknowledge, SENDER).is_err(),
            "receiver acks"
        );
        assert_eq!(p, Progress::default(), "refusals change nothing");
        assert_eq!(
            p.answer(Answer::Acknowledge, RECEIVER),
            Ok(Outcome::Acknowledged)
        );
        assert!(p.answer(Answer::Acknowledge, RECEIVER).is_err());
        assert_eq!(
            p.answer(Answer::Complete, SENDER),
            Ok(Outcome::HalfConfirmed)
        );
        assert!(p.answer(Answer::Complete, SENDER).is_err());
        assert_eq!(p.answer(Answer::Complete, RECEIVER), Ok(Outcome::Completed));
        assert!(p.answer(Answer::Cancel, SENDER).is_err(), "closed");
    }

    #[test]
    fn outsiders_are_refused_and_cancel_closes() {
        let mut p = Progress::default();
        assert!(p.answer(Answer::Cancel, Sides::default()).is_err());
        assert_eq!(p.answer(Answer::Cancel, SENDER), Ok(Outcome::Cancelled));
        assert!(p.answer(Answer::Acknowledge, RECEIVER).is_err());
        let both = Sides {
            sender: true,
            receiver: true,
        };
        let mut q = Progress::default();
        q.answer(Answer::Acknowledge, both).unwrap();
        assert_eq!(q.answer(Answer::Complete, both), Ok(Outcome::Completed));
        let roles = vec!["ib".to_owned()];
        assert_eq!(Sides::of(&roles, &["ib"], &["zorgcoordinator"]), SENDER);
    }
}
