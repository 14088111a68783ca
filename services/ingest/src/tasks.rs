//! What ingest knows of handoff tasks and contacts, to check an answer before it is logged.
//!
//! Folded from `hub.signals.v1` (tasks and the steps rules announced), `hub.responses.v1`
//! (every answer that was logged, folded through the same lifecycle and in the same order as
//! rules folds them) and `hub.directory.v1` (contacts), read from the beginning and followed
//! while ingest runs. Folding the answers, not only the steps rules announced, makes the view
//! know an answer the moment it is in the log, also one rules has not folded yet and one that
//! announces nothing (the first side's confirmation). Rules applies the same lifecycle to its
//! own state and has the last word.

use schakel_core::domain::catalogue::Topic;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use schakel_core::domain::directory::Directory;
use schakel_core::domain::events::{DirectoryEntry, ResponseEvent, SignalEvent};
use schakel_core::domain::handoff::{task_sides, Answer, Progress, Sides};
use schakel_core::log::kafka::Record;
use schakel_core::{Config, Shutdown};

use crate::follow::{self, ReadTo};

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
}

/// The shared, followed view, and the turn that serialises answers.
#[derive(Debug, Clone, Default)]
pub struct Tasks {
    ix: Arc<RwLock<Index>>,
    read_to: ReadTo,
    turn: Arc<tokio::sync::Mutex<()>>,
    ready: Arc<std::sync::atomic::AtomicBool>,
}

impl Tasks {
    pub fn read<R>(&self, f: impl FnOnce(&Index) -> R) -> R {
        f(&self.ix.read().expect("task index lock"))
    }

    /// One answer at a time: a request holds its turn from judging its answers until they
    /// are in the log, so the next is judged with them.
    pub async fn turn(&self) -> tokio::sync::MutexGuard<'_, ()> {
        self.turn.lock().await
    }

    pub fn fold_signal(&self, s: SignalEvent) {
        let mut ix = self.ix.write().expect("task index lock");
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

    pub fn fold_response(&self, r: ResponseEvent) {
        let mut ix = self.ix.write().expect("task index lock");
        if ix.tasks.contains_key(&r.signal_id) {
            ix.apply(&r);
        } else {
            ix.early.entry(r.signal_id.clone()).or_default().push(r);
        }
    }

    pub fn fold_directory(&self, key: &str, entry: Option<DirectoryEntry>) {
        self.ix
            .write()
            .expect("task index lock")
            .directory
            .apply(key, entry);
    }

    /// The topics whose end an answer waits for: every step and every answer logged so far.
    fn judged_on(cfg: &Config) -> [String; 2] {
        [cfg.topic(Topic::SIGNALS), cfg.topic(Topic::RESPONSES)]
    }

    /// Waits up to `wait` until the view has read `hub.signals.v1` and `hub.responses.v1` up
    /// to where they end now, so an answer is judged with every step and answer logged before
    /// it, by this ingest or another. False when the log could not be asked or the view did
    /// not get there in time.
    pub async fn catch_up(&self, cfg: &Config, wait: Duration) -> bool {
        self.read_to
            .catch_up(cfg, &Self::judged_on(cfg), wait)
            .await
    }

    /// Whether the view read the log up to where it ended when ingest started.
    pub fn is_ready(&self) -> bool {
        self.ready.load(std::sync::atomic::Ordering::SeqCst)
    }
}

/// Follows the signals, the answers and the directory until shutdown.
pub async fn follow(cfg: Config, tasks: Tasks, shutdown: Shutdown) {
    let [signals, responses] = Tasks::judged_on(&cfg);
    let directory = cfg.topic(Topic::DIRECTORY);
    let reg = schakel_core::log::schemas::registry();
    let view = tasks.clone();
    let fold = move |rec: Record| {
        if rec.topic == signals {
            match rec
                .value
                .as_deref()
                .map(|v| reg.decode::<SignalEvent>(Topic::SIGNALS, v))
            {
                Some(Ok(s)) => view.fold_signal(s),
                _ => tracing::warn!(offset = rec.offset, "unreadable signal skipped"),
            }
        } else if rec.topic == responses {
            match rec
                .value
                .as_deref()
                .map(|v| reg.decode::<ResponseEvent>(Topic::RESPONSES, v))
            {
                Some(Ok(r)) => view.fold_response(r),
                _ => tracing::warn!(offset = rec.offset, "unreadable answer skipped"),
            }
        } else {
            let entry = match rec.value.as_deref() {
                None => None,
                Some(v) => match reg.decode::<DirectoryEntry>(Topic::DIRECTORY, v) {
                    Ok(e) => Some(e),
                    Err(_) => {
                        tracing::warn!(offset = rec.offset, "unreadable directory record skipped");
                        return;
                    }
                },
            };
            view.fold_directory(rec.key.as_deref().unwrap_or(""), entry);
        }
    };
    let topics = Tasks::judged_on(&cfg)
        .into_iter()
        .chain([directory])
        .collect();
    let ready = tasks.ready.clone();
    follow::follow(
        "handoff tasks",
        cfg,
        topics,
        shutdown,
        tasks.read_to.clone(),
        fold,
        move || {
            ready.store(true, std::sync::atomic::Ordering::SeqCst);
            tracing::info!("handoff tasks read up to the end of the log");
        },
    )
    .await;
}

#[cfg(test)]
mod tests {
    use super::*;
    use schakel_core::domain::catalogue::EventType;
    use schakel_core::domain::ids::ChildKey;

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

    fn progress(t: &Tasks) -> Progress {
        t.read(|ix| ix.tasks["t1"].progress)
    }

    #[test]
    fn answers_in_the_log_count_before_rules_announces_them() {
        let t = Tasks::default();
        t.fold_signal(signal("opened"));
        t.fold_response(response("a", "acknowledged", "zorgcoordinator"));
        t.fold_response(response("b", "completed", "ib"));
        let p = progress(&t);
        assert!(p.acknowledged && p.sender_confirmed && !p.completed);
        // a refused answer and a repeat change nothing
        t.fold_response(response("c", "acknowledged", "zorgcoordinator"));
        t.fold_response(response("b", "completed", "ib"));
        assert_eq!(progress(&t), p);
        assert!(t.read(|ix| ix.is_repeat(&"a".repeat(64), "urn:test", "b")));
        assert!(!t.read(|ix| ix.is_repeat(&"a".repeat(64), "urn:test", "c")));
        t.fold_response(response("d", "completed", "zorgcoordinator"));
        assert!(progress(&t).completed);
    }

    #[test]
    fn answers_read_before_their_task_are_applied_when_it_opens() {
        let t = Tasks::default();
        t.fold_response(response("a", "acknowledged", "zorgcoordinator"));
        t.fold_signal(signal("acknowledged"));
        t.fold_signal(signal("opened"));
        assert!(progress(&t).acknowledged);
        t.fold_signal(signal("cancelled"));
        assert!(progress(&t).cancelled);
    }
}
