//! Membership of a Kafka consumer group, in a thread of its own. Several instances of a service
//! share the partitions of their topics through one group with cooperative (incremental)
//! rebalancing: a rebalance moves only the partitions that change owner, and the others keep
//! running.
//!
//! librdkafka tells of a rebalance inside `poll`. A partition taken away must first be drained
//! (its in-flight work finished or abandoned, its durable offsets committed, its snapshot
//! written), so the poll thread hands the revocation to the service as an event and waits for
//! its answer, the offsets to commit, before it lets the partition go. The service's own loop
//! never waits for the poll thread, so neither can block the other.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use rdkafka::client::ClientContext;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer, ConsumerContext, Rebalance};
use rdkafka::error::KafkaError as RdError;
use rdkafka::{Offset, TopicPartitionList};
use tokio::sync::mpsc;

use crate::log::kafka::KafkaConfig;
use crate::log::kafka::{client_config, KafkaError, Record};

/// (full topic name, partition) → the next offset to read.
pub type Offsets = Vec<(String, i32, i64)>;

/// What the group tells the service, in the order it happened.
pub enum GroupEvent {
    /// These partition numbers are now this instance's.
    Assigned(Vec<i32>),
    /// These partitions are taken away: finish or abandon their work and answer with the
    /// offsets to commit before they go (an empty list commits nothing).
    Revoked {
        partitions: Vec<i32>,
        reply: std::sync::mpsc::SyncSender<Offsets>,
    },
    /// These partitions were lost (this instance's session expired and others own them now):
    /// abandon their work and commit nothing.
    Lost(Vec<i32>),
    /// A record of a subscribed topic (only when the group forwards records).
    Record(Record),
    /// The instance left the group after `leave`: every partition was revoked.
    Left,
}

/// How long a revocation may take before the partitions are let go regardless.
const REVOKE_TIMEOUT: Duration = Duration::from_secs(120);

struct Ctx {
    tx: mpsc::Sender<GroupEvent>,
}

fn numbers(tpl: &TopicPartitionList) -> Vec<i32> {
    let set: BTreeSet<i32> = tpl.elements().iter().map(|e| e.partition()).collect();
    set.into_iter().collect()
}

impl ClientContext for Ctx {
    fn error(&self, error: RdError, reason: &str) {
        tracing::warn!(error = %error, reason, "kafka client error (it reconnects by itself)");
    }
}

impl ConsumerContext for Ctx {
    fn pre_rebalance(&self, consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        let Rebalance::Revoke(tpl) = rebalance else {
            return;
        };
        let partitions = numbers(tpl);
        if consumer.assignment_lost() {
            tracing::warn!(?partitions, "partitions lost: the session expired");
            let _ = self.tx.blocking_send(GroupEvent::Lost(partitions));
            return;
        }
        tracing::info!(?partitions, "partitions revoked; draining them");
        let (reply, answer) = std::sync::mpsc::sync_channel(1);
        if self
            .tx
            .blocking_send(GroupEvent::Revoked {
                partitions: partitions.clone(),
                reply,
            })
            .is_err()
        {
            return;
        }
        match answer.recv_timeout(REVOKE_TIMEOUT) {
            Ok(offsets) if !offsets.is_empty() => {
                if let Err(e) = commit_on(consumer, &offsets, CommitMode::Sync) {
                    tracing::warn!(error = %e, ?partitions, "offsets of revoked partitions not committed");
                }
            }
            Ok(_) => {}
            Err(_) => {
                tracing::warn!(?partitions, "revocation not answered in time; letting go")
            }
        }
    }

    fn post_rebalance(&self, _: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        if let Rebalance::Assign(tpl) = rebalance {
            let partitions = numbers(tpl);
            tracing::info!(?partitions, "partitions assigned");
            let _ = self.tx.blocking_send(GroupEvent::Assigned(partitions));
        }
    }

    fn commit_callback(&self, result: rdkafka::error::KafkaResult<()>, _: &TopicPartitionList) {
        if let Err(e) = result {
            tracing::warn!(error = %e, "offset commit failed; the next one covers it");
        }
    }
}

fn commit_on<C: Consumer<X>, X: ConsumerContext>(
    consumer: &C,
    offsets: &Offsets,
    mode: CommitMode,
) -> Result<(), KafkaError> {
    let mut tpl = TopicPartitionList::new();
    for (t, p, o) in offsets {
        tpl.add_partition_offset(t, *p, Offset::Offset(*o))
            .map_err(|e| KafkaError::Refused(e.to_string()))?;
    }
    consumer
        .commit(&tpl, mode)
        .map_err(|e| KafkaError::Unavailable(e.to_string()))
}

/// A member of a consumer group: its events, and commits and offset reads on its behalf.
pub struct Group {
    consumer: Arc<BaseConsumer<Ctx>>,
    events: mpsc::Receiver<GroupEvent>,
    leave: Arc<AtomicBool>,
    hold: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

/// The settings of a group member, beyond the shared client settings.
pub struct Membership<'a> {
    pub group: &'a str,
    /// full topic names
    pub topics: &'a [String],
    /// forward the records read (false: membership only; the service reads on its own)
    pub forward: bool,
    /// how many forwarded records may wait for the service before fetching pauses
    pub buffer: usize,
}

impl Group {
    /// Joins the group and starts the poll thread.
    pub fn join(cfg: &impl AsRef<KafkaConfig>, m: Membership<'_>) -> Result<Self, KafkaError> {
        let (tx, events) = mpsc::channel(m.buffer.max(16));
        let consumer: BaseConsumer<Ctx> = client_config(cfg)
            .set("group.id", m.group)
            .set("partition.assignment.strategy", "cooperative-sticky")
            .set(
                "session.timeout.ms",
                cfg.as_ref().session_timeout.as_millis().to_string(),
            )
            .set(
                "heartbeat.interval.ms",
                (cfg.as_ref().session_timeout.as_millis() / 4)
                    .max(100)
                    .to_string(),
            )
            .set("enable.auto.commit", "false")
            .set("enable.auto.offset.store", "false")
            .set("auto.offset.reset", "earliest")
            .create_with_context(Ctx { tx: tx.clone() })
            .map_err(|e| KafkaError::Refused(e.to_string()))?;
        let topics: Vec<&str> = m.topics.iter().map(String::as_str).collect();
        consumer
            .subscribe(&topics)
            .map_err(|e| KafkaError::Refused(e.to_string()))?;
        let consumer = Arc::new(consumer);
        let leave = Arc::new(AtomicBool::new(false));
        let hold = Arc::new(AtomicBool::new(false));
        let thread = {
            let (consumer, forward) = (consumer.clone(), m.forward);
            let flags = Flags {
                leave: leave.clone(),
                hold: hold.clone(),
            };
            std::thread::Builder::new()
                .name(format!("group-{}", m.group))
                .spawn(move || poll_loop(&consumer, &tx, &flags, forward))
                .map_err(|e| KafkaError::Refused(e.to_string()))?
        };
        Ok(Self {
            consumer,
            events,
            leave,
            hold,
            thread: Some(thread),
        })
    }

    /// The next event; None once the poll thread ended.
    pub async fn next(&mut self) -> Option<GroupEvent> {
        self.events.recv().await
    }

    /// Commits offsets without waiting (a failure is logged; the next commit covers it).
    pub fn commit(&self, offsets: &Offsets) -> Result<(), KafkaError> {
        if offsets.is_empty() {
            return Ok(());
        }
        commit_on(&*self.consumer, offsets, CommitMode::Async)
    }

    /// The committed offsets of (full topic, partition)s; absent: none. Blocks: call it from
    /// a blocking task.
    pub fn committed(&self, tps: &[(String, i32)]) -> Result<Offsets, KafkaError> {
        self.reader().committed(tps)
    }

    /// A handle for reading committed offsets from a blocking task.
    pub fn reader(&self) -> CommittedReader {
        CommittedReader(self.consumer.clone())
    }

    /// Stops (true) or restarts (false) fetching records while the membership stays alive:
    /// the service's own backlog is full.
    pub fn hold(&self, hold: bool) {
        self.hold.store(hold, Ordering::SeqCst);
    }

    /// Asks to leave the group: every partition is revoked (as events), then `Left` comes.
    pub fn leave(&self) {
        self.leave.store(true, Ordering::SeqCst);
    }
}

/// Reads a group's committed offsets (cheap to clone, usable from any thread).
#[derive(Clone)]
pub struct CommittedReader(Arc<BaseConsumer<Ctx>>);

impl CommittedReader {
    /// See [`Group::committed`].
    pub fn committed(&self, tps: &[(String, i32)]) -> Result<Offsets, KafkaError> {
        let mut tpl = TopicPartitionList::new();
        for (t, p) in tps {
            tpl.add_partition(t, *p);
        }
        let got = self
            .0
            .committed_offsets(tpl, Duration::from_secs(10))
            .map_err(|e| KafkaError::Unavailable(e.to_string()))?;
        Ok(got
            .elements()
            .iter()
            .filter_map(|e| match e.offset() {
                Offset::Offset(o) => Some((e.topic().to_owned(), e.partition(), o)),
                _ => None,
            })
            .collect())
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        self.leave.store(true, Ordering::SeqCst);
        // the poll thread ends once it has left; the service is gone, so revocations it
        // announces go unanswered and time out, which is what dropping means
        self.events.close();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

struct Flags {
    leave: Arc<AtomicBool>,
    hold: Arc<AtomicBool>,
}

/// Polls until asked to leave, forwarding records with backpressure: when the service's
/// buffer is full or it holds, fetching pauses (polling goes on, so the membership stays
/// alive).
fn poll_loop(
    consumer: &BaseConsumer<Ctx>,
    tx: &mpsc::Sender<GroupEvent>,
    flags: &Flags,
    forward: bool,
) {
    let leave = &*flags.leave;
    let mut pending: std::collections::VecDeque<Record> = std::collections::VecDeque::new();
    let mut paused = false;
    let mut left = false;
    let mut last_error: Option<std::time::Instant> = None;
    loop {
        if leave.load(Ordering::SeqCst) && !left {
            left = true;
            consumer.unsubscribe();
        }
        if left
            && consumer
                .assignment()
                .map(|a| a.count() == 0)
                .unwrap_or(true)
        {
            let _ = tx.blocking_send(GroupEvent::Left);
            return;
        }
        if tx.is_closed() && !left {
            leave.store(true, Ordering::SeqCst);
            continue;
        }
        // hand over what waits, in order, as far as there is room
        while let Some(r) = pending.pop_front() {
            match tx.try_send(GroupEvent::Record(r)) {
                Ok(()) => {}
                Err(mpsc::error::TrySendError::Full(GroupEvent::Record(r))) => {
                    pending.push_front(r);
                    break;
                }
                Err(_) => break,
            }
        }
        // (partitions assigned meanwhile are paused too)
        let stop_fetching = !pending.is_empty() || flags.hold.load(Ordering::SeqCst);
        if stop_fetching || paused {
            if let Ok(a) = consumer.assignment() {
                let _ = if stop_fetching {
                    consumer.pause(&a)
                } else {
                    consumer.resume(&a)
                };
            }
            paused = stop_fetching;
        }
        match consumer.poll(Duration::from_millis(100)) {
            Some(Ok(m)) if forward => pending.push_back(Record::from_message(&m)),
            Some(Ok(_)) => {}
            // transient: librdkafka reconnects; say so at most every 10 s
            Some(Err(e)) if last_error.is_none_or(|t| t.elapsed() > Duration::from_secs(10)) => {
                tracing::warn!(error = %e, "consumer group: cannot reach the broker; retrying");
                last_error = Some(std::time::Instant::now());
            }
            Some(Err(_)) => {}
            None => {}
        }
        // a revocation drops what waits of its partitions: the next owner reads them
        if forward && !pending.is_empty() {
            if let Ok(a) = consumer.assignment() {
                pending.retain(|r| {
                    a.elements()
                        .iter()
                        .any(|e| e.topic() == r.topic && e.partition() == r.partition)
                });
            }
        }
    }
}
