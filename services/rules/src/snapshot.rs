//! Snapshots of the rules state, one file per partition, so a restart reads the snapshot and
//! the tail of the log instead of the whole log.
//!
//! A snapshot is only an accelerator: it records the input offsets it covers, and it is
//! ignored (the log is replayed from the beginning) when its format, the software version or
//! the policy differ from the running ones, or when it cannot be read.

use std::path::{Path, PathBuf};

use schakel_core::policy::Policy;
use serde::{Deserialize, Serialize};

use crate::engine::EngineImage;
use crate::state::fnv64;

const FORMAT: u32 = 2;

/// The state of one partition and the input offsets it covers.
#[derive(Serialize, Deserialize)]
pub struct Snapshot {
    pub format: u32,
    pub version: String,
    pub policy: u64,
    pub partition: i32,
    /// (logical topic, next offset to read) for every input topic of the partition
    pub offsets: Vec<(String, i64)>,
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

fn path(dir: &Path, group: &str, partition: i32) -> PathBuf {
    dir.join(format!("{group}-p{partition}.snapshot"))
}

impl Snapshot {
    pub fn new(
        policy: &Policy,
        partition: i32,
        offsets: Vec<(String, i64)>,
        image: EngineImage,
    ) -> Self {
        Self {
            format: FORMAT,
            version: env!("CARGO_PKG_VERSION").to_owned(),
            policy: policy_fingerprint(policy),
            partition,
            offsets,
            image,
        }
    }

    /// Writes the snapshot atomically (a temporary file renamed over the old one).
    pub fn write(&self, dir: &Path, group: &str) -> std::io::Result<u64> {
        std::fs::create_dir_all(dir)?;
        let target = path(dir, group, self.partition);
        let tmp = target.with_extension("tmp");
        let bytes = bincode::serialize(self).map_err(std::io::Error::other)?;
        std::fs::write(&tmp, &bytes)?;
        std::fs::rename(&tmp, &target)?;
        Ok(bytes.len() as u64)
    }

    /// The partition's snapshot, if there is one made by this version under this policy.
    pub fn read(
        dir: &Path,
        group: &str,
        partition: i32,
        policy: &Policy,
    ) -> Result<Option<Self>, String> {
        let p = path(dir, group, partition);
        let bytes = match std::fs::read(&p) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(format!("{}: {e}", p.display())),
        };
        let s: Snapshot =
            bincode::deserialize(&bytes).map_err(|e| format!("{}: {e}", p.display()))?;
        if s.format != FORMAT || s.version != env!("CARGO_PKG_VERSION") {
            return Err(format!("{}: made by another version", p.display()));
        }
        if s.policy != policy_fingerprint(policy) {
            return Err(format!("{}: made under another policy", p.display()));
        }
        if s.partition != partition {
            return Err(format!("{}: belongs to another partition", p.display()));
        }
        Ok(Some(s))
    }
}
