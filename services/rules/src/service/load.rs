//! Loading a partition given to this instance, on a blocking thread: its newest snapshot,
//! its committed offsets, where to start reading, and the signal steps already written since
//! the snapshot (so that a restore never writes one twice).

use schakel_core::domain::catalogue::Topic;
use std::collections::HashSet;
use std::sync::Arc;

use schakel_core::domain::events::SignalEvent;
use schakel_core::log::group::CommittedReader;
use schakel_core::log::kafka;
use schakel_core::Config;

use super::INPUTS;
use crate::config::Settings;
use crate::partition::Loaded;
use crate::snapshot;
use crate::Engine;

/// What a load task answers: the partition, the epoch it was given in, and what it found.
pub(super) type LoadResult = (i32, u64, Result<Loaded, String>);

/// Loads a partition given to this instance: its newest snapshot (if any), its committed
/// offsets, and the signal steps written since the snapshot. Blocks.
pub(super) fn load(
    cfg: &Config,
    own: &Settings,
    reader: &CommittedReader,
    p: i32,
    tps: &[(String, i32)],
) -> Result<Loaded, String> {
    let snap = if own.rules.snapshots {
        match snapshot::read(cfg, &own.rules.group, p, &own.policy) {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(partition = p, reason = %e, "snapshot not used; replaying the log");
                None
            }
        }
    } else {
        None
    };
    let committed = reader.committed(tps).map_err(|e| e.to_string())?;
    let starts: Vec<i64> = {
        let consumer: rdkafka::consumer::BaseConsumer = kafka::client_config(cfg)
            .create()
            .map_err(|e| e.to_string())?;
        tps.iter()
            .map(|(t, _)| kafka::watermarks(&consumer, t, p).map(|(low, _)| low))
            .collect::<Result<_, _>>()
            .map_err(|e| e.to_string())?
    };
    let committed: Vec<i64> = tps
        .iter()
        .map(|(t, _)| {
            committed
                .iter()
                .find(|(ct, cp, _)| ct == t && *cp == p)
                .map_or(0, |(_, _, o)| *o)
        })
        .collect();
    let (engine, seq, start, signals_from, from_snapshot) = match snap {
        Some(s) => {
            let start: Vec<i64> = INPUTS
                .iter()
                .zip(&starts)
                .map(|(t, low)| {
                    s.manifest
                        .offsets
                        .iter()
                        .find(|(n, _)| n == t.name())
                        .map_or(*low, |(_, o)| (*o).max(*low))
                })
                .collect();
            let children = s.image.children.len();
            (
                Engine::from_image(own.policy.clone(), s.image),
                s.manifest.seq + 1,
                start,
                s.manifest.signals_end,
                Some(children),
            )
        }
        None => (Engine::new(own.policy.clone()), 0, starts, 0, None),
    };
    let (written, signals_end) = written_since(cfg, p, signals_from)?;
    Ok(Loaded {
        engine,
        seq,
        start,
        committed,
        written,
        signals_end,
        from_snapshot,
    })
}

/// The ids of the signal steps in the partition of hub.signals.v1 from `from` to its end, and
/// where it ends.
fn written_since(cfg: &Config, p: i32, from: i64) -> Result<(HashSet<String>, i64), String> {
    let topic = cfg.topic(Topic::SIGNALS);
    let end = kafka::high_watermarks(cfg, &topic)
        .map_err(|e| e.to_string())?
        .get(&p)
        .copied()
        .unwrap_or(0);
    let reg = Arc::new(schakel_core::log::schemas::registry());
    let mut ids = HashSet::new();
    if from < end {
        for r in kafka::read_range(cfg, &topic, p, from, end).map_err(|e| e.to_string())? {
            if let Some(Ok(s)) = r
                .value
                .as_deref()
                .map(|v| reg.decode::<SignalEvent>(Topic::SIGNALS, v))
            {
                ids.insert(s.id);
            }
        }
    }
    Ok((ids, end))
}
