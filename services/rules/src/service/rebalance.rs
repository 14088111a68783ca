//! The group's rebalances as the service sees them: partitions given are loaded by a task each
//! and then assigned to the input consumer; partitions taken away are snapshotted and answer
//! what to commit before they are let go; partitions lost are dropped, their new owner
//! restores them.

use rdkafka::consumer::Consumer;
use rdkafka::{Offset, TopicPartitionList};
use schakel_core::log::group::Offsets;

use super::load::load;
use super::Service;
use crate::partition::{Loaded, Partition};

impl Service<'_> {
    /// Partitions given: each is loaded by a task of its own (snapshot, committed offsets,
    /// the signals already written), then assigned to the input consumer.
    pub(super) fn assign(&mut self, ps: Vec<i32>) {
        self.joined = true;
        for p in ps {
            self.epoch += 1;
            let epoch = self.epoch;
            self.parts.insert(p, Partition::Loading { epoch });
            let (cfg, own, reader, tps) = (
                self.cfg.clone(),
                self.own.clone(),
                self.group.reader(),
                self.tps(p),
            );
            self.loads.spawn(async move {
                let r = tokio::task::spawn_blocking(move || load(&cfg, &own, &reader, p, &tps))
                    .await
                    .map_err(|e| e.to_string())
                    .and_then(|r| r);
                (p, epoch, r)
            });
        }
        self.update_ready();
    }

    pub(super) fn loaded(&mut self, p: i32, epoch: u64, result: Result<Loaded, String>) {
        if !matches!(self.parts.get(&p), Some(Partition::Loading { epoch: e }) if *e == epoch) {
            return; // taken away while it loaded
        }
        let loaded = match result {
            Ok(l) => l,
            Err(e) => {
                // the broker may be away: try again
                tracing::warn!(partition = p, error = %e, "loading the partition failed; trying again");
                self.parts.remove(&p);
                self.assign(vec![p]);
                return;
            }
        };
        let mut tpl = TopicPartitionList::new();
        for (t, start) in self.topics.iter().zip(&loaded.start) {
            let _ = tpl.add_partition_offset(t, p, Offset::Offset(*start));
        }
        if let Err(e) = self.data.incremental_assign(&tpl) {
            tracing::warn!(partition = p, error = %e, "assigning inputs failed; trying again");
            self.parts.remove(&p);
            self.assign(vec![p]);
            return;
        }
        let restoring: i64 = loaded
            .committed
            .iter()
            .zip(&loaded.start)
            .map(|(c, s)| (c - s).max(0))
            .sum();
        tracing::info!(
            partition = p,
            from_snapshot = loaded.from_snapshot.is_some(),
            children = loaded.engine.children(),
            records_to_restore = restoring,
            written_since_snapshot = loaded.written.len(),
            "partition loaded; restoring the tail of the log"
        );
        let part = Partition::from_loaded(loaded);
        if part.is_live() {
            tracing::info!(partition = p, "partition live");
        }
        self.parts.insert(p, part);
        self.update_ready();
    }

    fn unassign_inputs(&self, p: i32) {
        let mut tpl = TopicPartitionList::new();
        for t in &self.topics {
            tpl.add_partition(t, p);
        }
        if let Err(e) = self.data.incremental_unassign(&tpl) {
            tracing::warn!(partition = p, error = %e, "unassigning inputs failed");
        }
    }

    /// Partitions taken away: snapshot what changed, answer what to commit, let go.
    pub(super) async fn revoke(&mut self, ps: &[i32]) -> Offsets {
        let mut out = Vec::new();
        for p in ps {
            let Some(mut part) = self.parts.remove(p) else {
                continue;
            };
            if let Some(offsets) = part.offsets_to_commit() {
                self.unassign_inputs(*p);
                if let Some(f) = part.folding() {
                    f.merger.clear();
                }
                if part.is_live() {
                    self.snapshot_one(*p, &mut part).await;
                }
                for (t, o) in self.topics.iter().zip(offsets) {
                    out.push((t.clone(), *p, o));
                }
            }
            tracing::info!(partition = p, "partition let go");
        }
        self.update_ready();
        out
    }

    pub(super) fn lose(&mut self, ps: &[i32]) {
        for p in ps {
            if let Some(part) = self.parts.remove(p) {
                if !matches!(part, Partition::Loading { .. }) {
                    self.unassign_inputs(*p);
                }
                tracing::warn!(partition = p, "partition lost; its new owner restores it");
            }
        }
        self.update_ready();
    }
}
