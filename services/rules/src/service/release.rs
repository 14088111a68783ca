//! Input records in merged order: each record read joins its partition's merger and is
//! released once no input topic of the partition can still deliver an earlier one. A topic
//! whose merger is full is paused until there is room again.

use std::time::Duration;

use jiff::Timestamp;
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::TopicPartitionList;
use schakel_core::log::kafka::{self, Record};
use schakel_core::Shutdown;

use super::Service;
use crate::partition::Partition;

/// The input partitions' high watermarks as the consumer last heard them, asked of
/// librdkafka at most every 10 ms per partition (far below `order_grace`, so a record that
/// arrived since is still waited for).
#[derive(Default)]
pub(super) struct Ends(std::collections::HashMap<(usize, i32), (Option<i64>, std::time::Instant)>);

impl Ends {
    pub(super) fn get(
        &mut self,
        data: &StreamConsumer,
        topic: &str,
        t: usize,
        p: i32,
    ) -> Option<i64> {
        let now = std::time::Instant::now();
        match self.0.get(&(t, p)) {
            Some((hw, at)) if now.duration_since(*at) < Duration::from_millis(10) => *hw,
            _ => {
                let hw = kafka::cached_high_watermark(data, topic, p);
                self.0.insert((t, p), (hw, now));
                hw
            }
        }
    }
}

impl Service<'_> {
    pub(super) async fn on_record(
        &mut self,
        rec: Record,
        shutdown: &Shutdown,
    ) -> anyhow::Result<()> {
        let Some(t) = self.topics.iter().position(|n| *n == rec.topic) else {
            return Ok(());
        };
        let p = rec.partition;
        let Some(f) = self.parts.get_mut(&p).and_then(Partition::folding) else {
            return Ok(()); // not (or no longer) ours
        };
        if !f.accept(t, rec) {
            return Ok(());
        }
        if f.merger.is_full(t) && !f.paused[t] {
            let mut tpl = TopicPartitionList::new();
            tpl.add_partition(&self.topics[t], p);
            let _ = self.data.pause(&tpl);
            f.paused[t] = true;
        }
        self.release(p, shutdown).await
    }

    pub(super) async fn release_all(&mut self, shutdown: &Shutdown) -> anyhow::Result<()> {
        let ps: Vec<i32> = self.parts.keys().copied().collect();
        for p in ps {
            self.release(p, shutdown).await?;
        }
        Ok(())
    }

    /// Processes the partition's records that are due in merged order.
    async fn release(&mut self, p: i32, shutdown: &Shutdown) -> anyhow::Result<()> {
        let grace = self.own.rules.order_grace.as_millis() as i64;
        loop {
            let now = Timestamp::now().as_millisecond();
            let Some(f) = self.parts.get_mut(&p).and_then(Partition::folding) else {
                return Ok(());
            };
            let (data, topics, ends) = (&self.data, &self.topics, &mut self.ends);
            let crate::partition::Folding { merger, read, .. } = f;
            let next = merger.pop(now, grace, |t| {
                ends.get(data, &topics[t], t, p)
                    .is_some_and(|hw| read[t] >= hw)
            });
            let Some((t, rec)) = next else {
                break;
            };
            self.process(p, t, rec, shutdown).await?;
        }
        // resume what was paused once there is room again
        if let Some(f) = self.parts.get_mut(&p).and_then(Partition::folding) {
            for t in 0..self.topics.len() {
                if f.paused[t] && f.merger.has_room(t) {
                    let mut tpl = TopicPartitionList::new();
                    tpl.add_partition(&self.topics[t], p);
                    let _ = self.data.resume(&tpl);
                    f.paused[t] = false;
                }
            }
        }
        if let Some(part) = self.parts.remove(&p) {
            let (part, became_live) = part.settle();
            self.parts.insert(p, part);
            if became_live {
                tracing::info!(partition = p, "partition restored; live");
                self.update_ready();
            }
        }
        Ok(())
    }
}
