//! The monitor's state: a pure fold of the log. Every signal with its steps, the answers to it
//! and its deliveries; the handoff tasks and the directory (core's task index); the sealed
//! identities and the facts of the children, to show to those entitled.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use schakel_core::domain::directory::{Contact, Directory};
use schakel_core::domain::events::{
    ChildRef, DeliveryEvent, DeliveryStatus, DirectoryEntry, IdentityRecord, ResponseEvent,
    SignalEvent,
};
use schakel_core::domain::tasks::Index;
use schakel_core::domain::wording::title;

use crate::facts::Fact;

/// A delivery of a signal step to a contact, as the ledger last said it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivered {
    pub step: String,
    pub contact: String,
    pub channel: String,
    pub status: DeliveryStatus,
    pub at: jiff::Timestamp,
}

/// One signal: its steps in log order, the answers logged for it, its deliveries.
#[derive(Debug, Clone, Default)]
pub struct SignalView {
    pub steps: Vec<SignalEvent>,
    pub answers: Vec<ResponseEvent>,
    /// by delivery id
    pub deliveries: BTreeMap<String, Delivered>,
    /// the span that wrote the newest step: a page that shows the signal joins its trace
    pub trace: Option<schakel_core::log::trace::SpanRef>,
}

impl SignalView {
    /// The first step rules wrote (the signal's rule, child, due date and routes).
    pub fn first(&self) -> Option<&SignalEvent> {
        self.steps.first()
    }

    /// The newest step.
    pub fn last(&self) -> Option<&SignalEvent> {
        self.steps.last()
    }

    /// Whether the signal no longer asks anything: resolved, completed or cancelled.
    pub fn is_closed(&self) -> bool {
        self.steps
            .iter()
            .any(|s| matches!(s.step.as_str(), "resolved" | "completed" | "cancelled"))
    }

    /// Whether a step of the signal went past its due date or was escalated (and it is open).
    pub fn is_urgent(&self) -> bool {
        !self.is_closed()
            && self
                .steps
                .iter()
                .any(|s| matches!(s.step.as_str(), "overdue" | "escalated"))
    }

    /// The title of the newest step, in Dutch.
    pub fn title(&self) -> String {
        self.last()
            .map_or_else(String::new, |s| title(&s.rule, &s.step))
    }
}

#[derive(Debug, Default)]
pub struct State {
    pub signals: HashMap<String, SignalView>,
    /// handoff tasks, their progress and the directory
    pub tasks: Index,
    /// the newest sealed identity of each child, by ChildKey
    pub identities: HashMap<String, IdentityRecord>,
    /// source facts by event id
    pub facts: HashMap<String, Fact>,
    /// each child as the newest source fact about it described it (birth date, residence)
    pub children: HashMap<String, ChildRef>,
    /// the work queues: (role, institution) → the signals addressed to that role there
    pub queues: HashMap<(String, String), BTreeSet<String>>,
    /// the facts the Leerplein's figures count, with when the log received each
    pub stats: crate::stats::log::Log,
}

impl State {
    pub fn fold_signal(&mut self, s: SignalEvent) {
        let view = self.signals.entry(s.signal_id.clone()).or_default();
        if view.steps.iter().any(|x| x.id == s.id) {
            return;
        }
        view.steps.push(s.clone());
        for role in &s.recipients {
            if let Some(inst) = Directory::institution_for(&s, role) {
                self.queues
                    .entry((role.clone(), inst))
                    .or_default()
                    .insert(s.signal_id.clone());
            }
        }
        self.tasks.fold_signal(s);
    }

    pub fn fold_response(&mut self, r: ResponseEvent) {
        let view = self.signals.entry(r.signal_id.clone()).or_default();
        if !view
            .answers
            .iter()
            .any(|a| a.id == r.id && a.source == r.source)
        {
            view.answers.push(r.clone());
        }
        self.tasks.fold_response(r);
    }

    pub fn fold_directory(&mut self, key: &str, entry: Option<DirectoryEntry>) {
        self.tasks.directory.apply(key, entry);
    }

    /// A ledger record about one delivery (records about endpoints are not per signal).
    pub fn fold_delivery(&mut self, ev: DeliveryEvent) {
        if ev.status.is_endpoint() || ev.signal_id.is_empty() {
            return;
        }
        self.signals
            .entry(ev.signal_id.clone())
            .or_default()
            .deliveries
            .insert(
                ev.id,
                Delivered {
                    step: ev.step,
                    contact: ev.contact,
                    channel: ev.channel,
                    status: ev.status,
                    at: ev.at,
                },
            );
    }

    /// The newest identity record of a child; a tombstone (erased) removes it.
    pub fn fold_identity(&mut self, key: &str, rec: Option<IdentityRecord>) {
        match rec {
            Some(r) => {
                self.identities.insert(key.to_owned(), r);
            }
            None => {
                self.identities.remove(key);
            }
        }
    }

    pub fn fold_fact(&mut self, id: String, fact: Fact, child: ChildRef) {
        self.children
            .insert(child.child_key.as_str().to_owned(), child);
        self.facts.insert(id, fact);
    }

    /// The roles in which `contact` may see signal `id` and its child: those of any step it
    /// holds at the institution the role routes to. Empty: not entitled.
    pub fn entitled_roles(&self, contact: &str, id: &str) -> Vec<String> {
        let Some(view) = self.signals.get(id) else {
            return Vec::new();
        };
        let mut out: Vec<String> = Vec::new();
        for s in &view.steps {
            let roles: Vec<&str> = s.recipients.iter().map(String::as_str).collect();
            for r in self.tasks.directory.roles_of(contact, s, &roles) {
                if !out.contains(&r) {
                    out.push(r);
                }
            }
        }
        out
    }

    pub fn contact(&self, id: &str) -> Option<&Contact> {
        self.tasks.directory.contact(id)
    }

    /// The contact whom an identity provider's claim names: by e-mail address (any case) when
    /// `claim` is `email`, else by contact id.
    pub fn contact_for_claim(&self, claim: &str, value: &str) -> Option<&Contact> {
        if claim == "email" {
            self.tasks.directory.all_contacts().find(|c| {
                c.email
                    .as_deref()
                    .is_some_and(|e| e.eq_ignore_ascii_case(value))
            })
        } else {
            self.contact(value)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use schakel_core::domain::catalogue::EventType;
    use schakel_core::domain::events::{DirectoryItem, Preferences};
    use schakel_core::domain::ids::ChildKey;

    fn step(step: &str, rule: &str) -> SignalEvent {
        SignalEvent {
            id: format!("sig1-{step}"),
            kind: EventType::parse(&format!("nl.schakel.signal.{step}.v1")).unwrap(),
            step: step.into(),
            signal_id: "sig1".into(),
            rule: rule.into(),
            child_key: ChildKey::parse(&"b".repeat(64)).unwrap(),
            institution: Some("gemeente:0392".into()),
            municipality: Some("0392".into()),
            due_date: None,
            recipients: if step == "escalated" {
                vec!["doorbraak".into()]
            } else {
                vec!["jeugdteam".into(), "volwassenen".into()]
            },
            task: true,
            fired_on: jiff::civil::date(2026, 1, 12),
            birth_date_uncertain: false,
            facts: vec![],
            policy: Default::default(),
            routes: Default::default(),
            residence_derived_from: None,
        }
    }

    fn contact(id: &str, institution: &str, role: &str) -> DirectoryEntry {
        DirectoryEntry {
            entry: DirectoryItem::Contact {
                id: id.into(),
                name: id.into(),
                organisation: None,
                institution: institution.into(),
                roles: vec![role.into()],
                email: None,
                webhook: None,
                preferences: Some(Preferences::default()),
            },
        }
    }

    #[test]
    fn who_may_see_a_signal_follows_its_roles_and_their_institutions() {
        let mut s = State::default();
        s.fold_directory("a", Some(contact("jt", "gemeente:0392", "jeugdteam")));
        s.fold_directory(
            "b",
            Some(contact("jt-elders", "gemeente:0363", "jeugdteam")),
        );
        s.fold_directory("c", Some(contact("ib", "gemeente:0392", "ib")));
        s.fold_directory("d", Some(contact("db", "gemeente:0392", "doorbraak")));
        s.fold_signal(step("opened", "R3b"));
        assert_eq!(s.entitled_roles("jt", "sig1"), ["jeugdteam"]);
        assert!(
            s.entitled_roles("jt-elders", "sig1").is_empty(),
            "another municipality"
        );
        assert!(s.entitled_roles("ib", "sig1").is_empty(), "another role");
        assert!(
            s.entitled_roles("db", "sig1").is_empty(),
            "not yet escalated"
        );
        s.fold_signal(step("escalated", "R3b"));
        assert_eq!(s.entitled_roles("db", "sig1"), ["doorbraak"]);
        assert!(s.entitled_roles("jt", "unknown").is_empty());
    }

    #[test]
    fn a_step_or_answer_read_twice_counts_once_and_closing_steps_close() {
        let mut s = State::default();
        s.fold_signal(step("opened", "R3b"));
        s.fold_signal(step("opened", "R3b"));
        s.fold_signal(step("overdue", "R3b"));
        let v = &s.signals["sig1"];
        assert_eq!(v.steps.len(), 2);
        assert!(v.is_urgent() && !v.is_closed());
        s.fold_signal(step("cancelled", "R3b"));
        let v = &s.signals["sig1"];
        assert!(v.is_closed() && !v.is_urgent());
        assert!(v.title().starts_with("Vervallen"));
    }
}
