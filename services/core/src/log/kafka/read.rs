//! One-off reads: given positions, a range, one record, or a whole topic, with a throw-away
//! consumer that commits nothing.

use std::collections::HashMap;
use std::time::Duration;

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::Message;
use rdkafka::{Offset, TopicPartitionList};

use super::{
    classify, classify_ref, client_config, partitions, watermarks, KafkaConfig, KafkaError, Record,
};

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
