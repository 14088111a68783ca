//! Committing the input offsets that were processed (their signals acknowledged), never below
//! what was committed before, and publishing the input counts.

use super::{Service, INPUTS};

impl Service<'_> {
    /// Commits what was processed (never below what was committed), and publishes the counts.
    pub(super) fn commit(&mut self) {
        for (t, n) in self.counted.iter_mut().enumerate() {
            if *n > 0 {
                self.health.metrics.add(
                    "schakel_rules_records_total",
                    &format!("topic=\"{}\"", INPUTS[t]),
                    std::mem::take(n),
                );
            }
        }
        let mut offsets = Vec::new();
        for (p, part) in &mut self.parts {
            let Some(f) = part.folding() else {
                continue;
            };
            if !f.dirty {
                continue;
            }
            f.dirty = false;
            for (t, o) in self.topics.iter().zip(f.commit_offsets()) {
                offsets.push((t.clone(), *p, o));
            }
        }
        if let Err(e) = self.group.commit(&offsets) {
            tracing::warn!(error = %e, "committing offsets failed; the next commit covers it");
        }
    }
}
