//! The rules service: consumes the co-partitioned input topics, folds them per partition and
//! produces signals. On start it restores by replaying up to the committed offsets without
//! emitting; it commits an offset only after the signals of that record were acknowledged.

use std::collections::HashMap;
use std::time::Duration;

use anyhow::Context;
use base64::Engine as _;
use jiff::Timestamp;
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::{Offset, TopicPartitionList};
use schakel_core::events::{ClockTick, DeadLetter, SignalEvent};
use schakel_core::kafka::{self, CloudEvent, Outgoing, Producer, Record};
use schakel_core::ops::{self, Health};
use schakel_core::trace::TraceParent;
use schakel_core::{Config, Shutdown};
use tokio::net::TcpListener;

use crate::snapshot::Snapshot;
use crate::{Engine, Input};

/// The topics rules folds, all child-scoped and co-partitioned.
pub const INPUTS: &[&str] = &[
    "source.school.v1",
    "source.voorschool.v1",
    "source.leerplicht.v1",
    "source.jeugdhulp.v1",
    "hub.responses.v1",
    "hub.clock.v1",
];

type Tp = (String, i32);

/// Runs the rules service until shutdown.
pub async fn run(cfg: Config, listener: TcpListener, shutdown: Shutdown) -> anyhow::Result<()> {
    let sd = shutdown.clone();
    ops::run_with_health(listener, shutdown, |health| async move {
        consume(&cfg, &health, &sd).await
    })
    .await
}

struct Loop<'a> {
    cfg: &'a Config,
    producer: Producer,
    engines: HashMap<i32, Engine>,
    /// offsets below these were processed before the last stop: fold without emitting
    committed: HashMap<Tp, i64>,
    /// next offset to commit per partition, once its effects are durable
    done: HashMap<Tp, i64>,
    dirty: bool,
    restoring: HashMap<Tp, i64>,
    health: &'a Health,
    /// partitions changed since their last snapshot
    changed: std::collections::HashSet<i32>,
}

async fn consume(cfg: &Config, health: &Health, shutdown: &Shutdown) -> anyhow::Result<()> {
    let consumer = kafka::stream_consumer(cfg, &cfg.rules.group)?;
    let topics: Vec<String> = INPUTS.iter().map(|t| cfg.topic(t)).collect();
    let parts = kafka::partitions(&consumer, &topics[topics.len() - 1])?;
    let mut tps = Vec::new();
    for t in &topics {
        let p = kafka::partitions(&consumer, t)?;
        anyhow::ensure!(
            p == parts,
            "topic {t} has {} partitions but hub.clock has {}: child-scoped topics must be co-partitioned",
            p.len(),
            parts.len()
        );
        tps.extend(p.into_iter().map(|p| (t.clone(), p)));
    }
    let committed = kafka::committed(&consumer, &tps)?;
    let snapshots = load_snapshots(cfg, &parts, &topics);
    let mut engines = HashMap::new();
    let mut start: HashMap<Tp, i64> = HashMap::new();
    for p in &parts {
        match snapshots.get(p) {
            Some((engine, offsets)) => {
                engines.insert(*p, engine.clone());
                for (t, o) in offsets {
                    start.insert((t.clone(), *p), *o);
                }
            }
            None => {
                engines.insert(*p, Engine::new(cfg.policy.clone()));
            }
        }
    }
    let mut restoring = HashMap::new();
    let mut tpl = TopicPartitionList::new();
    for (t, p) in &tps {
        let (low, _) = consumer.fetch_watermarks(t, *p, Duration::from_secs(10))?;
        let from = start.get(&(t.clone(), *p)).copied().unwrap_or(low).max(low);
        if let Some(c) = committed.get(&(t.clone(), *p)) {
            if *c > from {
                restoring.insert((t.clone(), *p), *c);
            }
        }
        tpl.add_partition_offset(t, *p, Offset::Offset(from))?;
        // never commit below what was committed before
        let floor = committed.get(&(t.clone(), *p)).copied().unwrap_or(from);
        start.insert((t.clone(), *p), from.max(floor));
    }
    consumer.assign(&tpl)?;
    tracing::info!(
        partitions = parts.len(),
        from_snapshot = snapshots.len(),
        restoring = restoring.len(),
        "assigned; restoring state"
    );
    let mut lp = Loop {
        cfg,
        producer: Producer::new(cfg)?,
        engines,
        committed,
        done: start,
        dirty: false,
        restoring,
        health,
        changed: std::collections::HashSet::new(),
    };
    lp.check_ready();
    let mut commit_every = tokio::time::interval(Duration::from_millis(500));
    let mut snapshot_every = tokio::time::interval(cfg.rules.snapshot_every);
    snapshot_every.tick().await;
    loop {
        tokio::select! {
            biased;
            _ = shutdown.wait() => break,
            _ = commit_every.tick() => lp.commit(&consumer)?,
            _ = snapshot_every.tick() => lp.snapshot(),
            msg = consumer.recv() => {
                let m = msg.context("consuming inputs")?;
                let rec = Record::from_message(&m);
                drop(m);
                lp.process(rec).await?;
            }
        }
    }
    lp.commit(&consumer)?;
    lp.snapshot();
    lp.producer.flush(Duration::from_secs(5));
    Ok(())
}

/// The snapshot of every partition that has a usable one: its engine and input offsets.
fn load_snapshots(
    cfg: &Config,
    parts: &[i32],
    topics: &[String],
) -> HashMap<i32, (Engine, Vec<(String, i64)>)> {
    let mut out = HashMap::new();
    if cfg.rules.snapshot_dir.is_empty() {
        return out;
    }
    let dir = std::path::Path::new(&cfg.rules.snapshot_dir);
    for p in parts {
        match Snapshot::read(dir, &cfg.rules.group, *p, &cfg.policy) {
            Ok(Some(s)) => {
                let offsets: Vec<(String, i64)> = s
                    .offsets
                    .iter()
                    .map(|(t, o)| (cfg.topic(t), *o))
                    .filter(|(t, _)| topics.contains(t))
                    .collect();
                let children = s.image.children.len();
                tracing::info!(
                    partition = p,
                    children,
                    "restoring from snapshot plus the tail of the log"
                );
                out.insert(
                    *p,
                    (Engine::from_image(cfg.policy.clone(), s.image), offsets),
                );
            }
            Ok(None) => {}
            Err(e) => {
                tracing::warn!(partition = p, reason = %e, "snapshot not used; replaying the log")
            }
        }
    }
    out
}

impl Loop<'_> {
    fn logical<'t>(&self, topic: &'t str) -> &'t str {
        topic
            .strip_prefix(&self.cfg.kafka.topic_prefix)
            .unwrap_or(topic)
    }

    fn decode(&self, rec: &Record) -> Result<Input, String> {
        let reg = self.producer.registry();
        let topic = self.logical(&rec.topic);
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

    async fn process(&mut self, rec: Record) -> anyhow::Result<()> {
        let tp = (rec.topic.clone(), rec.partition);
        let silent = self.committed.get(&tp).is_some_and(|c| rec.offset < *c);
        let logical = self.logical(&rec.topic).to_owned();
        tracing::debug!(topic = %logical, partition = rec.partition, offset = rec.offset, silent, "input read");
        self.health.metrics.inc(
            "schakel_rules_records_total",
            &format!("topic=\"{logical}\""),
        );
        match self.decode(&rec) {
            Ok(input) => {
                let engine = self
                    .engines
                    .get_mut(&rec.partition)
                    .context("record from an unassigned partition")?;
                match engine.apply(&input) {
                    Ok(signals) if !silent => self.emit(signals).await?,
                    Ok(_) => {}
                    Err(refusal) if !silent => {
                        let reason = format!("refused: {}", refusal.0);
                        self.dead_letter(&rec, &logical, reason).await?
                    }
                    Err(_) => {}
                }
            }
            Err(reason) if !silent => self.dead_letter(&rec, &logical, reason).await?,
            Err(_) => {}
        }
        self.done.insert(tp.clone(), rec.offset + 1);
        self.dirty = true;
        self.changed.insert(rec.partition);
        if let Some(target) = self.restoring.get(&tp) {
            if rec.offset + 1 >= *target {
                self.restoring.remove(&tp);
                self.check_ready();
            }
        }
        Ok(())
    }

    fn check_ready(&self) {
        if self.restoring.is_empty() && !self.health.is_ready() {
            let children: usize = self.engines.values().map(Engine::children).sum();
            tracing::info!(children, "state restored; live");
            self.health.set_ready(true);
        }
    }

    async fn emit(&self, signals: Vec<SignalEvent>) -> anyhow::Result<()> {
        let mut sends = tokio::task::JoinSet::new();
        for s in signals {
            let producer = self.producer.clone();
            self.health.metrics.inc(
                "schakel_rules_signals_total",
                &format!("rule=\"{}\",step=\"{}\"", s.rule, s.step),
            );
            sends.spawn(async move {
                let ev = CloudEvent {
                    id: s.id.clone(),
                    source: "urn:nl:schakel:rules".into(),
                    kind: s.kind.clone(),
                    time: Timestamp::now(),
                    trace: TraceParent::new_root(),
                };
                let key = s.child_key.as_str().to_owned();
                producer
                    .send(Outgoing {
                        topic: "hub.signals.v1",
                        key: &key,
                        value: &s,
                        event: &ev,
                        partition: None,
                    })
                    .await
            });
        }
        while let Some(r) = sends.join_next().await {
            let (partition, offset) = r
                .context("signal producer task")?
                .context("producing a signal")?;
            tracing::debug!(partition, offset, "signal written");
        }
        Ok(())
    }

    async fn dead_letter(&self, rec: &Record, topic: &str, reason: String) -> anyhow::Result<()> {
        tracing::warn!(topic, partition = rec.partition, offset = rec.offset, reason = %reason, "undecodable record dead-lettered");
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
            at: Timestamp::now(),
            payload: base64::engine::general_purpose::STANDARD
                .encode(rec.value.as_deref().unwrap_or_default()),
        };
        let ev = CloudEvent {
            id: id.clone(),
            source: "urn:nl:schakel:rules".into(),
            kind: "nl.schakel.hub.dead-lettered.v1".into(),
            time: dl.at,
            trace: TraceParent::new_root(),
        };
        self.producer
            .send(Outgoing {
                topic: "hub.deadletter.v1",
                key: &id,
                value: &dl,
                event: &ev,
                partition: None,
            })
            .await?;
        Ok(())
    }

    /// Writes a snapshot of every partition that changed since its last one. Only an
    /// accelerator: a failure is logged and the log stays the truth.
    fn snapshot(&mut self) {
        if self.cfg.rules.snapshot_dir.is_empty() || !self.restoring.is_empty() {
            return;
        }
        let dir = std::path::Path::new(&self.cfg.rules.snapshot_dir);
        for p in std::mem::take(&mut self.changed) {
            let Some(engine) = self.engines.get(&p) else {
                continue;
            };
            let offsets: Vec<(String, i64)> = self
                .done
                .iter()
                .filter(|((_, part), _)| *part == p)
                .map(|((t, _), o)| (self.logical(t).to_owned(), *o))
                .collect();
            let started = std::time::Instant::now();
            let snap = Snapshot::new(&self.cfg.policy, p, offsets, engine.image());
            match snap.write(dir, &self.cfg.rules.group) {
                Ok(bytes) => tracing::info!(
                    partition = p,
                    children = engine.children(),
                    bytes,
                    ms = started.elapsed().as_millis() as u64,
                    "snapshot written"
                ),
                Err(e) => {
                    tracing::warn!(partition = p, error = %e, "snapshot not written");
                    self.changed.insert(p);
                }
            }
        }
    }

    fn commit(&mut self, consumer: &StreamConsumer) -> anyhow::Result<()> {
        if !self.dirty {
            return Ok(());
        }
        kafka::commit(consumer, &self.done).context("committing offsets")?;
        self.dirty = false;
        Ok(())
    }
}
