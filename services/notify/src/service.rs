//! The notify service: `run` and its loop. Instances share the partitions of hub.signals.v1
//! through a consumer group (cooperative rebalancing); each follows the directory, the delivery
//! ledger and (on a log clock) the ticks in full (`restore.rs`). Every (signal step, contact,
//! channel) becomes a delivery (`plan.rs`, `delivery.rs`) whose steps are recorded in the
//! ledger; a signal's offset is committed only when every delivery of it is final
//! (`commits.rs`), so a crash, a restart or a partition that moves resumes whatever was in
//! flight, with the same delivery ids.
//!
//! A partition given to this instance waits until the ledger is followed up to where it ended
//! at that moment (the previous owner's last records), then its signals are planned, its
//! contacts' digests rebuilt and its operators' retries resumed. A partition taken away stops
//! its deliveries, commits its low watermark and is let go.
//!
//! This file holds the loop; its parts are in `service/`: `startup` (reading back, joining),
//! `partitions` (given, caught up, live, let go, committed), `dispatch` (planning signals into
//! delivery tasks, and what a finished task reports) and `following` (the directory, the
//! ledger and the ticks as they come).

mod dispatch;
mod following;
mod partitions;
mod startup;

use dispatch::Done;
use partitions::{LedgerEnds, Part, Phase};

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use rdkafka::consumer::StreamConsumer;
use schakel_core::log::group::{Group, GroupEvent};
use schakel_core::log::kafka::Record;
use schakel_core::runtime::ops;
use schakel_core::{Config, Shutdown};

use crate::config::Settings;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::clock::Hand;
use crate::deps::Deps;
use crate::digest_send;
use crate::ledger::Ledger;

/// Most deliveries in flight at once; past this, signals wait (and fetching pauses).
const MAX_IN_FLIGHT: usize = 10_000;
/// Signals read but not planned yet, past which fetching pauses.
const MAX_WAITING: usize = 2_000;

/// Runs notify until shutdown.
pub async fn run(cfg: Config, listener: TcpListener, shutdown: Shutdown) -> anyhow::Result<()> {
    let sd = shutdown.clone();
    ops::run_with_health(listener, shutdown, |health| async move {
        ops::watch_broker(&cfg, &health, &sd);
        let own = Settings::from_config(cfg)?;
        ops::watch_lag(
            &own,
            own.notify.group.clone(),
            vec![own.topic(schakel_core::domain::catalogue::Topic::SIGNALS)],
            health.metrics.clone(),
            &sd,
        );
        let Some(mut svc) = Service::start(own, health, &sd).await? else {
            return Ok(()); // stopped while waiting for the broker
        };
        let result = svc.run(&sd).await;
        svc.deps.producer.flush(Duration::from_secs(5));
        result
    })
    .await
}

struct Service {
    deps: Deps,
    ledger: Ledger,
    hand: Option<Arc<Hand>>,
    /// the service's shutdown: every partition's stop comes with it
    root: Shutdown,
    group: Group,
    follow: StreamConsumer,
    /// per ledger partition: the next offset followed
    ledger_next: HashMap<i32, i64>,
    parts: BTreeMap<i32, Part>,
    /// signals of live partitions waiting for room
    waiting: VecDeque<Record>,
    holding: bool,
    tasks: JoinSet<Done>,
    asks: JoinSet<LedgerEnds>,
    in_flight: Arc<Semaphore>,
    raised: HashSet<(String, String)>,
    epoch: u64,
    joined: bool,
    topics: Topics,
    last_follow_error: Option<std::time::Instant>,
    /// per followed (topic, partition): the next offset, read back or followed
    followed: HashMap<(String, i32), i64>,
}

struct Topics {
    signals: String,
    directory: String,
    deliveries: String,
    clock: String,
}

impl Service {
    async fn run(&mut self, shutdown: &Shutdown) -> anyhow::Result<()> {
        let mut digests = tokio::spawn(digest_send::run(self.deps.clone(), shutdown.clone()));
        let mut commit_every = tokio::time::interval(Duration::from_millis(500));
        let mut leaving = false;
        loop {
            let room = self.in_flight.available_permits() > 0 && !self.waiting.is_empty();
            tokio::select! {
                biased;
                _ = shutdown.wait(), if !leaving => {
                    tracing::info!("leaving the group: every partition's low watermark is committed first");
                    leaving = true;
                    self.group.leave();
                }
                Some(done) = self.tasks.join_next() => self.finished(done),
                ended = &mut digests, if !leaving => {
                    // it returns only on shutdown: anything else is a fault the service must
                    // not outlive (a restart rebuilds the digests from the ledger)
                    anyhow::bail!("the digest loop ended: {}", ended.map_or_else(|e| e.to_string(), |()| "without shutdown".into()));
                }
                ev = self.group.next() => match ev {
                    None | Some(GroupEvent::Left) => break,
                    Some(GroupEvent::Assigned(ps)) => self.assign(ps),
                    Some(GroupEvent::Revoked { partitions, reply }) => {
                        let _ = reply.send(self.let_go(&partitions, true));
                    }
                    Some(GroupEvent::Lost(ps)) => {
                        self.let_go(&ps, false);
                    }
                    Some(GroupEvent::Record(r)) => self.on_signal(r),
                },
                Some(asked) = self.asks.join_next() => {
                    let (p, epoch, ends) = asked.context("ledger end task")?;
                    self.asked(p, epoch, ends);
                }
                msg = self.follow.recv() => match msg {
                    Ok(m) => {
                        let rec = Record::from_message(&m);
                        drop(m);
                        self.on_followed(rec, shutdown).await;
                    }
                    Err(e) => self.follow_error(e),
                },
                _ = commit_every.tick() => self.commit(),
                _ = std::future::ready(()), if room => self.plan_next(shutdown).await,
            }
        }
        Ok(())
    }

    fn update_ready(&self) {
        let live = self.parts.values().all(|p| matches!(p.phase, Phase::Live));
        self.deps.health.set_ready(self.joined && live);
    }

    fn hold(&mut self) {
        let full = self.waiting.len() >= MAX_WAITING;
        let roomy = self.waiting.len() <= MAX_WAITING / 2;
        if full && !self.holding {
            self.holding = true;
            self.group.hold(true);
        } else if roomy && self.holding {
            self.holding = false;
            self.group.hold(false);
        }
    }

    fn on_signal(&mut self, rec: Record) {
        let Some(part) = self.parts.get_mut(&rec.partition) else {
            return; // not ours (any more): its owner reads it from the committed offset
        };
        match part.phase {
            Phase::Live => self.waiting.push_back(rec),
            _ => part.held.push_back(rec),
        }
        self.hold();
    }
}
