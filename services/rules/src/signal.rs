//! Signals: deterministic ids and the records rules emits.

use std::collections::BTreeMap;

use jiff::civil::Date;
use schakel_core::domain::catalogue::EventType;
use schakel_core::domain::events::SignalEvent;
use schakel_core::domain::ids::{hex, ChildKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::rules::Rule;

/// A step in the life of a signal or handoff task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Step {
    Opened,
    Reminded,
    Overdue,
    Escalated,
    /// a notice that no longer applies (a late fact made it moot)
    Resolved,
    /// the receiving side of a task confirmed it
    Acknowledged,
    /// both sides confirmed the handoff took place
    Completed,
    /// a task that became moot, or that a contact cancelled
    Cancelled,
}

impl Step {
    pub fn as_str(&self) -> &'static str {
        match self {
            Step::Opened => "opened",
            Step::Reminded => "reminded",
            Step::Overdue => "overdue",
            Step::Escalated => "escalated",
            Step::Resolved => "resolved",
            Step::Acknowledged => "acknowledged",
            Step::Completed => "completed",
            Step::Cancelled => "cancelled",
        }
    }

    /// The signal type of a record of this step.
    pub fn event_type(&self) -> EventType {
        match self {
            Step::Opened => EventType::SignalOpened,
            Step::Reminded => EventType::SignalReminded,
            Step::Overdue => EventType::SignalOverdue,
            Step::Escalated => EventType::SignalEscalated,
            Step::Resolved => EventType::SignalResolved,
            Step::Acknowledged => EventType::SignalAcknowledged,
            Step::Completed => EventType::SignalCompleted,
            Step::Cancelled => EventType::SignalCancelled,
        }
    }

    pub fn bit(&self) -> u16 {
        1 << (*self as u16)
    }
}

fn short_hash(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0u8]);
    }
    hex(&h.finalize()[..16])
}

/// The id of a signal: a hash of rule, child and episode, the same on every replay.
pub fn signal_id(rule: Rule, child: &str, episode: &str) -> String {
    short_hash(&[rule.id(), child, episode])
}

/// The id of one step of a signal.
pub fn event_id(signal_id: &str, step: Step) -> String {
    short_hash(&[signal_id, step.as_str()])
}

/// What a rule decided to emit; the engine turns it into a `SignalEvent`.
#[derive(Debug, Clone)]
pub struct Emit {
    pub rule: Rule,
    pub step: Step,
    pub episode: String,
    pub institution: Option<String>,
    pub municipality: Option<String>,
    pub due: Option<Date>,
    pub recipients: Vec<&'static str>,
    pub task: bool,
    pub facts: Vec<String>,
    pub policy: BTreeMap<String, String>,
    pub routes: BTreeMap<String, String>,
    /// `school` when the municipality is the school's, no source having reported a residence
    pub residence_derived_from: Option<&'static str>,
}

impl Emit {
    pub fn into_event(self, child: &ChildKey, fired_on: Date, uncertain: bool) -> SignalEvent {
        let sid = signal_id(self.rule, child.as_str(), &self.episode);
        SignalEvent {
            id: event_id(&sid, self.step),
            kind: self.step.event_type(),
            step: self.step.as_str().to_owned(),
            signal_id: sid,
            rule: self.rule.id().to_owned(),
            child_key: child.clone(),
            institution: self.institution,
            municipality: self.municipality,
            due_date: self.due,
            recipients: self.recipients.iter().map(|r| (*r).to_owned()).collect(),
            task: self.task,
            fired_on,
            birth_date_uncertain: uncertain,
            facts: self.facts,
            policy: self.policy,
            routes: self.routes,
            residence_derived_from: self.residence_derived_from.map(str::to_owned),
        }
    }
}
