//! Handoff tasks as the log tells them: each task that a signal opened, and how far its answers
//! got. Folded from `hub.signals.v1` and `hub.responses.v1` (every answer that was logged,
//! through the same lifecycle and in the same order as rules folds them), so a view knows an
//! answer the moment it is in the log, also one rules has not folded yet. Rules applies the
//! same lifecycle to its own state and has the last word.

use std::collections::{HashMap, HashSet};

use crate::domain::directory::Directory;
use crate::domain::events::{ResponseEvent, SignalEvent};
use crate::domain::handoff::{task_sides, Answer, Progress, Sides};

/// A handoff task as its signal opened it, and how far it got.
#[derive(Debug, Clone)]
pub struct Task {
    pub signal: SignalEvent,
    pub progress: Progress,
}

#[derive(Debug, Default)]
pub struct Index {
    pub tasks: HashMap<String, Task>,
    pub directory: Directory,
    /// answers read before their task (the topics are read side by side), in log order
    early: HashMap<String, Vec<ResponseEvent>>,
    /// per child key: the (source, id) of every answer applied, as rules keeps them; an
    /// answer sent again is a repeat, not a second answer
    seen: HashMap<String, HashSet<String>>,
}

/// The identity of an answer, as rules deduplicates them.
pub fn answer_key(source: &str, id: &str) -> String {
    format!("{source}\u{1f}{id}")
}

impl Index {
    /// Whether the answer (`source`, `id`) about `child` was already applied.
    pub fn is_repeat(&self, child: &str, source: &str, id: &str) -> bool {
        self.seen
            .get(child)
            .is_some_and(|s| s.contains(&answer_key(source, id)))
    }

    /// Applies a logged answer the way rules does: a repeat changes nothing, an answer that
    /// does not fit the task is skipped (rules dead-letters it).
    fn apply(&mut self, r: &ResponseEvent) {
        let child = r.child_key.as_str();
        if self.is_repeat(child, &r.source, &r.id) {
            return;
        }
        let Some(task) = self.tasks.get_mut(&r.signal_id) else {
            return;
        };
        let (Some((sender, receiver)), Some(answer)) =
            (task_sides(&task.signal.rule), Answer::from_type(r.kind))
        else {
            return;
        };
        if task
            .progress
            .answer(answer, Sides::of(&r.roles, sender, receiver))
            .is_ok()
        {
            self.seen
                .entry(child.to_owned())
                .or_default()
                .insert(answer_key(&r.source, &r.id));
        }
    }

    /// Folds a signal step: a task opens (answers read before it are applied), or a step
    /// rules announced closes it.
    pub fn fold_signal(&mut self, s: SignalEvent) {
        let ix = self;
        match s.step.as_str() {
            "opened" if s.task => {
                let id = s.signal_id.clone();
                if ix.tasks.contains_key(&id) {
                    return;
                }
                ix.tasks.insert(
                    id.clone(),
                    Task {
                        signal: s,
                        progress: Progress::default(),
                    },
                );
                for r in ix.early.remove(&id).unwrap_or_default() {
                    ix.apply(&r);
                }
            }
            step => {
                if let Some(t) = ix.tasks.get_mut(&s.signal_id) {
                    match step {
                        "acknowledged" => t.progress.acknowledged = true,
                        "completed" => t.progress.completed = true,
                        "cancelled" => t.progress.cancelled = true,
                        _ => {}
                    }
                }
            }
        }
    }

    /// Folds a logged answer; one read before its task waits for it.
    pub fn fold_response(&mut self, r: ResponseEvent) {
        let ix = self;
        if ix.tasks.contains_key(&r.signal_id) {
            ix.apply(&r);
        } else {
            ix.early.entry(r.signal_id.clone()).or_default().push(r);
        }
    }
}

/// What an answer would do, judged as rules will judge it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Judgement {
    /// a new answer: the contact answers for `roles`, and the task then stands at `progress`
    New {
        roles: Vec<String>,
        progress: Progress,
    },
    /// the same answer (`source`, `id`) was applied already: nothing to write again
    Repeat,
}

/// Why an answer is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// no handoff task with this signal id is known
    UnknownTask,
    /// the signal is a notice, which takes no answers
    Notice,
    /// the contact holds none of these roles of the task at the task's institutions
    NotAddressed(Vec<String>),
    /// the answer does not fit where the task stands
    Conflict(&'static str),
}

impl Index {
    /// Judges the answer (`source`, `id`) of `contact` to task `signal_id`, from the task's
    /// progress in the log or from `progress` (where earlier answers of the same request left
    /// it).
    pub fn judge(
        &self,
        contact: &str,
        signal_id: &str,
        answer: Answer,
        (source, id): (&str, &str),
        progress: Option<Progress>,
    ) -> Result<Judgement, Refusal> {
        let task = self.tasks.get(signal_id).ok_or(Refusal::UnknownTask)?;
        let (sender, receiver) = task_sides(&task.signal.rule).ok_or(Refusal::Notice)?;
        let all: Vec<&str> = sender.iter().chain(receiver).copied().collect();
        let roles = self.directory.roles_of(contact, &task.signal, &all);
        if roles.is_empty() {
            return Err(Refusal::NotAddressed(
                all.iter().map(|r| (*r).to_owned()).collect(),
            ));
        }
        if self.is_repeat(task.signal.child_key.as_str(), source, id) {
            return Ok(Judgement::Repeat);
        }
        let mut progress = progress.unwrap_or(task.progress);
        progress
            .answer(answer, Sides::of(&roles, sender, receiver))
            .map_err(Refusal::Conflict)?;
        Ok(Judgement::New { roles, progress })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::catalogue::EventType;
    use crate::domain::ids::ChildKey;

    fn signal(step: &str) -> SignalEvent {
        SignalEvent {
            id: format!("s-{step}"),
            kind: EventType::parse(&format!("nl.schakel.signal.{step}.v1")).unwrap(),
            step: step.into(),
            signal_id: "t1".into(),
            rule: "R2b".into(),
            child_key: ChildKey::parse(&"a".repeat(64)).unwrap(),
            institution: None,
            municipality: None,
            due_date: None,
            recipients: vec![],
            task: true,
            fired_on: jiff::civil::date(2026, 5, 11),
            birth_date_uncertain: false,
            facts: vec![],
            policy: Default::default(),
            routes: Default::default(),
            residence_derived_from: None,
        }
    }

    fn response(id: &str, kind: &str, role: &str) -> ResponseEvent {
        ResponseEvent {
            id: id.into(),
            source: "urn:test".into(),
            kind: EventType::parse(&format!("nl.schakel.hub.handoff-{kind}.v1")).unwrap(),
            time: jiff::Timestamp::UNIX_EPOCH,
            child_key: ChildKey::parse(&"a".repeat(64)).unwrap(),
            signal_id: "t1".into(),
            contact: "c".into(),
            at: jiff::Timestamp::UNIX_EPOCH,
            note: None,
            roles: vec![role.into()],
        }
    }

    fn progress(t: &Index) -> Progress {
        t.tasks["t1"].progress
    }

    #[test]
    fn answers_in_the_log_count_before_rules_announces_them() {
        let mut t = Index::default();
        t.fold_signal(signal("opened"));
        t.fold_response(response("a", "acknowledged", "zorgcoordinator"));
        t.fold_response(response("b", "completed", "ib"));
        let p = progress(&t);
        assert!(p.acknowledged && p.sender_confirmed && !p.completed);
        // a refused answer and a repeat change nothing
        t.fold_response(response("c", "acknowledged", "zorgcoordinator"));
        t.fold_response(response("b", "completed", "ib"));
        assert_eq!(progress(&t), p);
        assert!(t.is_repeat(&"a".repeat(64), "urn:test", "b"));
        assert!(!t.is_repeat(&"a".repeat(64), "urn:test", "c"));
        t.fold_response(response("d", "completed", "zorgcoordinator"));
        assert!(progress(&t).completed);
    }

    #[test]
    fn answers_read_before_their_task_are_applied_when_it_opens() {
        let mut t = Index::default();
        t.fold_response(response("a", "acknowledged", "zorgcoordinator"));
        t.fold_signal(signal("acknowledged"));
        t.fold_signal(signal("opened"));
        assert!(progress(&t).acknowledged);
        t.fold_signal(signal("cancelled"));
        assert!(progress(&t).cancelled);
    }
}
