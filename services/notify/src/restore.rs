//! What notify knows before it plans anything: the directory, the delivery ledger (with the
//! endpoints' health) and, on a log clock, the time, each read back from its topic to its end;
//! then a consumer of its own follows those topics from there. Every instance reads and
//! follows all of them (they are small); only the signals are divided among instances.

use schakel_core::domain::catalogue::Topic;
use std::collections::HashMap;

use crate::config::NotifyClock;
use crate::config::Settings;
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::{Offset, TopicPartitionList};
use schakel_core::domain::events::{ClockTick, DeliveryEvent, DirectoryEntry};
use schakel_core::log::codec::Registry;
use schakel_core::log::kafka::{self, Record};

use crate::clock::Hand;
use crate::directory::Directory;
use crate::ledger::{self, Ledger};

/// What was read back, and where each topic's partitions ended.
pub struct Restored {
    pub directory: Directory,
    pub ledger: Ledger,
    pub endpoints: ledger::Endpoints,
    /// (full topic, partition) → the next offset to follow from
    pub ends: HashMap<(String, i32), i64>,
}

pub fn apply_directory(reg: &Registry, dir: &mut Directory, r: &Record) {
    let key = r.key.clone().unwrap_or_default();
    match r.value.as_deref() {
        None => dir.apply(&key, None),
        Some(v) => match reg.decode::<DirectoryEntry>(Topic::DIRECTORY, v) {
            Ok(e) => dir.apply(&key, Some(e)),
            Err(e) => {
                tracing::warn!(offset = r.offset, error = %e, "unreadable directory record skipped")
            }
        },
    }
}

/// A ledger record, decoded; None (logged) for one that cannot be read.
pub fn decode_ledger(reg: &Registry, r: &Record) -> Option<DeliveryEvent> {
    match r
        .value
        .as_deref()
        .map(|v| reg.decode::<DeliveryEvent>(Topic::DELIVERIES, v))
    {
        Some(Ok(ev)) => Some(ev),
        Some(Err(e)) => {
            // e.g. a status this version does not know: never taken for another one
            tracing::error!(offset = r.offset, error = %e, "unreadable ledger record skipped");
            None
        }
        None => None,
    }
}

/// A tick's instant moves a log clock.
pub fn apply_tick(reg: &Registry, hand: &Hand, r: &Record) {
    if let Some(v) = r.value.as_deref() {
        match reg.decode::<ClockTick>(Topic::CLOCK, v) {
            Ok(t) => hand.advance_to(t.produced_at),
            Err(e) => tracing::warn!(offset = r.offset, error = %e, "unreadable tick skipped"),
        }
    }
}

/// The topics an instance follows in full.
pub fn followed(cfg: &Settings) -> Vec<String> {
    let mut t = vec![cfg.topic(Topic::DIRECTORY), cfg.topic(Topic::DELIVERIES)];
    if cfg.notify.clock == NotifyClock::Log {
        t.push(cfg.topic(Topic::CLOCK));
    }
    t
}

/// Reads the followed topics back to their ends (blocks: call it from a blocking task).
pub fn read_back(cfg: &Settings, hand: Option<&Hand>) -> anyhow::Result<Restored> {
    let reg = schakel_core::log::schemas::registry();
    let mut out = Restored {
        directory: Directory::default(),
        ledger: Ledger::default(),
        endpoints: ledger::Endpoints::default(),
        ends: HashMap::new(),
    };
    let (directory, deliveries) = (cfg.topic(Topic::DIRECTORY), cfg.topic(Topic::DELIVERIES));
    for topic in followed(cfg) {
        // where each partition ends now: also the start of partitions read empty
        for (p, end) in kafka::high_watermarks(cfg, &topic)? {
            out.ends.insert((topic.clone(), p), end);
        }
        for r in kafka::read_to_end(cfg, &topic)? {
            let end = out.ends.entry((topic.clone(), r.partition)).or_default();
            *end = (*end).max(r.offset + 1);
            if topic == directory {
                apply_directory(&reg, &mut out.directory, &r);
            } else if topic == deliveries {
                if let Some(ev) = decode_ledger(&reg, &r) {
                    out.ledger.apply(&ev);
                    out.endpoints.apply(&ev);
                }
            } else if let Some(h) = hand {
                apply_tick(&reg, h, &r);
            }
        }
    }
    Ok(out)
}

/// A consumer that follows the followed topics from where `read_back` ended.
pub fn follower(
    cfg: &Settings,
    ends: &HashMap<(String, i32), i64>,
) -> anyhow::Result<StreamConsumer> {
    let consumer: StreamConsumer = kafka::client_config(cfg)
        .set("group.id", format!("{}.follow", cfg.notify.group))
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false")
        .set("enable.partition.eof", "false")
        .create()?;
    let mut tpl = TopicPartitionList::new();
    for ((t, p), o) in ends {
        tpl.add_partition_offset(t, *p, Offset::Offset(*o))?;
    }
    consumer.assign(&tpl)?;
    Ok(consumer)
}

#[cfg(test)]
mod tests {
    use super::*;
    use schakel_core::domain::events::DeliveryStatus;

    fn record(status: &str) -> Record {
        let json = serde_json::json!({
            "id": "d", "type": format!("nl.schakel.delivery.{status}.v1"),
            "signalId": "s", "signalEventId": "se", "step": "opened", "contact": "c",
            "channel": "webhook", "attempt": 1, "status": status, "error": null,
            "at": "2026-03-01T08:00:00Z", "nextAttemptAt": null,
            "signalPartition": 0, "signalOffset": 7,
        });
        let reg = schakel_core::log::schemas::registry();
        let schema = reg.current(Topic::DELIVERIES).unwrap();
        Record {
            topic: "hub.deliveries.v1".into(),
            partition: 0,
            offset: 3,
            key: Some("d".into()),
            value: Some(schakel_core::log::codec::encode_json(schema, &json).unwrap()),
            timestamp: None,
            trace: None,
        }
    }

    #[test]
    fn an_unknown_status_on_the_ledger_is_unreadable_not_a_retry() {
        let reg = schakel_core::log::schemas::registry();
        let known = decode_ledger(&reg, &record("failed")).expect("a known status reads");
        assert_eq!(known.status, DeliveryStatus::Failed);
        assert_eq!(decode_ledger(&reg, &record("retry-scheduled")), None);
        assert_eq!(decode_ledger(&reg, &record("")), None);
    }
}
