//! When the service snapshots a partition: every `rules.snapshot_every` if it changed, and when
//! it is let go. What a snapshot holds and where it is kept is `crate::snapshot`'s.

use super::{Service, INPUTS};
use crate::partition::Partition;
use crate::snapshot::{self, Taking};

impl Service<'_> {
    /// Snapshots every live partition that changed since its last snapshot.
    pub(super) async fn snapshot_changed(&mut self) {
        let ps: Vec<i32> = self.parts.keys().copied().collect();
        for p in ps {
            if let Some(mut part) = self.parts.remove(&p) {
                if part.is_live() {
                    self.snapshot_one(p, &mut part).await;
                }
                self.parts.insert(p, part);
            }
        }
    }

    /// Writes a snapshot of one partition if it changed. Only an accelerator: a failure is
    /// logged and the log stays the truth.
    pub(super) async fn snapshot_one(&self, p: i32, part: &mut Partition) {
        if !self.own.rules.snapshots {
            return;
        }
        let Some(f) = part.folding() else {
            return;
        };
        if !f.changed {
            return;
        }
        let started = std::time::Instant::now();
        let image = f.engine.image();
        let offsets: Vec<(String, i64)> = INPUTS
            .iter()
            .zip(&f.done)
            .map(|(t, o)| (t.name().to_owned(), *o))
            .collect();
        let taking = Taking {
            group: &self.own.rules.group,
            partition: p,
            seq: f.seq,
            offsets,
            signals_end: f.signals_end,
            image: &image,
        };
        match snapshot::write(&self.producer, &self.own.policy, taking).await {
            Ok(bytes) => {
                f.seq += 1;
                f.changed = false;
                tracing::info!(
                    partition = p,
                    children = f.engine.children(),
                    bytes,
                    ms = started.elapsed().as_millis() as u64,
                    "snapshot written"
                );
            }
            Err(e) => tracing::warn!(partition = p, error = %e, "snapshot not written"),
        }
    }
}
