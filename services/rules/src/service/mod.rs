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
//!
//! This module holds the service and its loop; each arm of the loop is a module of its own:
//! the group's rebalances (`rebalance`, with `load` for a partition given), records released in
//! merged order (`release`) and folded (`process`), what is written to the log (`produce`),
//! periodic snapshots (`snapshots`) and offset commits (`commit`).

mod commit;
mod load;
mod process;
mod produce;
mod rebalance;
mod release;
mod snapshots;

use schakel_core::domain::catalogue::Topic;
use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::Context;
use rdkafka::consumer::{BaseConsumer, StreamConsumer};
use schakel_core::log::group::{Group, GroupEvent, Membership};
use schakel_core::log::kafka::{self, Producer, Record};
use schakel_core::runtime::ops::{self, Health};
use schakel_core::{Config, Shutdown};
use tokio::net::TcpListener;
use tokio::task::JoinSet;

use crate::config::Settings;
use crate::partition::Partition;
use load::LoadResult;
use release::Ends;

/// The topics rules folds, all child-scoped and co-partitioned, in merge order for records
/// appended in the same millisecond (facts before the tick).
pub const INPUTS: &[Topic] = &[
    Topic::SCHOOL,
    Topic::VOORSCHOOL,
    Topic::LEERPLICHT,
    Topic::JEUGDHULP,
    Topic::RESPONSES,
    Topic::CLOCK,
];

/// The topic whose partitions the group divides (one per partition number).
const ANCHOR: Topic = Topic::CLOCK;

/// Runs the rules service until shutdown.
pub async fn run(cfg: Config, listener: TcpListener, shutdown: Shutdown) -> anyhow::Result<()> {
    let sd = shutdown.clone();
    ops::run_with_health(listener, shutdown, |health| async move {
        ops::watch_broker(&cfg, &health, &sd);
        let own = Settings::from_config(&cfg)?;
        ops::watch_lag(
            &cfg,
            own.rules.group.clone(),
            INPUTS.iter().map(|t| cfg.topic(*t)).collect(),
            health.metrics.clone(),
            &sd,
        );
        let mut svc = Service::start(&cfg, &own, &health)?;
        let result = svc.run(&sd).await;
        svc.producer.flush(Duration::from_secs(5));
        result
    })
    .await
}

struct Service<'a> {
    cfg: &'a Config,
    own: &'a Settings,
    health: &'a Health,
    /// full names of INPUTS, by index
    topics: Vec<String>,
    group: Group,
    data: StreamConsumer,
    /// a client of its own that asks the inputs' leaders for their ends (off the service's
    /// thread): on the reading consumer's connections a request waits behind a fetch
    asker: std::sync::Arc<BaseConsumer>,
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
    /// the ask under way (at most one)
    asks: JoinSet<release::Answer>,
    /// `rules.order_grace`, or what the inputs' replication calls for
    grace: Duration,
}

impl<'a> Service<'a> {
    fn start(cfg: &'a Config, own: &'a Settings, health: &'a Health) -> anyhow::Result<Self> {
        let topics: Vec<String> = INPUTS.iter().map(|t| cfg.topic(*t)).collect();
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
        let asker: BaseConsumer =
            kafka::assigned_consumer_config(cfg, &format!("{}.inputs", own.rules.group))
                .create()
                .context("creating the client that asks the inputs' ends")?;
        let grace = release::order_grace(own.rules.order_grace, &asker, &topics);
        tracing::info!(
            order_grace_ms = grace.as_millis() as u64,
            "records wait this long before the inputs' leaders are asked where they end"
        );
        Ok(Self {
            cfg,
            own,
            health,
            topics,
            group,
            data,
            asker: std::sync::Arc::new(asker),
            grace,
            producer: Producer::new(cfg)?,
            parts: BTreeMap::new(),
            loads: JoinSet::new(),
            epoch: 0,
            joined: false,
            last_consume_error: None,
            counted: vec![0; INPUTS.len()],
            ends: Ends::default(),
            asks: JoinSet::new(),
        })
    }

    async fn run(&mut self, shutdown: &Shutdown) -> anyhow::Result<()> {
        let mut commit_every = tokio::time::interval(Duration::from_millis(500));
        let mut snapshot_every = tokio::time::interval(self.own.rules.snapshot_every);
        snapshot_every.tick().await;
        // records wait in the merger until the leaders of the other inputs were asked after
        // the order grace; look at them again this often
        let mut wake = tokio::time::interval(Duration::from_millis(10));
        wake.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
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
                _ = wake.tick() => {
                    self.release_all(shutdown).await?;
                    self.ask_due();
                }
                Some(answer) = self.asks.join_next() => {
                    self.answered(answer.context("asking the inputs' ends")?, shutdown).await?;
                }
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

    pub(super) fn update_ready(&self) {
        let live = self.parts.values().all(Partition::is_live);
        self.health.set_ready(self.joined && live);
    }

    pub(super) fn tps(&self, p: i32) -> Vec<(String, i32)> {
        self.topics.iter().map(|t| (t.clone(), p)).collect()
    }
}
