//! The rules service. Instances share the input partitions through a consumer group: each
//! partition number is one unit (all six co-partitioned input topics of that number go to the
//! same instance). The group's membership rides on `hub.clock.v1`, which has one partition per
//! number; the inputs are read by a consumer of the instance's own, in one deterministic order
//! per partition (`schakel_core::log::merge`).
//!
//! A partition given to this instance is restored from its newest snapshot plus the tail of the
//! log before it emits anything (`partition.rs`); a partition taken away is snapshotted, its
//! processed offsets committed, and let go. Offsets are committed only after the signals of
//! their records were acknowledged.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use base64::Engine as _;
use jiff::Timestamp;
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::{Offset, TopicPartitionList};
use schakel_core::domain::events::{ClockTick, DeadLetter, SignalEvent};
use schakel_core::log::group::{CommittedReader, Group, GroupEvent, Membership, Offsets};
use schakel_core::log::kafka::{self, CloudEvent, Outgoing, Producer, Record};
use schakel_core::log::trace::TraceParent;
use schakel_core::runtime::ops::{self, Health};
use schakel_core::{Config, Shutdown};

use crate::config::Settings;
use tokio::net::TcpListener;
use tokio::task::JoinSet;

use crate::partition::{Loaded, Partition};
use crate::snapshot::{self, Taking};
use crate::{Engine, Input};

/// The topics rules folds, all child-scoped and co-partitioned, in merge order for records
/// appended in the same millisecond (facts before the tick).
pub const INPUTS: &[&str] = &[
    "source.school.v1",
    "source.voorschool.v1",
    "source.leerplicht.v1",
    "source.jeugdhulp.v1",
    "hub.responses.v1",
    "hub.clock.v1",
];

/// The topic whose partitions the group divides (one per partition number).
const ANCHOR: &str = "hub.clock.v1";

/// Runs the rules service until shutdown.
pub async fn run(cfg: Config, listener: TcpListener, shutdown: Shutdown) -> anyhow::Result<()> {
    let sd = shutdown.clone();
    ops::run_with_health(listener, shutdown, |health| async move {
        ops::watch_broker(&cfg, &health, &sd);
        let own = Settings::from_config(&cfg)?;
        let mut svc = Service::start(&cfg, &own, &health)?;
        let result = svc.run(&sd).await;
        svc.producer.flush(Duration::from_secs(5));
        result
    })
    .await
}

type LoadResult = (i32, u64, Result<Loaded, String>);

struct Service<'a> {
    cfg: &'a Config,
    own: &'a Settings,
    health: &'a Health,
    /// full names of INPUTS, by index
    topics: Vec<String>,
    group: Group,
    data: StreamConsumer,
    producer: Producer,
    parts: BTreeMap<i32, Partition>,
    loads: JoinSet<LoadResult>,
    epoch: u64,
    /// the group gave this instance its first assignment (maybe of nothing)
    joined: bool,
    last_consume_error: Option<std::time::Instant>,
    /// input records read per topic since the metrics were last published
    counted: Vec<u64>,
    ends: Ends,
}

/// The input partitions' high watermarks as the consumer last heard them, asked of
/// librdkafka at most every 10 ms per partition (far below `order_grace`, so a record that
/// arrived since is still waited for).
#[derive(Default)]
struct Ends(std::collections::HashMap<(usize, i32), (Option<i64>, std::time::Instant)>);

impl Ends {
    fn get(&mut self, data: &StreamConsumer, topic: &str, t: usize, p: i32) -> Option<i64> {
        let now = std::time::Instant::now();
        match self.0.get(&(t, p)) {
            Some((hw, at)) if now.duration_since(*at) < Duration::from_millis(10) => *hw,
            _ => {
                let hw = kafka::cached_high_watermark(data, topic, p);
                self.0.insert((t, p), (hw, now));
                hw
            }
        }
    }
}

impl<'a> Service<'a> {
    fn start(cfg: &'a Config, own: &'a Settings, health: &'a Health) -> anyhow::Result<Self> {
        let topics: Vec<String> = INPUTS.iter().map(|t| cfg.topic(t)).collect();
        let group = Group::join(
            cfg,
            Membership {
                group: &own.rules.group,
                topics: &[cfg.topic(ANCHOR)],
                forward: false,
                buffer: 64,
            },
        )?;
        let data: StreamConsumer =
            kafka::assigned_consumer_config(cfg, &format!("{}.inputs", own.rules.group))
                .create()
                .context("creating the input consumer")?;
        Ok(Self {
            cfg,
            own,
            health,
            topics,
            group,
            data,
            producer: Producer::new(cfg)?,
            parts: BTreeMap::new(),
            loads: JoinSet::new(),
            epoch: 0,
            joined: false,
            last_consume_error: None,
            counted: vec![0; INPUTS.len()],
            ends: Ends::default(),
        })
    }

    async fn run(&mut self, shutdown: &Shutdown) -> anyhow::Result<()> {
        let mut commit_every = tokio::time::interval(Duration::from_millis(500));
        let mut snapshot_every = tokio::time::interval(self.own.rules.snapshot_every);
        snapshot_every.tick().await;
        // records wait in the merger for the order grace; look at them again this often
        let mut wake = tokio::time::interval(Duration::from_millis(50));
        let mut leaving = false;
        loop {
            tokio::select! {
                biased;
                _ = shutdown.wait(), if !leaving => {
                    tracing::info!("leaving the group: every partition is snapshotted and committed first");
                    leaving = true;
                    self.group.leave();
                }
                ev = self.group.next() => match ev {
                    None | Some(GroupEvent::Left) => break,
                    Some(GroupEvent::Assigned(ps)) => self.assign(ps),
                    Some(GroupEvent::Revoked { partitions, reply }) => {
                        let offsets = self.revoke(&partitions).await;
                        let _ = reply.send(offsets);
                    }
                    Some(GroupEvent::Lost(ps)) => self.lose(&ps),
                    Some(GroupEvent::Record(_)) => {}
                },
                Some(done) = self.loads.join_next() => {
                    let (p, epoch, result) = done.context("partition load task")?;
                    self.loaded(p, epoch, result);
                }
                _ = commit_every.tick() => self.commit(),
                _ = snapshot_every.tick() => self.snapshot_changed().await,
                _ = wake.tick() => self.release_all(shutdown).await?,
                msg = self.data.recv(), if self.parts.values().any(|p| !matches!(p, Partition::Loading { .. })) => {
                    match msg {
                        Ok(m) => {
                            let rec = Record::from_message(&m);
                            drop(m);
                            self.on_record(rec, shutdown).await?;
                        }
                        Err(e) => self.consume_error(e),
                    }
                }
            }
        }
        Ok(())
    }

    fn consume_error(&mut self, e: rdkafka::error::KafkaError) {
        if self
            .last_consume_error
            .is_none_or(|t| t.elapsed() > Duration::from_secs(10))
        {
            tracing::warn!(error = %e, "reading inputs failed; librdkafka retries by itself");
            self.last_consume_error = Some(std::time::Instant::now());
        }
    }

    fn update_ready(&self) {
        let live = self.parts.values().all(Partition::is_live);
        self.health.set_ready(self.joined && live);
    }

    fn tps(&self, p: i32) -> Vec<(String, i32)> {
        self.topics.iter().map(|t| (t.clone(), p)).collect()
    }

    /// Partitions given: each is loaded by a task of its own (snapshot, committed offsets,
    /// the signals already written), then assigned to the input consumer.
    fn assign(&mut self, ps: Vec<i32>) {
        self.joined = true;
        for p in ps {
            self.epoch += 1;
            let epoch = self.epoch;
            self.parts.insert(p, Partition::Loading { epoch });
            let (cfg, own, reader, tps) = (
                self.cfg.clone(),
                self.own.clone(),
                self.group.reader(),
                self.tps(p),
            );
            self.loads.spawn(async move {
                let r = tokio::task::spawn_blocking(move || load(&cfg, &own, &reader, p, &tps))
                    .await
                    .map_err(|e| e.to_string())
                    .and_then(|r| r);
                (p, epoch, r)
            });
        }
        self.update_ready();
    }

    fn loaded(&mut self, p: i32, epoch: u64, result: Result<Loaded, String>) {
        if !matches!(self.parts.get(&p), Some(Partition::Loading { epoch: e }) if *e == epoch) {
            return; // taken away while it loaded
        }
        let loaded = match result {
            Ok(l) => l,
            Err(e) => {
                // the broker may be away: try again
                tracing::warn!(partition = p, error = %e, "loading the partition failed; trying again");
                self.parts.remove(&p);
                self.assign(vec![p]);
                return;
            }
        };
        let mut tpl = TopicPartitionList::new();
        for (t, start) in self.topics.iter().zip(&loaded.start) {
            let _ = tpl.add_partition_offset(t, p, Offset::Offset(*start));
        }
        if let Err(e) = self.data.incremental_assign(&tpl) {
            tracing::warn!(partition = p, error = %e, "assigning inputs failed; trying again");
            self.parts.remove(&p);
            self.assign(vec![p]);
            return;
        }
        let restoring: i64 = loaded
            .committed
            .iter()
            .zip(&loaded.start)
            .map(|(c, s)| (c - s).max(0))
            .sum();
        tracing::info!(
            partition = p,
            from_snapshot = loaded.from_snapshot.is_some(),
            children = loaded.engine.children(),
            records_to_restore = restoring,
            written_since_snapshot = loaded.written.len(),
            "partition loaded; restoring the tail of the log"
        );
        let part = Partition::from_loaded(loaded);
        if part.is_live() {
            tracing::info!(partition = p, "partition live");
        }
        self.parts.insert(p, part);
        self.update_ready();
    }

    fn unassign_inputs(&self, p: i32) {
        let mut tpl = TopicPartitionList::new();
        for t in &self.topics {
            tpl.add_partition(t, p);
        }
        if let Err(e) = self.data.incremental_unassign(&tpl) {
            tracing::warn!(partition = p, error = %e, "unassigning inputs failed");
        }
    }

    /// Partitions taken away: snapshot what changed, answer what to commit, let go.
    async fn revoke(&mut self, ps: &[i32]) -> Offsets {
        let mut out = Vec::new();
        for p in ps {
            let Some(mut part) = self.parts.remove(p) else {
                continue;
            };
            if let Some(offsets) = part.offsets_to_commit() {
                self.unassign_inputs(*p);
                if let Some(f) = part.folding() {
                    f.merger.clear();
                }
                if part.is_live() {
                    self.snapshot_one(*p, &mut part).await;
                }
                for (t, o) in self.topics.iter().zip(offsets) {
                    out.push((t.clone(), *p, o));
                }
            }
            tracing::info!(partition = p, "partition let go");
        }
        self.update_ready();
        out
    }

    fn lose(&mut self, ps: &[i32]) {
        for p in ps {
            if let Some(part) = self.parts.remove(p) {
                if !matches!(part, Partition::Loading { .. }) {
                    self.unassign_inputs(*p);
                }
                tracing::warn!(partition = p, "partition lost; its new owner restores it");
            }
        }
        self.update_ready();
    }

    async fn on_record(&mut self, rec: Record, shutdown: &Shutdown) -> anyhow::Result<()> {
        let Some(t) = self.topics.iter().position(|n| *n == rec.topic) else {
            return Ok(());
        };
        let p = rec.partition;
        let Some(f) = self.parts.get_mut(&p).and_then(Partition::folding) else {
            return Ok(()); // not (or no longer) ours
        };
        if !f.accept(t, rec) {
            return Ok(());
        }
        if f.merger.is_full(t) && !f.paused[t] {
            let mut tpl = TopicPartitionList::new();
            tpl.add_partition(&self.topics[t], p);
            let _ = self.data.pause(&tpl);
            f.paused[t] = true;
        }
        self.release(p, shutdown).await
    }

    async fn release_all(&mut self, shutdown: &Shutdown) -> anyhow::Result<()> {
        let ps: Vec<i32> = self.parts.keys().copied().collect();
        for p in ps {
            self.release(p, shutdown).await?;
        }
        Ok(())
    }

    /// Processes the partition's records that are due in merged order.
    async fn release(&mut self, p: i32, shutdown: &Shutdown) -> anyhow::Result<()> {
        let grace = self.own.rules.order_grace.as_millis() as i64;
        loop {
            let now = Timestamp::now().as_millisecond();
            let Some(f) = self.parts.get_mut(&p).and_then(Partition::folding) else {
                return Ok(());
            };
            let (data, topics, ends) = (&self.data, &self.topics, &mut self.ends);
            let crate::partition::Folding { merger, read, .. } = f;
            let next = merger.pop(now, grace, |t| {
                ends.get(data, &topics[t], t, p)
                    .is_some_and(|hw| read[t] >= hw)
            });
            let Some((t, rec)) = next else {
                break;
            };
            self.process(p, t, rec, shutdown).await?;
        }
        // resume what was paused once there is room again
        if let Some(f) = self.parts.get_mut(&p).and_then(Partition::folding) {
            for t in 0..self.topics.len() {
                if f.paused[t] && f.merger.has_room(t) {
                    let mut tpl = TopicPartitionList::new();
                    tpl.add_partition(&self.topics[t], p);
                    let _ = self.data.resume(&tpl);
                    f.paused[t] = false;
                }
            }
        }
        if let Some(part) = self.parts.remove(&p) {
            let (part, became_live) = part.settle();
            self.parts.insert(p, part);
            if became_live {
                tracing::info!(partition = p, "partition restored; live");
                self.update_ready();
            }
        }
        Ok(())
    }

    fn decode(&self, t: usize, rec: &Record) -> Result<Input, String> {
        let reg = self.producer.registry();
        let topic = INPUTS[t];
        let bytes = rec.value.as_deref().ok_or("record without a value")?;
        let r = match topic {
            "source.jeugdhulp.v1" => reg.decode(topic, bytes).map(Input::Jeugdhulp),
            "source.school.v1" => reg.decode(topic, bytes).map(Input::School),
            "source.voorschool.v1" => reg.decode(topic, bytes).map(Input::Voorschool),
            "source.leerplicht.v1" => reg.decode(topic, bytes).map(Input::Leerplicht),
            "hub.responses.v1" => reg.decode(topic, bytes).map(Input::Response),
            "hub.clock.v1" => reg
                .decode::<ClockTick>(topic, bytes)
                .map(|t| Input::Tick(t.date)),
            other => return Err(format!("unexpected topic {other}")),
        };
        r.map_err(|e| e.to_string())
    }

    async fn process(
        &mut self,
        p: i32,
        t: usize,
        rec: Record,
        shutdown: &Shutdown,
    ) -> anyhow::Result<()> {
        let logical = INPUTS[t];
        let decoded = self.decode(t, &rec);
        let Some(f) = self.parts.get_mut(&p).and_then(Partition::folding) else {
            return Ok(());
        };
        let silent = f.silent(t, rec.offset);
        tracing::debug!(
            topic = logical,
            partition = p,
            offset = rec.offset,
            silent,
            "input read"
        );
        self.counted[t] += 1;
        let mut signals = Vec::new();
        let mut refused = None;
        match decoded {
            Ok(input) => match f.engine.apply(&input) {
                Ok(s) => signals = s,
                Err(refusal) => refused = Some(format!("refused: {}", refusal.0)),
            },
            Err(reason) => refused = Some(reason),
        }
        if !silent {
            let (fresh, repeated): (Vec<SignalEvent>, Vec<SignalEvent>) = signals
                .into_iter()
                .partition(|s| !f.written.contains(&s.id));
            if !repeated.is_empty() {
                tracing::info!(
                    partition = p,
                    steps = repeated.len(),
                    "signal steps already in the log; not written again"
                );
                self.health.metrics.add(
                    "schakel_rules_signals_already_written_total",
                    "",
                    repeated.len() as u64,
                );
            }
            let when = rec
                .timestamp
                .and_then(|ms| Timestamp::from_millisecond(ms).ok())
                .unwrap_or(Timestamp::UNIX_EPOCH);
            let end = self.emit(p, fresh, when, shutdown).await?;
            if let Some(reason) = refused {
                self.dead_letter(&rec, logical, reason, when, shutdown)
                    .await?;
            }
            if let Some(f) = self.parts.get_mut(&p).and_then(Partition::folding) {
                f.signals_end = f.signals_end.max(end);
            }
        }
        if let Some(f) = self.parts.get_mut(&p).and_then(Partition::folding) {
            f.processed(t, rec.offset);
        }
        Ok(())
    }

    /// Writes signal steps to the partition of hub.signals.v1 with the input's number, each
    /// retried until the broker has it; returns where the signals partition ends after them.
    async fn emit(
        &self,
        p: i32,
        signals: Vec<SignalEvent>,
        when: Timestamp,
        shutdown: &Shutdown,
    ) -> anyhow::Result<i64> {
        let mut sends = JoinSet::new();
        for s in signals {
            self.health.metrics.inc(
                "schakel_rules_signals_total",
                &format!("rule=\"{}\",step=\"{}\"", s.rule, s.step),
            );
            let (producer, health, shutdown) =
                (self.producer.clone(), self.health.clone(), shutdown.clone());
            sends.spawn(async move {
                let ev = CloudEvent {
                    id: s.id.clone(),
                    source: "urn:nl:schakel:rules".into(),
                    kind: s.kind.clone(),
                    // the input's append time: a replay writes the same record
                    time: when,
                    trace: TraceParent::derived(&s.id),
                };
                let key = s.child_key.as_str().to_owned();
                send_until_written(&producer, &health, &shutdown, || Outgoing {
                    topic: "hub.signals.v1",
                    key: &key,
                    value: &s,
                    event: &ev,
                    partition: Some(p),
                })
                .await
            });
        }
        let mut end = 0;
        while let Some(r) = sends.join_next().await {
            let (partition, offset) = r.context("signal producer task")??;
            tracing::debug!(partition, offset, "signal written");
            end = end.max(offset + 1);
        }
        Ok(end)
    }

    async fn dead_letter(
        &self,
        rec: &Record,
        topic: &str,
        reason: String,
        when: Timestamp,
        shutdown: &Shutdown,
    ) -> anyhow::Result<()> {
        tracing::warn!(topic, partition = rec.partition, offset = rec.offset, reason = %reason, "record dead-lettered");
        self.health.metrics.inc(
            "schakel_rules_deadletters_total",
            &format!("topic=\"{topic}\""),
        );
        let id = format!("rules-{}-{}-{}", topic, rec.partition, rec.offset);
        let dl = DeadLetter {
            id: id.clone(),
            topic: topic.to_owned(),
            partition: rec.partition,
            offset: rec.offset,
            service: "rules".into(),
            reason,
            at: when,
            payload: base64::engine::general_purpose::STANDARD
                .encode(rec.value.as_deref().unwrap_or_default()),
        };
        let ev = CloudEvent {
            id: id.clone(),
            source: "urn:nl:schakel:rules".into(),
            kind: "nl.schakel.hub.dead-lettered.v1".into(),
            time: dl.at,
            trace: TraceParent::derived(&id),
        };
        send_until_written(&self.producer, self.health, shutdown, || Outgoing {
            topic: "hub.deadletter.v1",
            key: &id,
            value: &dl,
            event: &ev,
            partition: None,
        })
        .await?;
        Ok(())
    }

    /// Snapshots every live partition that changed since its last snapshot.
    async fn snapshot_changed(&mut self) {
        let ps: Vec<i32> = self.parts.keys().copied().collect();
        for p in ps {
            if let Some(mut part) = self.parts.remove(&p) {
                if part.is_live() {
                    self.snapshot_one(p, &mut part).await;
                }
                self.parts.insert(p, part);
            }
        }
    }

    /// Writes a snapshot of one partition if it changed. Only an accelerator: a failure is
    /// logged and the log stays the truth.
    async fn snapshot_one(&self, p: i32, part: &mut Partition) {
        if !self.own.rules.snapshots {
            return;
        }
        let Some(f) = part.folding() else {
            return;
        };
        if !f.changed {
            return;
        }
        let started = std::time::Instant::now();
        let image = f.engine.image();
        let offsets: Vec<(String, i64)> = INPUTS
            .iter()
            .zip(&f.done)
            .map(|(t, o)| ((*t).to_owned(), *o))
            .collect();
        let taking = Taking {
            group: &self.own.rules.group,
            partition: p,
            seq: f.seq,
            offsets,
            signals_end: f.signals_end,
            image: &image,
        };
        match snapshot::write(&self.producer, &self.own.policy, taking).await {
            Ok(bytes) => {
                f.seq += 1;
                f.changed = false;
                tracing::info!(
                    partition = p,
                    children = f.engine.children(),
                    bytes,
                    ms = started.elapsed().as_millis() as u64,
                    "snapshot written"
                );
            }
            Err(e) => tracing::warn!(partition = p, error = %e, "snapshot not written"),
        }
    }

    /// Commits what was processed (never below what was committed), and publishes the counts.
    fn commit(&mut self) {
        for (t, n) in self.counted.iter_mut().enumerate() {
            if *n > 0 {
                self.health.metrics.add(
                    "schakel_rules_records_total",
                    &format!("topic=\"{}\"", INPUTS[t]),
                    std::mem::take(n),
                );
            }
        }
        let mut offsets = Vec::new();
        for (p, part) in &mut self.parts {
            let Some(f) = part.folding() else {
                continue;
            };
            if !f.dirty {
                continue;
            }
            f.dirty = false;
            for (t, o) in self.topics.iter().zip(f.commit_offsets()) {
                offsets.push((t.clone(), *p, o));
            }
        }
        if let Err(e) = self.group.commit(&offsets) {
            tracing::warn!(error = %e, "committing offsets failed; the next commit covers it");
        }
    }
}

/// Produces one record, retrying while the broker is unreachable (readiness is false
/// meanwhile) until it is written or the service stops.
async fn send_until_written<'r, T: serde::Serialize + 'r>(
    producer: &Producer,
    health: &Health,
    shutdown: &Shutdown,
    record: impl Fn() -> Outgoing<'r, T>,
) -> anyhow::Result<(i32, i64)> {
    let mut backoff = Duration::from_millis(200);
    loop {
        match producer.send(record()).await {
            Ok(at) => return Ok(at),
            Err(e) if e.is_retryable() => {
                health.set_broker(false);
                tracing::warn!(error = %e, retry_in_ms = backoff.as_millis() as u64, "broker did not take the record; retrying");
                tokio::select! {
                    _ = shutdown.wait() => anyhow::bail!("stopped while the broker was unreachable; the uncommitted inputs are processed again on the next start"),
                    _ = tokio::time::sleep(backoff) => {}
                }
                backoff = (backoff * 2).min(Duration::from_secs(5));
            }
            Err(e) => return Err(e).context("producing a record"),
        }
    }
}

/// Loads a partition given to this instance: its newest snapshot (if any), its committed
/// offsets, and the signal steps written since the snapshot. Blocks.
fn load(
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
                        .find(|(n, _)| n == t)
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
    let topic = cfg.topic("hub.signals.v1");
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
                .map(|v| reg.decode::<SignalEvent>("hub.signals.v1", v))
            {
                ids.insert(s.id);
            }
        }
    }
    Ok((ids, end))
}
