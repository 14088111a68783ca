//! The partitions of hub.signals.v1 given to this instance: asked where the ledger ends,
//! caught up to there, live, and let go (with their low watermarks committed).

use std::collections::{HashMap, VecDeque};

use schakel_core::log::group::Offsets;
use schakel_core::log::kafka::{self, Record};
use schakel_core::Shutdown;

use super::Service;
use crate::commits::Open;
use crate::digest_send;

/// Where a partition given to this instance stands.
pub(super) enum Phase {
    /// asking where the ledger ends now
    Asking,
    /// following the ledger up to these ends (partition → next offset) before planning
    CatchingUp(HashMap<i32, i64>),
    Live,
}

pub(super) struct Part {
    pub(super) phase: Phase,
    pub(super) epoch: u64,
    pub(super) open: Open,
    /// stops this partition's deliveries when it goes (and on shutdown)
    pub(super) stop: Shutdown,
    /// signals read while catching up
    pub(super) held: VecDeque<Record>,
}

/// Where the ledger ended when a partition (of this epoch) was given.
pub(super) type LedgerEnds = (i32, u64, Result<HashMap<i32, i64>, String>);

impl Service {
    /// Partitions given: ask where the ledger ends now; they go live once it is followed to
    /// there.
    pub(super) fn assign(&mut self, ps: Vec<i32>) {
        self.joined = true;
        for p in ps {
            self.epoch += 1;
            let epoch = self.epoch;
            self.parts.insert(
                p,
                Part {
                    phase: Phase::Asking,
                    epoch,
                    open: Open::default(),
                    stop: self.root.child(),
                    held: VecDeque::new(),
                },
            );
            let (cfg, topic) = ((*self.deps.cfg).clone(), self.topics.deliveries.clone());
            self.asks.spawn(async move {
                let ends =
                    tokio::task::spawn_blocking(move || kafka::high_watermarks(&cfg, &topic))
                        .await
                        .map_err(|e| e.to_string())
                        .and_then(|r| r.map_err(|e| e.to_string()));
                (p, epoch, ends)
            });
        }
        self.update_ready();
    }

    pub(super) fn asked(&mut self, p: i32, epoch: u64, ends: Result<HashMap<i32, i64>, String>) {
        let Some(part) = self.parts.get_mut(&p).filter(|x| x.epoch == epoch) else {
            return; // taken away meanwhile
        };
        match ends {
            Ok(ends) => {
                part.phase = Phase::CatchingUp(ends);
                self.try_go_live(p);
            }
            Err(e) => {
                tracing::warn!(partition = p, error = %e, "cannot tell where the ledger ends; asking again");
                self.parts.remove(&p);
                self.assign(vec![p]);
            }
        }
    }

    /// A partition whose ledger was followed far enough goes live: its contacts' digests are
    /// rebuilt, its operators' retries resumed, and the signals held for it planned.
    pub(super) fn try_go_live(&mut self, p: i32) {
        let Some(part) = self.parts.get_mut(&p) else {
            return;
        };
        let Phase::CatchingUp(ends) = &part.phase else {
            return;
        };
        let behind = ends
            .iter()
            .any(|(lp, end)| self.ledger_next.get(lp).copied().unwrap_or(0) < *end);
        if behind {
            return;
        }
        part.phase = Phase::Live;
        // a partition's stop also comes with the service's; the tasks get it
        self.deps.owner.set(p, true);
        let held: Vec<Record> = part.held.drain(..).collect();
        let (stop, epoch) = (part.stop.clone(), part.epoch);
        tracing::info!(partition = p, held = held.len(), "partition live");
        self.waiting.extend(held);
        digest_send::rehydrate(&self.deps, &self.ledger, p);
        let retries: Vec<_> = self
            .ledger
            .open_retries()
            .into_iter()
            .filter(|e| e.signal_partition == Some(p))
            .cloned()
            .collect();
        for ev in retries {
            self.spawn_redrive(p, epoch, ev, stop.clone());
        }
        self.hold();
        self.update_ready();
    }

    /// Partitions taken away (`commit`: answer their low watermarks) or lost: their deliveries
    /// stop (they resume at the next owner, with the same ids), their digests go.
    pub(super) fn let_go(&mut self, ps: &[i32], commit: bool) -> Offsets {
        let mut out = Vec::new();
        for p in ps {
            let Some(part) = self.parts.remove(p) else {
                continue;
            };
            part.stop.trigger();
            self.deps.owner.set(*p, false);
            if commit {
                if let Some(lw) = part.open.low_watermark() {
                    out.push((self.topics.signals.clone(), *p, lw));
                }
            }
            tracing::info!(
                partition = p,
                in_flight = part.open.in_flight(),
                committed = commit,
                "partition let go; its open deliveries resume at the next owner"
            );
        }
        let owner = self.deps.owner.clone();
        self.deps.digests.forget(|c| !owner.owns_contact(c));
        self.waiting.retain(|r| !ps.contains(&r.partition));
        self.hold();
        self.update_ready();
        out
    }

    /// Commits each live partition's low watermark that changed.
    pub(super) fn commit(&mut self) {
        let mut offsets = Vec::new();
        for (p, part) in &mut self.parts {
            if !matches!(part.phase, Phase::Live) {
                continue;
            }
            if let Some(lw) = part.open.take_commit() {
                offsets.push((self.topics.signals.clone(), *p, lw));
            }
        }
        if let Err(e) = self.group.commit(&offsets) {
            tracing::warn!(error = %e, "committing signal offsets failed; the next commit covers it");
        }
    }
}
