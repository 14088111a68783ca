//! Kafka wrappers: an acks=all idempotent producer that writes CloudEvents binary-mode headers,
//! and consumers that never auto-commit.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use rdkafka::consumer::{BaseConsumer, Consumer, StreamConsumer};
use rdkafka::error::{KafkaError as RdError, RDKafkaErrorCode};
use rdkafka::message::{Header, Headers, Message, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::{ClientConfig, Offset, TopicPartitionList};
use serde::{Deserialize, Serialize};

use crate::log::codec::{CodecError, Registry};
use crate::log::schemas;
use crate::log::trace::TraceParent;

/// Why a Kafka operation failed, and whether trying again can help.
#[derive(Debug, thiserror::Error)]
pub enum KafkaError {
    #[error("broker unavailable: {0}")]
    Unavailable(String),
    #[error("broker refused the request: {0}")]
    Refused(String),
    #[error(transparent)]
    Codec(#[from] CodecError),
}

impl KafkaError {
    pub fn is_retryable(&self) -> bool {
        matches!(self, KafkaError::Unavailable(_))
    }
}

fn classify_ref(e: &RdError) -> KafkaError {
    classify(e.clone())
}

fn classify(e: RdError) -> KafkaError {
    let code = e.rdkafka_error_code();
    let transient = matches!(
        code,
        Some(
            RDKafkaErrorCode::MessageTimedOut
                | RDKafkaErrorCode::AllBrokersDown
                | RDKafkaErrorCode::BrokerTransportFailure
                | RDKafkaErrorCode::RequestTimedOut
                | RDKafkaErrorCode::NotEnoughReplicas
                | RDKafkaErrorCode::LeaderNotAvailable
                | RDKafkaErrorCode::NotLeaderForPartition
                | RDKafkaErrorCode::QueueFull
        )
    );
    if transient {
        KafkaError::Unavailable(e.to_string())
    } else {
        KafkaError::Refused(e.to_string())
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KafkaConfig {
    pub bootstrap: String,
    /// Prepended to every topic name, for test isolation or several regions on one cluster.
    #[serde(default)]
    pub topic_prefix: String,
    /// Extra librdkafka properties (e.g. `security.protocol`, `sasl.mechanism`).
    #[serde(default)]
    pub properties: std::collections::BTreeMap<String, String>,
    /// How long a produce may wait for the broker before the request fails.
    #[serde(
        default = "default_produce_timeout",
        deserialize_with = "crate::domain::dates::de_duration"
    )]
    pub produce_timeout: Duration,
    /// How long a consumer-group member may be silent before its partitions go to the others
    /// (an instance that died is noticed after this).
    #[serde(
        default = "default_session_timeout",
        deserialize_with = "crate::domain::dates::de_duration"
    )]
    pub session_timeout: Duration,
}

fn default_produce_timeout() -> Duration {
    Duration::from_secs(10)
}

fn default_session_timeout() -> Duration {
    Duration::from_secs(10)
}

impl KafkaConfig {
    /// The full name of a topic, with the configured prefix.
    pub fn topic(&self, name: &str) -> String {
        format!("{}{}", self.topic_prefix, name)
    }
}

impl AsRef<KafkaConfig> for KafkaConfig {
    fn as_ref(&self) -> &KafkaConfig {
        self
    }
}

/// librdkafka settings shared by every client.
pub fn client_config(cfg: &impl AsRef<KafkaConfig>) -> ClientConfig {
    let mut c = ClientConfig::new();
    c.set("bootstrap.servers", &cfg.as_ref().bootstrap)
        // the local broker listens on IPv4; `localhost` may resolve to ::1 first
        .set("broker.address.family", "v4")
        .set("client.id", "schakel");
    for (k, v) in &cfg.as_ref().properties {
        c.set(k, v);
    }
    c
}

/// The CloudEvents attributes of a record, written as `ce_*` headers.
#[derive(Debug, Clone)]
pub struct CloudEvent {
    pub id: String,
    pub source: String,
    pub kind: String,
    pub time: Timestamp,
    pub trace: TraceParent,
}

/// A record to produce: topic (logical name), key, value and its CloudEvents attributes.
pub struct Outgoing<'a, T: Serialize> {
    pub topic: &'a str,
    pub key: &'a str,
    pub value: &'a T,
    pub event: &'a CloudEvent,
    pub partition: Option<i32>,
}

/// The settings of every Schakel producer: acks=all, idempotent, short batches, lz4.
pub fn producer_config(cfg: &impl AsRef<KafkaConfig>) -> ClientConfig {
    let mut c = client_config(cfg);
    c.set("acks", "all")
        .set("enable.idempotence", "true")
        .set("partitioner", "murmur2_random")
        .set(
            "message.timeout.ms",
            cfg.as_ref().produce_timeout.as_millis().to_string(),
        )
        // batches of up to 5 ms, compressed: ingest's answer waits for the acknowledgement,
        // so the linger stays short
        .set("linger.ms", "5")
        .set("compression.type", "lz4");
    // the region's own settings win over ours
    for (k, v) in &cfg.as_ref().properties {
        c.set(k, v);
    }
    c
}

/// Produces Avro single-object records with acks=all and idempotence.
#[derive(Clone)]
pub struct Producer {
    inner: FutureProducer,
    registry: Arc<Registry>,
    prefix: String,
    timeout: Duration,
}

impl Producer {
    pub fn new(cfg: &impl AsRef<KafkaConfig>) -> Result<Self, KafkaError> {
        let inner: FutureProducer = producer_config(cfg).create().map_err(classify)?;
        Ok(Self {
            inner,
            registry: Arc::new(schemas::registry()),
            prefix: cfg.as_ref().topic_prefix.clone(),
            timeout: cfg.as_ref().produce_timeout,
        })
    }

    pub fn registry(&self) -> &Arc<Registry> {
        &self.registry
    }

    /// Encodes and produces one record; returns (partition, offset) once the broker has it.
    pub async fn send<T: Serialize>(&self, rec: Outgoing<'_, T>) -> Result<(i32, i64), KafkaError> {
        let schema = self.registry.current(rec.topic)?;
        let payload = crate::log::codec::encode(schema, rec.value)?;
        let headers = ce_headers(
            rec.event,
            &schemas::dataschema(rec.topic, schema.fingerprint()),
        );
        self.send_bytes(rec.topic, rec.key, Some(&payload), headers, rec.partition)
            .await
    }

    /// Produces raw bytes (no schema, no CloudEvents headers) to an explicit partition: for
    /// internal records such as snapshot chunks.
    pub async fn send_raw(
        &self,
        topic: &str,
        key: &str,
        payload: &[u8],
        partition: i32,
    ) -> Result<(i32, i64), KafkaError> {
        self.send_bytes(
            topic,
            key,
            Some(payload),
            OwnedHeaders::new(),
            Some(partition),
        )
        .await
    }

    /// Produces a tombstone (null value) for `key`, for compacted topics.
    pub async fn send_tombstone(&self, topic: &str, key: &str) -> Result<(i32, i64), KafkaError> {
        self.send_bytes(topic, key, None, OwnedHeaders::new(), None)
            .await
    }

    async fn send_bytes(
        &self,
        topic: &str,
        key: &str,
        payload: Option<&[u8]>,
        headers: OwnedHeaders,
        partition: Option<i32>,
    ) -> Result<(i32, i64), KafkaError> {
        let full = format!("{}{}", self.prefix, topic);
        let mut record: FutureRecord<'_, str, [u8]> =
            FutureRecord::to(&full).key(key).headers(headers);
        if let Some(p) = payload {
            record = record.payload(p);
        }
        if let Some(p) = partition {
            record = record.partition(p);
        }
        let delivered = self.inner.send(record, self.timeout).await;
        delivered
            .map(|d| (d.partition, d.offset))
            .map_err(|(e, _)| classify(e))
    }

    /// Waits for outstanding records, for a clean shutdown.
    pub fn flush(&self, timeout: Duration) {
        let _ = rdkafka::producer::Producer::flush(&self.inner, timeout);
    }
}

fn ce_headers(ev: &CloudEvent, dataschema: &str) -> OwnedHeaders {
    let time = ev.time.to_string();
    let trace = ev.trace.to_string();
    let pairs: [(&str, &str); 9] = [
        ("ce_specversion", "1.0"),
        ("ce_id", &ev.id),
        ("ce_source", &ev.source),
        ("ce_type", &ev.kind),
        ("ce_time", &time),
        ("ce_dataschema", dataschema),
        ("ce_datacontenttype", "application/avro"),
        ("content-type", "application/avro"),
        ("traceparent", &trace),
    ];
    pairs.iter().fold(OwnedHeaders::new(), |h, (k, v)| {
        h.insert(Header {
            key: k,
            value: Some(v.as_bytes()),
        })
    })
}

/// The headers of a consumed record, as strings.
pub fn headers_of<M: Message>(m: &M) -> HashMap<String, String> {
    let mut out = HashMap::new();
    if let Some(h) = m.headers() {
        for hd in h.iter() {
            if let Some(v) = hd.value {
                out.insert(hd.key.to_owned(), String::from_utf8_lossy(v).into_owned());
            }
        }
    }
    out
}

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
        }
    }
}

/// The high watermark of a partition as the consumer last heard it from a fetch (no request
/// to the broker); None until a fetch answered.
pub fn cached_high_watermark<C: Consumer<X>, X: rdkafka::consumer::ConsumerContext>(
    consumer: &C,
    topic: &str,
    partition: i32,
) -> Option<i64> {
    let name = std::ffi::CString::new(topic).ok()?;
    let (mut low, mut high) = (-1i64, -1i64);
    // SAFETY: the client pointer is valid while the consumer lives; the name is a valid C
    // string for the call; low and high are plain out-parameters.
    let err = unsafe {
        rdkafka::bindings::rd_kafka_get_watermark_offsets(
            consumer.client().native_ptr(),
            name.as_ptr(),
            partition,
            &mut low,
            &mut high,
        )
    };
    (err == rdkafka::bindings::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_NO_ERROR && high >= 0)
        .then_some(high)
}

/// A consumer for one-off reads: its own throw-away group, no commits, assigned by the caller.
fn reader(cfg: &impl AsRef<KafkaConfig>) -> Result<BaseConsumer, KafkaError> {
    client_config(cfg)
        .set(
            "group.id",
            format!("schakel-reader-{}", crate::log::trace::random_hex(8)),
        )
        .set("enable.auto.commit", "false")
        .set("enable.partition.eof", "false")
        .create()
        .map_err(classify)
}

/// The records at the given (partition, offset) positions of a topic (full name), read in one
/// pass per partition from the lowest to the highest position asked for. Positions that are
/// not in the log are left out.
pub fn read_positions(
    cfg: &impl AsRef<KafkaConfig>,
    topic: &str,
    positions: &[(i32, i64)],
) -> Result<HashMap<(i32, i64), Record>, KafkaError> {
    let mut want: HashMap<i32, std::collections::BTreeSet<i64>> = HashMap::new();
    for (p, o) in positions {
        want.entry(*p).or_default().insert(*o);
    }
    let consumer = reader(cfg)?;
    let mut tpl = TopicPartitionList::new();
    let mut last: HashMap<i32, i64> = HashMap::new();
    for (p, offsets) in &want {
        let (low, high) = watermarks(&consumer, topic, *p)?;
        let (Some(first), Some(max)) = (
            offsets.iter().copied().find(|o| *o >= low),
            offsets.iter().copied().filter(|o| *o < high).max(),
        ) else {
            continue;
        };
        tpl.add_partition_offset(topic, *p, Offset::Offset(first))
            .map_err(classify)?;
        last.insert(*p, max);
    }
    let mut out = HashMap::new();
    if last.is_empty() {
        return Ok(out);
    }
    consumer.assign(&tpl).map_err(classify)?;
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while !last.is_empty() {
        if std::time::Instant::now() > deadline {
            return Err(KafkaError::Unavailable(format!(
                "timed out reading {topic}"
            )));
        }
        match consumer.poll(Duration::from_millis(200)) {
            Some(Ok(m)) => {
                let (p, o) = (m.partition(), m.offset());
                if want.get(&p).is_some_and(|w| w.contains(&o)) {
                    out.insert((p, o), Record::from_message(&m));
                }
                if last.get(&p).is_some_and(|max| o >= *max) {
                    last.remove(&p);
                }
            }
            // a broker of the cluster that is away: the reads go on with the others
            Some(Err(e)) if classify_ref(&e).is_retryable() => {}
            Some(Err(e)) => return Err(classify(e)),
            None => {}
        }
    }
    Ok(out)
}

/// The records of one partition of a topic (full name) with offsets in `from..to`, in order.
pub fn read_range(
    cfg: &impl AsRef<KafkaConfig>,
    topic: &str,
    partition: i32,
    from: i64,
    to: i64,
) -> Result<Vec<Record>, KafkaError> {
    let consumer = reader(cfg)?;
    let (low, high) = watermarks(&consumer, topic, partition)?;
    let (from, to) = (from.max(low), to.min(high));
    let mut out = Vec::new();
    if from >= to {
        return Ok(out);
    }
    let mut tpl = TopicPartitionList::new();
    tpl.add_partition_offset(topic, partition, Offset::Offset(from))
        .map_err(classify)?;
    consumer.assign(&tpl).map_err(classify)?;
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        if std::time::Instant::now() > deadline {
            return Err(KafkaError::Unavailable(format!(
                "timed out reading {topic}"
            )));
        }
        match consumer.poll(Duration::from_millis(200)) {
            Some(Ok(m)) => {
                if m.offset() >= to {
                    return Ok(out);
                }
                out.push(Record::from_message(&m));
                if m.offset() + 1 >= to {
                    return Ok(out);
                }
            }
            // a broker of the cluster that is away: the reads go on with the others
            Some(Err(e)) if classify_ref(&e).is_retryable() => {}
            Some(Err(e)) => return Err(classify(e)),
            None => {}
        }
    }
}

/// The record at `offset` of a topic's (full name) partition, if it is there.
pub fn read_one(
    cfg: &impl AsRef<KafkaConfig>,
    topic: &str,
    partition: i32,
    offset: i64,
) -> Result<Option<Record>, KafkaError> {
    Ok(read_positions(cfg, topic, &[(partition, offset)])?.remove(&(partition, offset)))
}

/// Where each partition of a topic (full name) ends now: partition → the next offset.
pub fn high_watermarks(
    cfg: &impl AsRef<KafkaConfig>,
    topic: &str,
) -> Result<HashMap<i32, i64>, KafkaError> {
    let consumer = reader(cfg)?;
    let mut out = HashMap::new();
    for p in partitions(&consumer, topic)? {
        let (_, high) = watermarks(&consumer, topic, p)?;
        out.insert(p, high);
    }
    Ok(out)
}

/// Reads every record of a topic (full name) from the beginning up to its current end.
pub fn read_to_end(cfg: &impl AsRef<KafkaConfig>, topic: &str) -> Result<Vec<Record>, KafkaError> {
    let consumer = reader(cfg)?;
    let mut tpl = TopicPartitionList::new();
    let mut remaining = HashMap::new();
    for p in partitions(&consumer, topic)? {
        let (low, high) = watermarks(&consumer, topic, p)?;
        if high > low {
            remaining.insert(p, high);
            tpl.add_partition_offset(topic, p, Offset::Beginning)
                .map_err(classify)?;
        }
    }
    let mut out = Vec::new();
    if remaining.is_empty() {
        return Ok(out);
    }
    consumer.assign(&tpl).map_err(classify)?;
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while !remaining.is_empty() {
        if std::time::Instant::now() > deadline {
            return Err(KafkaError::Unavailable(format!(
                "timed out reading {topic}"
            )));
        }
        match consumer.poll(Duration::from_millis(200)) {
            Some(Ok(m)) => {
                let r = Record::from_message(&m);
                if let Some(high) = remaining.get(&r.partition) {
                    if r.offset + 1 >= *high {
                        remaining.remove(&r.partition);
                    }
                }
                out.push(r);
            }
            // a broker of the cluster that is away: the reads go on with the others
            Some(Err(e)) if classify_ref(&e).is_retryable() => {}
            Some(Err(e)) => return Err(classify(e)),
            None => {}
        }
    }
    Ok(out)
}
