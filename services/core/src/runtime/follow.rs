//! Following topics from the beginning while a service runs, for its views (ingest's verzuim
//! meldingen and handoff tasks, the monitor's state), riding out a broker that is away.
//!
//! Every call that may block on the broker (metadata, watermarks) runs on a blocking thread,
//! never on the async runtime that answers requests and health checks. A broker that is away
//! at start is retried with backoff; one that goes away later is waited out on the same
//! consumer (librdkafka reconnects by itself and keeps its position), with one log line when
//! reading stops and one when it resumes.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use crate::log::kafka::{self, KafkaError, Record};
use crate::{Config, Shutdown};
use rdkafka::consumer::{BaseConsumer, Consumer, StreamConsumer};
use rdkafka::{Offset, TopicPartitionList};

/// (topic full name, partition)
pub type Partition = (String, i32);

/// Where each partition of some topics ends: the next offset to be written.
pub type Ends = HashMap<Partition, i64>;

/// Where each partition of `topics` (full names) ends now. Asked on a blocking thread.
pub async fn ends(cfg: &Config, topics: &[String]) -> Result<Ends, KafkaError> {
    let (cfg, topics) = (cfg.clone(), topics.to_vec());
    tokio::task::spawn_blocking(move || {
        let reader: BaseConsumer = kafka::client_config(&cfg)
            .set(
                "group.id",
                format!("schakel-view-ends-{}", crate::log::trace::random_hex(6)),
            )
            .set("enable.auto.commit", "false")
            .create()
            .map_err(|e| KafkaError::Unavailable(e.to_string()))?;
        let mut out = HashMap::new();
        for t in &topics {
            for p in kafka::partitions(&reader, t)? {
                let (_, high) = kafka::watermarks(&reader, t, p)?;
                out.insert((t.clone(), p), high);
            }
        }
        Ok(out)
    })
    .await
    .map_err(|e| KafkaError::Unavailable(e.to_string()))?
}

/// How far a view has read: per partition, the next offset it will read. Advanced only after
/// the record was folded, so a reader that sees an offset passed sees its effect too.
#[derive(Debug, Clone, Default)]
pub struct ReadTo(Arc<RwLock<HashMap<Partition, i64>>>);

impl ReadTo {
    fn advance(&self, topic: &str, partition: i32, offset: i64) {
        let mut m = self.0.write().expect("read-to lock");
        let e = m.entry((topic.to_owned(), partition)).or_insert(0);
        *e = (*e).max(offset + 1);
    }

    /// Whether every partition of `ends` was read up to its end.
    pub fn reached(&self, ends: &Ends) -> bool {
        let m = self.0.read().expect("read-to lock");
        ends.iter()
            .all(|(p, end)| *end <= 0 || m.get(p).copied().unwrap_or(0) >= *end)
    }

    /// Waits up to `wait` until the view has read every topic of `topics` up to where it ends
    /// now. False when the broker could not be asked or the view did not get there in time.
    pub async fn catch_up(&self, cfg: &Config, topics: &[String], wait: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + wait;
        let Ok(Ok(ends)) = tokio::time::timeout_at(deadline, ends(cfg, topics)).await else {
            return false;
        };
        loop {
            if self.reached(&ends) {
                return true;
            }
            if tokio::time::Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

const BACKOFF_MIN: Duration = Duration::from_millis(500);
const BACKOFF_MAX: Duration = Duration::from_secs(30);

/// Sleeps `d`, or less when shutdown comes first (then false).
async fn pause(d: Duration, shutdown: &Shutdown) -> bool {
    tokio::select! {
        _ = tokio::time::sleep(d) => true,
        _ = shutdown.wait() => false,
    }
}

/// A consumer assigned to every partition of `topics` from the beginning, and where they end.
async fn start(cfg: &Config, topics: &[String]) -> Result<(StreamConsumer, Ends), KafkaError> {
    let ends = ends(cfg, topics).await?;
    let group = format!("schakel-view-{}", crate::log::trace::random_hex(6));
    let consumer = kafka::stream_consumer(cfg, &group)?;
    let mut tpl = TopicPartitionList::new();
    for (t, p) in ends.keys() {
        tpl.add_partition_offset(t, *p, Offset::Beginning)
            .map_err(|e| KafkaError::Refused(e.to_string()))?;
    }
    consumer
        .assign(&tpl)
        .map_err(|e| KafkaError::Refused(e.to_string()))?;
    Ok((consumer, ends))
}

/// Follows `topics` (full names) from the beginning until shutdown, handing each record to
/// `fold` and then advancing `read_to`; `caught_up` is called once every partition was read
/// up to where it ended when following started. `what` names the view in log lines.
pub async fn follow(
    what: &'static str,
    cfg: Config,
    topics: Vec<String>,
    shutdown: Shutdown,
    read_to: ReadTo,
    mut fold: impl FnMut(Record) + Send,
    caught_up: impl FnOnce() + Send,
) {
    let mut backoff = BACKOFF_MIN;
    let mut failing = false;
    let (consumer, at_start) = loop {
        match start(&cfg, &topics).await {
            Ok(x) => break x,
            Err(e) => {
                if failing {
                    tracing::debug!(view = what, error = %e, "still cannot follow the log");
                } else {
                    tracing::warn!(view = what, error = %e, "cannot follow the log yet; retrying with backoff");
                    failing = true;
                }
                if !pause(backoff, &shutdown).await {
                    return;
                }
                backoff = (backoff * 2).min(BACKOFF_MAX);
            }
        }
    };
    tracing::info!(view = what, "following the log");
    let mut caught_up = Some(caught_up);
    if read_to.reached(&at_start) {
        if let Some(f) = caught_up.take() {
            f();
        }
    }
    let mut outage: Option<Instant> = None;
    let mut backoff = BACKOFF_MIN;
    loop {
        let m = tokio::select! {
            _ = shutdown.wait() => return,
            m = consumer.recv() => m,
        };
        match m {
            Ok(m) => {
                if let Some(since) = outage.take() {
                    tracing::info!(
                        view = what,
                        after_s = since.elapsed().as_secs(),
                        "reading the log again"
                    );
                    backoff = BACKOFF_MIN;
                }
                let rec = Record::from_message(&m);
                drop(m);
                let (topic, partition, offset) = (rec.topic.clone(), rec.partition, rec.offset);
                fold(rec);
                read_to.advance(&topic, partition, offset);
                if caught_up.is_some() && read_to.reached(&at_start) {
                    if let Some(f) = caught_up.take() {
                        f();
                    }
                }
            }
            Err(e) => {
                if outage.is_none() {
                    tracing::warn!(view = what, error = %e, "reading the log failed; waiting for the broker");
                    outage = Some(Instant::now());
                } else {
                    tracing::debug!(view = what, error = %e, "reading the log still fails");
                }
                if !pause(backoff, &shutdown).await {
                    return;
                }
                backoff = (backoff * 2).min(Duration::from_secs(5));
            }
        }
    }
}
