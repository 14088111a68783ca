//! Following the directory, the ledger and the ticks as they come: the directory and the
//! endpoints' health change, a retried dead letter is re-driven by its partition's owner, and
//! partitions catching up go live once the ledger is followed far enough.

use std::time::Duration;

use schakel_core::domain::events::DeliveryStatus;
use schakel_core::log::kafka::Record;
use schakel_core::Shutdown;

use super::partitions::Phase;
use super::Service;
use crate::digest_send;
use crate::ledger::DeliveryState;
use crate::restore;
use schakel_core::domain::catalogue::Topic;

impl Service {
    /// Counts how far a followed topic is read: `schakel_notify_followed_offsets_total` is the
    /// sum over its partitions of the next offset (what a test waits for before it checks that
    /// nothing more happens, and an operator's view of notify following the log).
    pub(super) fn followed_to(&mut self, topic: String, partition: i32, next: i64) {
        let logical = [
            (Topic::DIRECTORY, &self.topics.directory),
            (Topic::DELIVERIES, &self.topics.deliveries),
            (Topic::CLOCK, &self.topics.clock),
        ]
        .into_iter()
        .find(|(_, full)| **full == topic)
        .map(|(l, _)| l);
        let prev = self.followed.entry((topic, partition)).or_insert(0);
        let step = next - *prev;
        if step <= 0 {
            return;
        }
        *prev = next;
        if let Some(l) = logical {
            self.deps.health.metrics.add(
                "schakel_notify_followed_offsets_total",
                &format!("topic=\"{l}\""),
                step as u64,
            );
        }
    }

    pub(super) async fn on_followed(&mut self, rec: Record, shutdown: &Shutdown) {
        self.apply_followed(&rec, shutdown).await;
        self.followed_to(rec.topic, rec.partition, rec.offset + 1);
    }

    async fn apply_followed(&mut self, rec: &Record, shutdown: &Shutdown) {
        let reg = self.deps.producer.registry().clone();
        if rec.topic == self.topics.directory {
            {
                let mut dir = self.deps.directory.write().expect("directory lock");
                restore::apply_directory(&reg, &mut dir, rec);
            }
            if let Some(c) = rec.key.as_deref().and_then(|k| k.strip_prefix("contact:")) {
                if rec.value.is_some() {
                    self.deps.removed.lock().expect("removed lock").remove(c);
                    self.spawn_enable(c.to_owned(), shutdown.clone());
                } else {
                    self.deps
                        .removed
                        .lock()
                        .expect("removed lock")
                        .insert(c.to_owned());
                }
            }
        } else if rec.topic == self.topics.deliveries {
            self.ledger_next.insert(rec.partition, rec.offset + 1);
            if let Some(ev) = restore::decode_ledger(&reg, rec) {
                self.ledger.apply(&ev);
                self.deps.endpoints.apply(&ev);
                digest_send::from_ledger(&self.deps, &ev);
                let retried = ev.status == DeliveryStatus::RetryRequested
                    && matches!(
                        self.ledger.get(&ev.id),
                        Some(DeliveryState::RetryRequested { .. })
                    );
                if let (true, Some(p)) = (retried, ev.signal_partition) {
                    if let Some(part) = self
                        .parts
                        .get(&p)
                        .filter(|x| matches!(x.phase, Phase::Live))
                    {
                        let (epoch, stop) = (part.epoch, part.stop.clone());
                        self.spawn_redrive(p, epoch, ev, stop);
                    }
                }
            }
            let catching: Vec<i32> = self
                .parts
                .iter()
                .filter(|(_, x)| matches!(x.phase, Phase::CatchingUp(_)))
                .map(|(p, _)| *p)
                .collect();
            for p in catching {
                self.try_go_live(p);
            }
        } else if rec.topic == self.topics.clock {
            if let Some(h) = &self.hand {
                restore::apply_tick(&reg, h, rec);
            }
        }
    }

    pub(super) fn follow_error(&mut self, e: rdkafka::error::KafkaError) {
        if self
            .last_follow_error
            .is_none_or(|t| t.elapsed() > Duration::from_secs(10))
        {
            tracing::warn!(error = %e, "following the directory and ledger failed; librdkafka retries by itself");
            self.last_follow_error = Some(std::time::Instant::now());
        }
    }
}
