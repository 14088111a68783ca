//! Input records in merged order: each record read joins its partition's merger and is
//! released once no input topic of the partition can still deliver an earlier one. A topic
//! whose merger is full is paused until there is room again.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use jiff::Timestamp;
use std::sync::Arc;

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::TopicPartitionList;
use schakel_core::log::kafka::{self, Record};
use schakel_core::Shutdown;

use super::Service;
use crate::partition::Partition;

/// What the input partitions' leaders said of their ends. A topic of a partition with nothing
/// waiting in the merger holds up the partition's next record until its leader, asked at
/// least the order grace after that record's append time, names an end the consumer has read:
/// then every record appended before it was read (the grace is the time a record appended
/// just before another may need to be committed, and the clocks' difference). Asking replaces
/// waiting out a fixed grace on the consumer's cached view, which a late fetch could make stale.
#[derive(Default)]
pub(super) struct Ends {
    /// (topic index, partition) → (high watermark, wall-clock ms when it was asked)
    told: HashMap<(usize, i32), (i64, i64)>,
    /// (topic index, partition) to ask about → the wall-clock ms from which an answer helps
    wanted: HashMap<(usize, i32), i64>,
    /// an ask is under way
    asking: bool,
    /// no ask before this wall-clock ms (after a round that no leader answered)
    quiet_until: i64,
    /// since when (wall-clock ms) no leader asked has answered, and when that was last told
    failing: Option<(i64, i64)>,
}

/// How long to wait before asking again after a round that no leader answered.
const ASK_BACKOFF_MS: i64 = 200;
/// How long the leaders may stay silent before the log is told (and again every so long).
const SILENT_WARN_MS: i64 = 10_000;

impl Ends {
    /// Whether topic `t` of partition `p`, read up to `read`, can no longer deliver a record
    /// appended at or before `at`. When that is not known yet, its leader is to be asked.
    pub(super) fn no_earlier(&mut self, t: usize, p: i32, at: i64, read: i64, grace: i64) -> bool {
        let from = at.saturating_add(grace);
        match self.told.get(&(t, p)) {
            Some(&(hw, asked)) if asked >= from => read >= hw,
            _ => {
                let due = self.wanted.entry((t, p)).or_insert(from);
                *due = (*due).min(from);
                false
            }
        }
    }

    /// The wanted partitions whose time came by `now`, or nothing while an ask is under way
    /// or after a round no leader answered.
    pub(super) fn due(&mut self, now: i64) -> Vec<(usize, i32)> {
        if self.asking || now < self.quiet_until {
            return Vec::new();
        }
        let due: Vec<(usize, i32)> = self
            .wanted
            .iter()
            .filter(|(_, from)| **from <= now)
            .map(|(tp, _)| *tp)
            .collect();
        self.asking = !due.is_empty();
        due
    }

    /// What the leaders answered: each end with the wall-clock ms taken before its request
    /// (an end named later is at least as far). A partition left out is asked again.
    pub(super) fn answered(&mut self, answer: Answer, now: i64) {
        self.asking = false;
        if answer.told.is_empty() && answer.asked > 0 {
            self.quiet_until = now + ASK_BACKOFF_MS;
            let (since, warned) = self.failing.get_or_insert((now, now));
            if now - *warned >= SILENT_WARN_MS {
                *warned = now;
                tracing::warn!(
                    silent_s = (now - *since) / 1000,
                    partitions = answer.asked,
                    "the inputs' leaders do not answer where their partitions end; records wait in order until they do"
                );
            }
        } else {
            self.failing = None;
        }
        for (tp, hw, asked) in answer.told {
            self.told.insert(tp, (hw, asked));
            if self.wanted.get(&tp).is_some_and(|from| *from <= asked) {
                self.wanted.remove(&tp);
            }
        }
    }
}

/// What one round of asking found: the ends named, each with the wall-clock ms it was asked
/// at, and how many partitions were asked.
#[derive(Debug, Default)]
pub(super) struct Answer {
    told: Vec<((usize, i32), i64, i64)>,
    asked: usize,
}

/// Asks the leaders of `due` for their ends, off the service's thread (a leader that is away
/// may take the whole timeout). One request per leader for all of them; for what that left
/// unanswered, the client learns where the leaders are now and asks for every partition at
/// once, so a partition without a leader holds up no other.
pub(super) fn ask(asker: Arc<BaseConsumer>, topics: Vec<String>, due: Vec<(usize, i32)>) -> Answer {
    // the client's own events (errors of a broker that is away) are not wanted: drop them
    let _ = asker.poll(Duration::ZERO);
    let ask_some = |some: &[(usize, i32)]| -> Vec<((usize, i32), i64, i64)> {
        let asked = Timestamp::now().as_millisecond();
        let names: Vec<(&str, i32)> = some
            .iter()
            .map(|(t, p)| (topics[*t].as_str(), *p))
            .collect();
        match kafka::leader_high_watermarks(&*asker, &names, ASK_TIMEOUT) {
            Ok(hws) => some
                .iter()
                .filter_map(|(t, p)| {
                    let hw = *hws.get(&(topics[*t].clone(), *p))?;
                    Some(((*t, *p), hw, asked))
                })
                .collect(),
            Err(e) => {
                tracing::debug!(error = %e, "asking the input partitions' ends failed; asked again");
                Vec::new()
            }
        }
    };
    let mut told = ask_some(&due);
    if told.len() < due.len() {
        // a leader moved (or is away): the client only learns it from fresh metadata
        let _ = asker.fetch_metadata(None, ASK_TIMEOUT);
        let mut by_partition: BTreeMap<i32, Vec<(usize, i32)>> = BTreeMap::new();
        for tp in due.iter().filter(|tp| !told.iter().any(|(t, ..)| t == *tp)) {
            by_partition.entry(tp.1).or_default().push(*tp);
        }
        std::thread::scope(|scope| {
            let asks: Vec<_> = by_partition
                .values()
                .map(|some| scope.spawn(|| ask_some(some)))
                .collect();
            for a in asks {
                told.extend(a.join().unwrap_or_default());
            }
        });
    }
    Answer {
        told,
        asked: due.len(),
    }
}

/// How long one request to the leaders may take.
const ASK_TIMEOUT: Duration = Duration::from_secs(2);

/// The order grace: `rules.order_grace` when set; otherwise 50 ms when every input partition
/// has one replica (a record is committed when it is appended, so the grace only covers the
/// clocks) and 500 ms when they are replicated (a follower that lags holds a commit back, and
/// a record folded out of order would fire on another day in a replay).
pub(super) fn order_grace(
    set: Option<Duration>,
    asker: &BaseConsumer,
    topics: &[String],
) -> Duration {
    if let Some(g) = set {
        return g;
    }
    // one request for every topic's metadata
    let replicated = asker
        .fetch_metadata(None, ASK_TIMEOUT)
        .map(|md| {
            let inputs: Vec<_> = md
                .topics()
                .iter()
                .filter(|mt| topics.iter().any(|t| t == mt.name()))
                .collect();
            // an input not known yet: the safe side
            inputs.len() < topics.len()
                || inputs
                    .iter()
                    .flat_map(|mt| mt.partitions())
                    .any(|p| p.replicas().len() > 1)
        })
        // not known: the safe side
        .unwrap_or(true);
    Duration::from_millis(if replicated { 500 } else { 50 })
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

    /// Releases what is due in every partition, then asks the leaders what is wanted.
    pub(super) async fn release_all(&mut self, shutdown: &Shutdown) -> anyhow::Result<()> {
        let ps: Vec<i32> = self.parts.keys().copied().collect();
        for p in ps {
            self.release(p, shutdown).await?;
        }
        Ok(())
    }

    /// Asks the leaders what is wanted and due (at most one ask under way; called on the
    /// service's wake-ups, so at most about a hundred asks a second).
    pub(super) fn ask_due(&mut self) {
        let due = self.ends.due(Timestamp::now().as_millisecond());
        if !due.is_empty() {
            let (asker, topics) = (self.asker.clone(), self.topics.clone());
            self.asks.spawn_blocking(move || ask(asker, topics, due));
        }
    }

    /// The leaders answered: what they named may release records.
    pub(super) async fn answered(
        &mut self,
        answer: Answer,
        shutdown: &Shutdown,
    ) -> anyhow::Result<()> {
        self.ends
            .answered(answer, Timestamp::now().as_millisecond());
        self.release_all(shutdown).await
    }

    /// Processes the partition's records that are due in merged order.
    async fn release(&mut self, p: i32, shutdown: &Shutdown) -> anyhow::Result<()> {
        let grace = self.grace.as_millis() as i64;
        loop {
            let Some(f) = self.parts.get_mut(&p).and_then(Partition::folding) else {
                return Ok(());
            };
            let ends = &mut self.ends;
            let crate::partition::Folding { merger, read, .. } = f;
            let next = merger.pop(|t, at| ends.no_earlier(t, p, at, read[t], grace));
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

#[cfg(test)]
mod tests {
    use super::{Answer, Ends};

    fn told(answers: &[((usize, i32), i64)], asked: i64) -> Answer {
        Answer {
            told: answers.iter().map(|(tp, hw)| (*tp, *hw, asked)).collect(),
            asked: answers.len().max(1),
        }
    }

    #[test]
    fn a_topic_counts_as_read_only_when_its_leader_was_asked_after_the_grace() {
        let mut ends = Ends::default();
        // a tick appended at 10 000; topic 1 of partition 3 has nothing waiting
        assert!(!ends.no_earlier(1, 3, 10_000, 7, 50), "never asked");
        assert!(ends.due(10_049).is_empty(), "not before the grace");
        assert_eq!(ends.due(10_050), vec![(1, 3)]);
        assert!(ends.due(10_060).is_empty(), "one ask at a time");
        // the leader named end 7 when asked at 10 050: everything before it was read
        ends.answered(told(&[((1, 3), 7)], 10_050), 10_052);
        assert!(ends.no_earlier(1, 3, 10_000, 7, 50));
        // ... but not when the consumer has not read up to it yet
        assert!(!ends.no_earlier(1, 3, 10_000, 6, 50));
        // a later record needs a later answer
        assert!(!ends.no_earlier(1, 3, 10_001, 7, 50));
        assert_eq!(ends.due(10_100), vec![(1, 3)]);
        // a round no leader answered: asked again, after a pause
        ends.answered(
            Answer {
                told: vec![],
                asked: 1,
            },
            10_100,
        );
        assert!(ends.due(10_110).is_empty(), "not at once");
        assert_eq!(ends.due(10_300), vec![(1, 3)]);
        ends.answered(told(&[((1, 3), 9)], 10_300), 10_301);
        assert!(ends.no_earlier(1, 3, 10_001, 9, 50));
        assert!(ends.due(20_000).is_empty(), "nothing more wanted");
    }
}
