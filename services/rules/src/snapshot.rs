//! Snapshots of the rules state per partition, kept in the compacted topic `hub.snapshots.v1`
//! (partition *p* holds the snapshots of input partition *p*), so every instance can read the
//! snapshot of a partition it is given, with no shared volume.
//!
//! A snapshot is written as chunks of at most [`CHUNK`] bytes, then a manifest that names the
//! chunks' offsets, the input offsets the state covers and a checksum. Chunks alternate
//! between two key slots, so the chunks of the previous snapshot survive compaction until the
//! next manifest is written: a crash mid-write leaves the previous snapshot readable. The
//! newest manifest sits near the end of the partition; the reader searches back from there.
//!
//! A snapshot is only an accelerator: it is ignored (the log is replayed from the beginning)
//! when its format, the software version or the policy differ from the running ones, or when
//! any of it cannot be read or does not match its checksum.

use crate::policy::Policy;
use schakel_core::domain::catalogue::Topic;
use schakel_core::log::kafka::{self, Producer, Record};
use schakel_core::Config;
use serde::{Deserialize, Serialize};

use crate::engine::EngineImage;
use crate::state::fnv64;

const FORMAT: u32 = 4;
/// The largest chunk, well below Kafka's default message size limit (1 MiB).
pub const CHUNK: usize = 512 * 1024;
/// The topic (logical name).
pub const TOPIC: Topic = Topic::SNAPSHOTS;

/// What a snapshot covers and where its chunks are.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    pub format: u32,
    pub version: String,
    pub policy: u64,
    pub partition: i32,
    /// counts the snapshots of this partition and group; the chunk slot is `seq % 2`
    pub seq: u64,
    /// (logical topic, next offset to read) for every input topic of the partition
    pub offsets: Vec<(String, i64)>,
    /// where the partition of hub.signals.v1 ended when the state was taken
    pub signals_end: i64,
    /// offsets of the chunks in the partition of hub.snapshots.v1, in order
    pub chunks: Vec<i64>,
    pub len: u64,
    pub checksum: u64,
}

/// A snapshot read back: its manifest and the state.
pub struct Snapshot {
    pub manifest: Manifest,
    pub image: EngineImage,
}

/// A fingerprint of the policy: a snapshot made under another policy is not used.
pub fn policy_fingerprint(policy: &Policy) -> u64 {
    fnv64(&[format!("{policy:?}").as_bytes()])
}

pub fn encode_image(image: &EngineImage) -> Vec<u8> {
    bincode::serialize(image).expect("state serialises")
}

pub fn decode_image(bytes: &[u8]) -> Result<EngineImage, String> {
    bincode::deserialize(bytes).map_err(|e| e.to_string())
}

fn manifest_key(group: &str) -> String {
    format!("{group}/manifest")
}

fn chunk_key(group: &str, slot: u64, i: usize) -> String {
    format!("{group}/chunk/{slot}/{i}")
}

/// What to snapshot: the state of one partition and where it stands in the log.
pub struct Taking<'a> {
    pub group: &'a str,
    pub partition: i32,
    pub seq: u64,
    pub offsets: Vec<(String, i64)>,
    pub signals_end: i64,
    pub image: &'a EngineImage,
}

/// Writes a snapshot: the chunks (acknowledged), then the manifest. Returns its size.
pub async fn write(
    producer: &Producer,
    policy: &Policy,
    t: Taking<'_>,
) -> Result<u64, kafka::KafkaError> {
    let bytes = encode_image(t.image);
    let slot = t.seq % 2;
    // the chunks go out together; each waits for the broker's acknowledgement
    let mut sends = tokio::task::JoinSet::new();
    for (i, chunk) in bytes.chunks(CHUNK).enumerate() {
        let (producer, key, chunk) = (
            producer.clone(),
            chunk_key(t.group, slot, i),
            chunk.to_vec(),
        );
        let partition = t.partition;
        sends.spawn(async move {
            let at = producer.send_raw(TOPIC, &key, &chunk, partition).await?;
            Ok::<_, kafka::KafkaError>((i, at.1))
        });
    }
    let mut chunks = vec![0i64; sends.len()];
    while let Some(r) = sends.join_next().await {
        let (i, offset) = r.map_err(|e| kafka::KafkaError::Refused(e.to_string()))??;
        chunks[i] = offset;
    }
    let manifest = Manifest {
        format: FORMAT,
        version: env!("CARGO_PKG_VERSION").to_owned(),
        policy: policy_fingerprint(policy),
        partition: t.partition,
        seq: t.seq,
        offsets: t.offsets,
        signals_end: t.signals_end,
        chunks,
        len: bytes.len() as u64,
        checksum: fnv64(&[&bytes]),
    };
    let m = bincode::serialize(&manifest).expect("manifest serialises");
    producer
        .send_raw(TOPIC, &manifest_key(t.group), &m, t.partition)
        .await?;
    Ok(bytes.len() as u64)
}

/// The newest manifest of `group` in the partition, searching back from its end.
fn newest_manifest(cfg: &Config, group: &str, partition: i32) -> Result<Option<Manifest>, String> {
    let topic = cfg.topic(TOPIC);
    let ends = kafka::high_watermarks(cfg, &topic).map_err(|e| e.to_string())?;
    let high = ends.get(&partition).copied().unwrap_or(0);
    let key = manifest_key(group);
    let mut to = high;
    let mut window = 64;
    while to > 0 {
        let from = (to - window).max(0);
        let records =
            kafka::read_range(cfg, &topic, partition, from, to).map_err(|e| e.to_string())?;
        let found = records
            .iter()
            .rev()
            .find(|r| r.key.as_deref() == Some(key.as_str()) && r.value.is_some());
        if let Some(r) = found {
            let m: Manifest = bincode::deserialize(r.value.as_deref().unwrap_or_default())
                .map_err(|e| format!("manifest at offset {}: {e}", r.offset))?;
            return Ok(Some(m));
        }
        // compaction may have removed everything before: the first record read says where
        // the partition really starts
        let start = records
            .first()
            .map_or(from, |r: &Record| r.offset.min(from));
        if from == 0 || start > from {
            break;
        }
        to = from;
        window *= 4;
    }
    Ok(None)
}

/// The partition's newest snapshot made by this version under this policy; None if there is
/// none. Blocks: call it from a blocking task.
pub fn read(
    cfg: &Config,
    group: &str,
    partition: i32,
    policy: &Policy,
) -> Result<Option<Snapshot>, String> {
    let Some(m) = newest_manifest(cfg, group, partition)? else {
        return Ok(None);
    };
    if m.format != FORMAT || m.version != env!("CARGO_PKG_VERSION") {
        return Err(format!("snapshot {} was made by another version", m.seq));
    }
    if m.policy != policy_fingerprint(policy) {
        return Err(format!("snapshot {} was made under another policy", m.seq));
    }
    if m.partition != partition {
        return Err(format!("snapshot {} belongs to another partition", m.seq));
    }
    let topic = cfg.topic(TOPIC);
    let positions: Vec<(i32, i64)> = m.chunks.iter().map(|o| (partition, *o)).collect();
    let mut got = kafka::read_positions(cfg, &topic, &positions).map_err(|e| e.to_string())?;
    let mut bytes = Vec::with_capacity(m.len as usize);
    let slot = m.seq % 2;
    for (i, o) in m.chunks.iter().enumerate() {
        let r = got
            .remove(&(partition, *o))
            .ok_or_else(|| format!("snapshot {}: chunk {i} is gone", m.seq))?;
        if r.key.as_deref() != Some(chunk_key(group, slot, i).as_str()) {
            return Err(format!("snapshot {}: chunk {i} was overwritten", m.seq));
        }
        bytes.extend_from_slice(r.value.as_deref().unwrap_or_default());
    }
    if bytes.len() as u64 != m.len || fnv64(&[&bytes]) != m.checksum {
        return Err(format!("snapshot {} does not match its checksum", m.seq));
    }
    let image = decode_image(&bytes).map_err(|e| format!("snapshot {}: {e}", m.seq))?;
    Ok(Some(Snapshot { manifest: m, image }))
}
