//! What ingest knows of handoff tasks and contacts, to check an answer before it is logged.
//!
//! Folded from `hub.signals.v1` (tasks and their steps) and `hub.directory.v1` (contacts), read
//! from the beginning and followed while ingest runs. Rules applies the same lifecycle to its
//! own state and has the last word; this view gives contacts a clear answer at once.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use rdkafka::consumer::Consumer;
use rdkafka::{Offset, TopicPartitionList};
use schakel_core::directory::Directory;
use schakel_core::events::{DirectoryEntry, SignalEvent};
use schakel_core::handoff::Progress;
use schakel_core::kafka::{self, Record};
use schakel_core::{Config, Shutdown};

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
    /// per partition of `hub.signals.v1`: the next offset the view will read
    read_to: HashMap<i32, i64>,
}

/// The shared, followed view.
#[derive(Debug, Clone, Default)]
pub struct Tasks(Arc<RwLock<Index>>);

impl Tasks {
    pub fn read<R>(&self, f: impl FnOnce(&Index) -> R) -> R {
        f(&self.0.read().expect("task index lock"))
    }

    pub fn fold_signal(&self, s: SignalEvent) {
        let mut ix = self.0.write().expect("task index lock");
        match s.step.as_str() {
            "opened" if s.task => {
                ix.tasks.entry(s.signal_id.clone()).or_insert(Task {
                    signal: s,
                    progress: Progress::default(),
                });
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

    pub fn fold_directory(&self, key: &str, entry: Option<DirectoryEntry>) {
        self.0
            .write()
            .expect("task index lock")
            .directory
            .apply(key, entry);
    }

    /// Waits up to `wait` until the view has read `hub.signals.v1` up to where it ended when
    /// this was called, so an answer is not refused for a step the log already holds. False
    /// when the log could not be asked or the view did not get there in time.
    pub async fn catch_up(&self, cfg: &Config, wait: Duration) -> bool {
        let (cfg2, topic) = (cfg.clone(), cfg.topic("hub.signals.v1"));
        let ends = match tokio::task::spawn_blocking(move || kafka::high_watermarks(&cfg2, &topic))
            .await
        {
            Ok(Ok(e)) => e,
            _ => return false,
        };
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let done = self.read(|ix| {
                ends.iter()
                    .all(|(p, end)| ix.read_to.get(p).copied().unwrap_or(0) >= *end)
            });
            if done {
                return true;
            }
            if tokio::time::Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    fn advance(&self, partition: i32, offset: i64) {
        let mut ix = self.0.write().expect("task index lock");
        let e = ix.read_to.entry(partition).or_insert(0);
        *e = (*e).max(offset + 1);
    }

    /// Waits up to `wait` until every id in `ids` is a known task (a contact may answer
    /// moments after the signal was logged).
    pub async fn await_known(&self, ids: &[String], wait: Duration) {
        let deadline = tokio::time::Instant::now() + wait;
        while !self.read(|ix| ids.iter().all(|i| ix.tasks.contains_key(i)))
            && tokio::time::Instant::now() < deadline
        {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// Follows the signals and the directory until shutdown; retries while the topics are missing.
pub async fn follow(cfg: Config, tasks: Tasks, shutdown: Shutdown) {
    loop {
        match follow_once(&cfg, &tasks, &shutdown).await {
            Ok(()) => return,
            Err(e) => {
                tracing::warn!(error = %e, "cannot follow handoff tasks; retrying in 5 s");
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_secs(5)) => {},
                    _ = shutdown.wait() => return,
                }
            }
        }
    }
}

async fn follow_once(cfg: &Config, tasks: &Tasks, shutdown: &Shutdown) -> anyhow::Result<()> {
    let group = format!(
        "schakel-ingest-tasks-{}",
        schakel_core::trace::random_hex(6)
    );
    let consumer = kafka::stream_consumer(cfg, &group)?;
    let (signals, directory) = (cfg.topic("hub.signals.v1"), cfg.topic("hub.directory.v1"));
    let mut tpl = TopicPartitionList::new();
    for t in [&signals, &directory] {
        for p in kafka::partitions(&consumer, t)? {
            tpl.add_partition_offset(t, p, Offset::Beginning)?;
        }
    }
    consumer.assign(&tpl)?;
    let reg = schakel_core::schemas::registry();
    loop {
        let m = tokio::select! {
            _ = shutdown.wait() => return Ok(()),
            m = consumer.recv() => m?,
        };
        let rec = Record::from_message(&m);
        drop(m);
        if rec.topic == signals {
            match rec
                .value
                .as_deref()
                .map(|v| reg.decode::<SignalEvent>("hub.signals.v1", v))
            {
                Some(Ok(s)) => tasks.fold_signal(s),
                _ => tracing::warn!(offset = rec.offset, "unreadable signal skipped"),
            }
            tasks.advance(rec.partition, rec.offset);
        } else {
            let entry = match rec.value.as_deref() {
                None => None,
                Some(v) => match reg.decode::<DirectoryEntry>("hub.directory.v1", v) {
                    Ok(e) => Some(e),
                    Err(_) => {
                        tracing::warn!(offset = rec.offset, "unreadable directory record skipped");
                        continue;
                    }
                },
            };
            tasks.fold_directory(rec.key.as_deref().unwrap_or(""), entry);
        }
    }
}
