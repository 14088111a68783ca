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
use std::sync::{Arc, RwLock};
use std::time::Duration;

use schakel_core::domain::events::{DirectoryEntry, ResponseEvent, SignalEvent};
pub use schakel_core::domain::tasks::{answer_key, Index, Task};
use schakel_core::log::kafka::Record;
use schakel_core::{Config, Shutdown};

use schakel_core::runtime::follow::{self, ReadTo};

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
        self.ix.write().expect("task index lock").fold_signal(s);
    }

    pub fn fold_response(&self, r: ResponseEvent) {
        self.ix.write().expect("task index lock").fold_response(r);
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
