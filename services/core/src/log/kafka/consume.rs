//! Consuming: consumers that never auto-commit, watermarks, committed offsets and records.

use std::collections::HashMap;
use std::time::Duration;

use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::message::{Headers as _, Message};

use crate::log::trace::TraceParent;
use rdkafka::{ClientConfig, Offset, TopicPartitionList};

use super::{classify, client_config, KafkaConfig, KafkaError};

/// A consumer of many partitions that its caller assigns and positions itself (no group
/// membership, no commits), with a bounded prefetch per partition: rules reads its inputs
/// with it.
pub fn assigned_consumer_config(cfg: &impl AsRef<KafkaConfig>, group: &str) -> ClientConfig {
    let mut c = client_config(cfg);
    c.set("group.id", group)
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false")
        .set("enable.partition.eof", "false")
        // up to 36 input partitions per instance: 16 MiB of prefetch each at most (the
        // record count threshold stays librdkafka's: lowering it to 10 000 cost 4/5 of the
        // read rate in bench-broker)
        .set("queued.max.messages.kbytes", "16384");
    c
}

/// A consumer that never commits on its own; callers commit once effects are durable.
pub fn stream_consumer(
    cfg: &impl AsRef<KafkaConfig>,
    group: &str,
) -> Result<StreamConsumer, KafkaError> {
    client_config(cfg)
        .set("group.id", group)
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false")
        .set("auto.offset.reset", "earliest")
        .set("enable.partition.eof", "false")
        .create()
        .map_err(classify)
}

/// A partition's (low, high) watermarks from its leader. Waits out a leader that is not ready
/// yet (a topic just created, a leader being elected) for up to 15 s.
pub fn watermarks<C: Consumer<X>, X: rdkafka::consumer::ConsumerContext>(
    consumer: &C,
    topic: &str,
    partition: i32,
) -> Result<(i64, i64), KafkaError> {
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    loop {
        match consumer.fetch_watermarks(topic, partition, Duration::from_secs(10)) {
            Ok(w) => return Ok(w),
            Err(e) => {
                let e = classify(e);
                if !e.is_retryable() || std::time::Instant::now() > deadline {
                    return Err(e);
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        }
    }
}

/// The partition ids of a topic (full name).
pub fn partitions<C: Consumer>(consumer: &C, topic: &str) -> Result<Vec<i32>, KafkaError> {
    let md = consumer
        .fetch_metadata(Some(topic), Duration::from_secs(10))
        .map_err(classify)?;
    partition_ids(&md, topic)
}

/// The partition numbers of `topic` in metadata, in order; refused when the topic is missing
/// or has none.
pub(super) fn partition_ids(
    md: &rdkafka::metadata::Metadata,
    topic: &str,
) -> Result<Vec<i32>, KafkaError> {
    let t = md
        .topics()
        .iter()
        .find(|t| t.name() == topic)
        .ok_or_else(|| KafkaError::Refused(format!("topic {topic} not found")))?;
    if let Some(e) = t.error() {
        return Err(KafkaError::Refused(format!(
            "topic {topic}: {e:?} (run `schakel topics apply`)"
        )));
    }
    let mut ids: Vec<i32> = t.partitions().iter().map(|p| p.id()).collect();
    ids.sort_unstable();
    if ids.is_empty() {
        return Err(KafkaError::Refused(format!(
            "topic {topic} has no partitions (run `schakel topics apply`)"
        )));
    }
    Ok(ids)
}

/// Committed offsets of `group` for the given (topic, partition)s; absent means none.
pub fn committed<C: Consumer>(
    consumer: &C,
    tps: &[(String, i32)],
) -> Result<HashMap<(String, i32), i64>, KafkaError> {
    let mut tpl = TopicPartitionList::new();
    for (t, p) in tps {
        tpl.add_partition(t, *p);
    }
    let got = consumer
        .committed_offsets(tpl, Duration::from_secs(10))
        .map_err(classify)?;
    let mut out = HashMap::new();
    for e in got.elements() {
        if let Offset::Offset(o) = e.offset() {
            out.insert((e.topic().to_owned(), e.partition()), o);
        }
    }
    Ok(out)
}

/// Commits `next offset to read` for each (topic, partition).
pub fn commit<C: Consumer>(
    consumer: &C,
    offsets: &HashMap<(String, i32), i64>,
) -> Result<(), KafkaError> {
    if offsets.is_empty() {
        return Ok(());
    }
    let mut tpl = TopicPartitionList::new();
    for ((t, p), o) in offsets {
        tpl.add_partition_offset(t, *p, Offset::Offset(*o))
            .map_err(classify)?;
    }
    consumer
        .commit(&tpl, rdkafka::consumer::CommitMode::Sync)
        .map_err(classify)
}

/// A consumed record, detached from the consumer.
#[derive(Debug, Clone)]
pub struct Record {
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
    pub key: Option<String>,
    pub value: Option<Vec<u8>>,
    /// milliseconds since the epoch: the broker's append time on child-scoped topics
    pub timestamp: Option<i64>,
    /// the span that wrote it (`traceparent`, `tracestate`), if it names one
    pub trace: Option<TraceParent>,
}

impl Record {
    pub fn from_message<M: Message>(m: &M) -> Self {
        Self {
            topic: m.topic().to_owned(),
            partition: m.partition(),
            offset: m.offset(),
            key: m.key().map(|k| String::from_utf8_lossy(k).into_owned()),
            value: m.payload().map(<[u8]>::to_vec),
            timestamp: m.timestamp().to_millis(),
            trace: trace_of(m),
        }
    }
}

/// The trace context in a record's headers.
pub fn trace_of<M: Message>(m: &M) -> Option<TraceParent> {
    let headers = m.headers()?;
    let text = |name: &str| {
        headers
            .iter()
            .find(|h| h.key == name)
            .and_then(|h| h.value)
            .and_then(|v| std::str::from_utf8(v).ok())
    };
    TraceParent::parse(text("traceparent")?, text("tracestate"))
}

/// The high watermarks of `partitions`, asked of their leaders now (one ListOffsets request
/// per leader, not the consumer's cached view): every record committed before the request
/// is below the answer. A partition whose leader could not answer is left out.
pub fn leader_high_watermarks<C: Consumer<X>, X: rdkafka::consumer::ConsumerContext>(
    consumer: &C,
    partitions: &[(&str, i32)],
    timeout: Duration,
) -> Result<HashMap<(String, i32), i64>, KafkaError> {
    let mut tpl = TopicPartitionList::new();
    for (topic, p) in partitions {
        // the "timestamp" -1 asks for the latest offset: the high watermark
        tpl.add_partition_offset(topic, *p, Offset::End)
            .map_err(classify)?;
    }
    let answered = consumer.offsets_for_times(tpl, timeout).map_err(classify)?;
    Ok(answered
        .elements()
        .iter()
        .filter(|e| e.error().is_ok())
        .filter_map(|e| match e.offset() {
            Offset::Offset(hw) if hw >= 0 => Some(((e.topic().to_owned(), e.partition()), hw)),
            _ => None,
        })
        .collect())
}
