//! Which signal offset of a partition may be committed: the oldest signal that still has a
//! delivery in flight, or the next signal to read when none has. A crash or a partition that
//! moves to another instance then resumes every delivery that was not final, from the log.

use std::collections::BTreeMap;

/// The open deliveries of one partition of hub.signals.v1.
#[derive(Debug, Default)]
pub struct Open {
    /// signal offset → deliveries of it not yet final
    open: BTreeMap<i64, usize>,
    /// the offset after the last signal planned
    next: Option<i64>,
    /// something changed since the last commit
    dirty: bool,
}

impl Open {
    /// A signal at `offset` was planned with `deliveries` deliveries to run (maybe none).
    pub fn planned(&mut self, offset: i64, deliveries: usize) {
        if deliveries > 0 {
            *self.open.entry(offset).or_default() += deliveries;
        }
        self.next = Some(self.next.map_or(offset + 1, |n| n.max(offset + 1)));
        self.dirty = true;
    }

    /// One delivery of the signal at `offset` reached a final state.
    pub fn finished(&mut self, offset: i64) {
        if let Some(n) = self.open.get_mut(&offset) {
            *n -= 1;
            if *n == 0 {
                self.open.remove(&offset);
            }
        }
        self.dirty = true;
    }

    /// The offset to commit: the oldest signal with an open delivery, else the next one to
    /// read; None before any signal was planned.
    pub fn low_watermark(&self) -> Option<i64> {
        let next = self.next?;
        Some(self.open.keys().next().map_or(next, |o| (*o).min(next)))
    }

    /// The low watermark if it changed since the last call.
    pub fn take_commit(&mut self) -> Option<i64> {
        if !self.dirty {
            return None;
        }
        self.dirty = false;
        self.low_watermark()
    }

    /// Deliveries still open.
    pub fn in_flight(&self) -> usize {
        self.open.values().sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_oldest_open_signal_holds_the_commit_back() {
        let mut o = Open::default();
        assert_eq!(o.low_watermark(), None, "nothing read: nothing to commit");
        o.planned(10, 2);
        o.planned(11, 1);
        o.planned(12, 0);
        assert_eq!(o.low_watermark(), Some(10));
        o.finished(11);
        assert_eq!(
            o.low_watermark(),
            Some(10),
            "a later one ending changes nothing"
        );
        o.finished(10);
        assert_eq!(o.low_watermark(), Some(10), "one of two still open");
        o.finished(10);
        assert_eq!(o.low_watermark(), Some(13), "all final: the next signal");
        assert_eq!(o.in_flight(), 0);
    }

    #[test]
    fn a_commit_is_offered_only_after_a_change() {
        let mut o = Open::default();
        o.planned(0, 1);
        assert_eq!(o.take_commit(), Some(0));
        assert_eq!(o.take_commit(), None);
        o.finished(0);
        assert_eq!(o.take_commit(), Some(1));
    }

    #[test]
    fn signals_without_deliveries_move_the_watermark_on() {
        let mut o = Open::default();
        o.planned(5, 0);
        o.planned(6, 0);
        assert_eq!(o.low_watermark(), Some(7));
    }
}
