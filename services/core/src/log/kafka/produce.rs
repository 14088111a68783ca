//! Producing: Avro single-object records with CloudEvents binary-mode headers, acks=all and
//! idempotence.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use rdkafka::message::{Header, Headers, Message, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::ClientConfig;
use serde::Serialize;

use crate::domain::catalogue::{EventType, Topic};
use crate::domain::events::{ClockTick, SourceEvent};
use crate::log::codec::Registry;
use crate::log::schemas;
use crate::log::trace::TraceParent;
use crate::runtime::telemetry::{self, Kind};

use super::{classify, client_config, KafkaConfig, KafkaError};

/// The CloudEvents attributes of a record, written as `ce_*` headers. Its type decides the
/// topic the record goes to.
#[derive(Debug, Clone)]
pub struct CloudEvent {
    pub id: String,
    pub source: String,
    pub kind: EventType,
    pub time: Timestamp,
    pub trace: TraceParent,
}

impl CloudEvent {
    /// The attributes of a source fact: its own id, source, type and time.
    pub fn of_source<D>(e: &SourceEvent<D>, trace: TraceParent) -> Self {
        Self {
            id: e.id.clone(),
            source: e.source.clone(),
            kind: e.kind,
            time: e.time,
            trace,
        }
    }

    /// The attributes of a clock tick, a new trace of its own.
    pub fn of_tick(tick: &ClockTick) -> Self {
        Self {
            id: tick.id.clone(),
            source: "urn:nl:schakel:clock".into(),
            kind: EventType::ClockTicked,
            time: tick.produced_at,
            trace: TraceParent::new_root(),
        }
    }
}

/// A record to produce: key, value and its CloudEvents attributes; the topic is that of the
/// event's type in the catalogue.
pub struct Outgoing<'a, T: Serialize> {
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
    /// The record is written in a `send` span under the event's trace; its `traceparent`
    /// names that span, whose id follows from the trace and the event's id.
    pub async fn send<T: Serialize>(&self, rec: Outgoing<'_, T>) -> Result<(i32, i64), KafkaError> {
        self.send_linked(rec, None).await
    }

    /// [`Producer::send`], the `send` span linked to another that caused the record too.
    pub async fn send_linked<T: Serialize>(
        &self,
        rec: Outgoing<'_, T>,
        link: Option<&TraceParent>,
    ) -> Result<(i32, i64), KafkaError> {
        let topic = rec.event.kind.topic();
        let schema = self.registry.current(topic)?;
        let payload = crate::log::codec::encode(schema, rec.value)?;
        let planned = rec.event.trace.record_child(&rec.event.id);
        let mut start =
            telemetry::span(Kind::Producer, Some(&rec.event.trace)).planned(planned.ids());
        if let Some(l) = link {
            start = start.link(l);
        }
        let mut span = start.start(|| {
            let full = format!("{}{}", self.prefix, topic.name());
            (
                format!("send {full}").into(),
                telemetry::kafka_attrs("send", &full),
            )
        });
        let headers = ce_headers(
            rec.event,
            span.context(),
            &schemas::dataschema(topic, schema.fingerprint()),
        );
        let written = self
            .send_bytes(topic, rec.key, Some(&payload), headers, rec.partition)
            .await;
        match &written {
            Ok((partition, offset)) => {
                span.record(|| telemetry::kafka_position(*partition, *offset))
            }
            Err(e) => span.fail(|| e.to_string()),
        }
        written
    }

    /// Produces raw bytes (no schema, no CloudEvents headers) to an explicit partition: for
    /// internal records such as snapshot chunks.
    pub async fn send_raw(
        &self,
        topic: Topic,
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
    pub async fn send_tombstone(&self, topic: Topic, key: &str) -> Result<(i32, i64), KafkaError> {
        self.send_bytes(topic, key, None, OwnedHeaders::new(), None)
            .await
    }

    async fn send_bytes(
        &self,
        topic: Topic,
        key: &str,
        payload: Option<&[u8]>,
        headers: OwnedHeaders,
        partition: Option<i32>,
    ) -> Result<(i32, i64), KafkaError> {
        let full = format!("{}{}", self.prefix, topic.name());
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

    /// The partition numbers of `topic`, from the producer's own connection (no second client).
    pub fn partitions(&self, topic: Topic) -> Result<Vec<i32>, KafkaError> {
        let full = format!("{}{}", self.prefix, topic.name());
        let md = rdkafka::producer::Producer::client(&self.inner)
            .fetch_metadata(Some(&full), self.timeout)
            .map_err(classify)?;
        super::consume::partition_ids(&md, &full)
    }

    /// Waits for outstanding records, for a clean shutdown.
    pub fn flush(&self, timeout: Duration) {
        let _ = rdkafka::producer::Producer::flush(&self.inner, timeout);
    }
}

fn ce_headers(ev: &CloudEvent, span: &TraceParent, dataschema: &str) -> OwnedHeaders {
    let time = ev.time.to_string();
    let trace = span.to_string();
    let pairs: [(&str, &str); 9] = [
        ("ce_specversion", "1.0"),
        ("ce_id", &ev.id),
        ("ce_source", &ev.source),
        ("ce_type", ev.kind.name()),
        ("ce_time", &time),
        ("ce_dataschema", dataschema),
        ("ce_datacontenttype", "application/avro"),
        ("content-type", "application/avro"),
        ("traceparent", &trace),
    ];
    let headers = pairs.iter().fold(OwnedHeaders::new(), |h, (k, v)| {
        h.insert(Header {
            key: k,
            value: Some(v.as_bytes()),
        })
    });
    match span.tracestate() {
        Some(state) => headers.insert(Header {
            key: "tracestate",
            value: Some(state.as_bytes()),
        }),
        None => headers,
    }
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
