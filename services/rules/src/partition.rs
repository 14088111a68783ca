//! One input partition of the rules service, from the moment the group gives it to this
//! instance to the moment it is let go: the state machine of a rebalance.
//!
//! ```text
//!  given ──▶ Loading ──(snapshot, committed offsets, signals written since)──▶ Restoring ──▶ Live
//!               │                                                               │           │
//!               └──────────── taken away: abandoned ◀───────────────────────────┴───────────┘
//!                                                   taken away: snapshot, commit, let go
//! ```
//!
//! While Restoring, the inputs below the committed offsets are folded without emitting; once
//! every input topic reached its committed offset the partition is Live. A signal step that
//! is already in hub.signals.v1 (written by the previous owner after its last commit) is not
//! written again.

use std::collections::HashSet;

use schakel_core::log::kafka::Record;
use schakel_core::log::merge::Merger;

use crate::Engine;

/// Records per input topic that may wait in the merger before that topic is paused.
const MERGE_CAP: usize = 20_000;

/// What loading a partition found.
pub struct Loaded {
    pub engine: Engine,
    /// the next snapshot's sequence number
    pub seq: u64,
    /// per input topic: the first offset to read (after the snapshot, or the log's start)
    pub start: Vec<i64>,
    /// per input topic: the committed offset; records below it were processed before
    pub committed: Vec<i64>,
    /// signal step ids in hub.signals.v1 since the snapshot: never written twice
    pub written: HashSet<String>,
    /// where the partition of hub.signals.v1 ended when it was read
    pub signals_end: i64,
    /// children restored from a snapshot (None: no snapshot was used)
    pub from_snapshot: Option<usize>,
}

/// The state of a partition this instance folds.
pub struct Folding {
    pub engine: Engine,
    pub merger: Merger,
    /// per input topic: the next offset expected from the consumer
    pub read: Vec<i64>,
    /// per input topic: the next offset not yet processed (what may be committed)
    pub done: Vec<i64>,
    pub committed: Vec<i64>,
    pub written: HashSet<String>,
    pub paused: Vec<bool>,
    pub seq: u64,
    pub signals_end: i64,
    /// changed since its last snapshot
    pub changed: bool,
    /// processed records since its last commit
    pub dirty: bool,
}

pub enum Partition {
    /// given; being loaded by the task of this epoch
    Loading { epoch: u64 },
    /// folding the log up to the committed offsets: nothing is emitted
    Restoring(Box<Folding>),
    /// caught up: new inputs emit
    Live(Box<Folding>),
}

impl Partition {
    /// The loaded state of a partition: Restoring if the log holds records below the
    /// committed offsets that are not in the snapshot, Live otherwise.
    pub fn from_loaded(l: Loaded) -> Self {
        let topics = l.start.len();
        let f = Box::new(Folding {
            engine: l.engine,
            merger: Merger::new(topics, MERGE_CAP),
            read: l.start.clone(),
            done: l.start,
            committed: l.committed,
            written: l.written,
            paused: vec![false; topics],
            seq: l.seq,
            signals_end: l.signals_end,
            changed: false,
            dirty: false,
        });
        if f.caught_up() {
            Partition::Live(f)
        } else {
            Partition::Restoring(f)
        }
    }

    pub fn folding(&mut self) -> Option<&mut Folding> {
        match self {
            Partition::Loading { .. } => None,
            Partition::Restoring(f) | Partition::Live(f) => Some(f),
        }
    }

    pub fn is_live(&self) -> bool {
        matches!(self, Partition::Live(_))
    }

    /// Restoring → Live once the committed offsets are reached (no-op otherwise).
    pub fn settle(self) -> (Self, bool) {
        match self {
            Partition::Restoring(f) if f.caught_up() => (Partition::Live(f), true),
            other => (other, false),
        }
    }

    /// What to commit when the partition is let go: never below what was committed before.
    pub fn offsets_to_commit(&self) -> Option<Vec<i64>> {
        match self {
            Partition::Loading { .. } => None,
            Partition::Restoring(f) | Partition::Live(f) => Some(f.commit_offsets()),
        }
    }
}

impl Folding {
    /// Every input topic reached its committed offset.
    pub fn caught_up(&self) -> bool {
        self.done.iter().zip(&self.committed).all(|(d, c)| d >= c)
    }

    /// Takes a record from the consumer; false when it is stale (before what was read).
    pub fn accept(&mut self, topic: usize, rec: Record) -> bool {
        if rec.offset < self.read[topic] {
            return false;
        }
        self.read[topic] = rec.offset + 1;
        self.merger.push(topic, rec);
        true
    }

    /// Whether a record of `topic` at `offset` was processed before the last stop.
    pub fn silent(&self, topic: usize, offset: i64) -> bool {
        offset < self.committed[topic]
    }

    /// A record was processed.
    pub fn processed(&mut self, topic: usize, offset: i64) {
        self.done[topic] = offset + 1;
        self.changed = true;
        self.dirty = true;
    }

    /// The offsets that may be committed: what was processed, never below the committed.
    pub fn commit_offsets(&self) -> Vec<i64> {
        self.done
            .iter()
            .zip(&self.committed)
            .map(|(d, c)| *d.max(c))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn loaded(start: Vec<i64>, committed: Vec<i64>) -> Loaded {
        Loaded {
            engine: Engine::new(crate::policy::Policy::default()),
            seq: 0,
            start,
            committed,
            written: HashSet::new(),
            signals_end: 0,
            from_snapshot: None,
        }
    }

    fn rec(offset: i64) -> Record {
        Record {
            topic: String::new(),
            partition: 0,
            offset,
            key: None,
            value: None,
            timestamp: Some(offset),
            trace: None,
        }
    }

    #[test]
    fn a_partition_below_its_committed_offsets_restores_silently_then_goes_live() {
        let mut p = Partition::from_loaded(loaded(vec![0, 0], vec![2, 0]));
        assert!(!p.is_live());
        let f = p.folding().expect("folding");
        assert!(f.silent(0, 1) && !f.silent(0, 2) && !f.silent(1, 0));
        f.processed(0, 0);
        let (p, live) = p.settle();
        assert!(!live && !p.is_live());
        let mut p = p;
        p.folding().expect("folding").processed(0, 1);
        let (p, live) = p.settle();
        assert!(live && p.is_live());
    }

    #[test]
    fn nothing_to_restore_is_live_at_once() {
        assert!(Partition::from_loaded(loaded(vec![5, 3], vec![5, 0])).is_live());
    }

    #[test]
    fn letting_go_never_commits_below_the_committed_offsets() {
        let mut p = Partition::from_loaded(loaded(vec![0, 0], vec![10, 4]));
        p.folding().expect("folding").processed(0, 6);
        assert_eq!(p.offsets_to_commit(), Some(vec![10, 4]));
        assert_eq!(Partition::Loading { epoch: 1 }.offsets_to_commit(), None);
    }

    #[test]
    fn stale_records_are_refused() {
        let mut p = Partition::from_loaded(loaded(vec![3, 0], vec![0, 0]));
        let f = p.folding().expect("folding");
        assert!(!f.accept(0, rec(2)), "before the start");
        assert!(f.accept(0, rec(3)));
        assert!(!f.accept(0, rec(3)), "a repeat");
        assert!(f.accept(0, rec(4)));
    }
}
