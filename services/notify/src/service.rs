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

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use crate::config::NotifyClock;
use anyhow::Context;
use rdkafka::consumer::StreamConsumer;
use schakel_core::domain::events::SignalEvent;
use schakel_core::domain::roles::is_config_rule;
use schakel_core::log::group::{Group, GroupEvent, Membership, Offsets};
use schakel_core::log::kafka::{self, Producer, Record};
use schakel_core::runtime::ops::{self, Health};
use schakel_core::{Config, Shutdown};

use crate::config::Settings;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::clock::{Clock, Hand};
use crate::commits::Open;
use crate::config_signals::{self, Unroutable};
use crate::delivery::deliver;
use crate::deps::{Deps, Ownership};
use crate::endpoints::{self, Endpoints};
use crate::ledger::{DeliveryState, Ledger};
use crate::plan::{plan, Only};
use crate::restore::{self, Restored};
use crate::{digest_send, email, redrive};

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
        let Some(mut svc) = Service::start(own, health, &sd).await? else {
            return Ok(()); // stopped while waiting for the broker
        };
        let result = svc.run(&sd).await;
        svc.deps.producer.flush(Duration::from_secs(5));
        result
    })
    .await
}

/// Where a partition given to this instance stands.
enum Phase {
    /// asking where the ledger ends now
    Asking,
    /// following the ledger up to these ends (partition → next offset) before planning
    CatchingUp(HashMap<i32, i64>),
    Live,
}

struct Part {
    phase: Phase,
    epoch: u64,
    open: Open,
    /// stops this partition's deliveries when it goes (and on shutdown)
    stop: Shutdown,
    /// signals read while catching up
    held: VecDeque<Record>,
}

/// What a finished task reports.
struct Done {
    partition: i32,
    epoch: u64,
    /// the signal offset whose delivery ended (None: not tracked for commits)
    offset: Option<i64>,
    finished: bool,
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
}

/// Where the ledger ended when a partition (of this epoch) was given.
type LedgerEnds = (i32, u64, Result<HashMap<i32, i64>, String>);

struct Topics {
    signals: String,
    directory: String,
    deliveries: String,
    clock: String,
}

impl Service {
    /// Reads the followed topics back (waiting out a broker that is away), then joins the
    /// group. None when shutdown came first.
    async fn start(cfg: Settings, health: Health, sd: &Shutdown) -> anyhow::Result<Option<Self>> {
        let (clock, hand) = match cfg.notify.clock {
            NotifyClock::System => (Clock::system(), None),
            NotifyClock::Log => {
                let (c, h) = Clock::log();
                (c, Some(Arc::new(h)))
            }
        };
        let signals = cfg.topic("hub.signals.v1");
        let mut backoff = Duration::from_millis(500);
        let (restored, partitions) = loop {
            let (cfg2, hand2, topic) = (cfg.clone(), hand.clone(), signals.clone());
            let got = tokio::task::spawn_blocking(move || {
                let r = restore::read_back(&cfg2, hand2.as_deref())?;
                let consumer: rdkafka::consumer::BaseConsumer =
                    kafka::client_config(&cfg2).create()?;
                let n = kafka::partitions(&consumer, &topic)?.len() as i32;
                anyhow::Ok((r, n))
            })
            .await?;
            match got {
                Ok(x) => break x,
                Err(e) => {
                    tracing::warn!(error = %e, retry_in_ms = backoff.as_millis() as u64, "cannot read the directory and ledger back yet; retrying");
                    tokio::select! {
                        _ = sd.wait() => return Ok(None),
                        _ = tokio::time::sleep(backoff) => {}
                    }
                    backoff = (backoff * 2).min(Duration::from_secs(5));
                }
            }
        };
        let Restored {
            directory,
            ledger,
            endpoints,
            ends,
        } = restored;
        tracing::info!(
            contacts = directory.contacts(),
            deliveries = ledger.len(),
            "directory and ledger read back"
        );
        if hand.is_some() {
            tracing::info!(now = %clock.now(), "log clock read back");
        }
        let deliveries = cfg.topic("hub.deliveries.v1");
        let ledger_next = ends
            .iter()
            .filter(|((t, _), _)| *t == deliveries)
            .map(|((_, p), o)| (*p, *o))
            .collect();
        let follow = restore::follower(&cfg, &ends)?;
        let deps = Deps {
            clock,
            directory: Arc::new(std::sync::RwLock::new(directory)),
            removed: Arc::default(),
            endpoints: Endpoints::new(
                endpoints,
                cfg.notify.per_endpoint_concurrency,
                cfg.notify.disable_after,
            ),
            digests: Default::default(),
            owner: Ownership::new(partitions),
            tz: jiff::tz::TimeZone::get(&cfg.clock.timezone)
                .with_context(|| format!("clock.timezone {:?}", cfg.clock.timezone))?,
            producer: Producer::new(&cfg)?,
            client: reqwest::Client::builder().build()?,
            mailer: cfg
                .notify
                .email
                .as_ref()
                .map(email::Mailer::new)
                .transpose()?
                .map(Arc::new),
            schedule: Arc::new(cfg.notify.retry_schedule.clone()),
            timeout: cfg.notify.webhook_timeout,
            health,
            cfg: Arc::new(cfg.clone()),
        };
        let group = Group::join(
            &cfg,
            Membership {
                group: &cfg.notify.group,
                topics: std::slice::from_ref(&signals),
                forward: true,
                buffer: 512,
            },
        )?;
        let topics = Topics {
            signals,
            directory: cfg.topic("hub.directory.v1"),
            deliveries,
            clock: cfg.topic("hub.clock.v1"),
        };
        Ok(Some(Self {
            deps,
            ledger,
            hand,
            root: sd.clone(),
            group,
            follow,
            ledger_next,
            parts: BTreeMap::new(),
            waiting: VecDeque::new(),
            holding: false,
            tasks: JoinSet::new(),
            asks: JoinSet::new(),
            in_flight: Arc::new(Semaphore::new(MAX_IN_FLIGHT)),
            raised: HashSet::new(),
            epoch: 0,
            joined: false,
            topics,
            last_follow_error: None,
        }))
    }

    async fn run(&mut self, shutdown: &Shutdown) -> anyhow::Result<()> {
        tokio::spawn(digest_send::run(self.deps.clone(), shutdown.clone()));
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

    fn follow_error(&mut self, e: rdkafka::error::KafkaError) {
        if self
            .last_follow_error
            .is_none_or(|t| t.elapsed() > Duration::from_secs(10))
        {
            tracing::warn!(error = %e, "following the directory and ledger failed; librdkafka retries by itself");
            self.last_follow_error = Some(std::time::Instant::now());
        }
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

    /// Partitions given: ask where the ledger ends now; they go live once it is followed to
    /// there.
    fn assign(&mut self, ps: Vec<i32>) {
        self.joined = true;
        for p in ps {
            self.epoch += 1;
            let epoch = self.epoch;
            self.parts.insert(
                p,
                Part {
                    phase: Phase::Asking,
                    epoch,
                    open: Open::default(),
                    stop: self.root.child(),
                    held: VecDeque::new(),
                },
            );
            let (cfg, topic) = ((*self.deps.cfg).clone(), self.topics.deliveries.clone());
            self.asks.spawn(async move {
                let ends =
                    tokio::task::spawn_blocking(move || kafka::high_watermarks(&cfg, &topic))
                        .await
                        .map_err(|e| e.to_string())
                        .and_then(|r| r.map_err(|e| e.to_string()));
                (p, epoch, ends)
            });
        }
        self.update_ready();
    }

    fn asked(&mut self, p: i32, epoch: u64, ends: Result<HashMap<i32, i64>, String>) {
        let Some(part) = self.parts.get_mut(&p).filter(|x| x.epoch == epoch) else {
            return; // taken away meanwhile
        };
        match ends {
            Ok(ends) => {
                part.phase = Phase::CatchingUp(ends);
                self.try_go_live(p);
            }
            Err(e) => {
                tracing::warn!(partition = p, error = %e, "cannot tell where the ledger ends; asking again");
                self.parts.remove(&p);
                self.assign(vec![p]);
            }
        }
    }

    /// A partition whose ledger was followed far enough goes live: its contacts' digests are
    /// rebuilt, its operators' retries resumed, and the signals held for it planned.
    fn try_go_live(&mut self, p: i32) {
        let Some(part) = self.parts.get_mut(&p) else {
            return;
        };
        let Phase::CatchingUp(ends) = &part.phase else {
            return;
        };
        let behind = ends
            .iter()
            .any(|(lp, end)| self.ledger_next.get(lp).copied().unwrap_or(0) < *end);
        if behind {
            return;
        }
        part.phase = Phase::Live;
        // a partition's stop also comes with the service's; the tasks get it
        self.deps.owner.set(p, true);
        let held: Vec<Record> = part.held.drain(..).collect();
        let (stop, epoch) = (part.stop.clone(), part.epoch);
        tracing::info!(partition = p, held = held.len(), "partition live");
        self.waiting.extend(held);
        digest_send::rehydrate(&self.deps, &self.ledger, p);
        let retries: Vec<_> = self
            .ledger
            .open_retries()
            .into_iter()
            .filter(|e| e.signal_partition == Some(p))
            .cloned()
            .collect();
        for ev in retries {
            self.spawn_redrive(p, epoch, ev, stop.clone());
        }
        self.hold();
        self.update_ready();
    }

    /// Partitions taken away (`commit`: answer their low watermarks) or lost: their deliveries
    /// stop (they resume at the next owner, with the same ids), their digests go.
    fn let_go(&mut self, ps: &[i32], commit: bool) -> Offsets {
        let mut out = Vec::new();
        for p in ps {
            let Some(part) = self.parts.remove(p) else {
                continue;
            };
            part.stop.trigger();
            self.deps.owner.set(*p, false);
            if commit {
                if let Some(lw) = part.open.low_watermark() {
                    out.push((self.topics.signals.clone(), *p, lw));
                }
            }
            tracing::info!(
                partition = p,
                in_flight = part.open.in_flight(),
                committed = commit,
                "partition let go; its open deliveries resume at the next owner"
            );
        }
        let owner = self.deps.owner.clone();
        self.deps.digests.forget(|c| !owner.owns_contact(c));
        self.waiting.retain(|r| !ps.contains(&r.partition));
        self.hold();
        self.update_ready();
        out
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

    /// Plans the next waiting signal and starts its deliveries.
    async fn plan_next(&mut self, shutdown: &Shutdown) {
        let Some(rec) = self.waiting.pop_front() else {
            return;
        };
        self.hold();
        let p = rec.partition;
        let Some(part) = self
            .parts
            .get(&p)
            .filter(|x| matches!(x.phase, Phase::Live))
        else {
            return;
        };
        let (stop, epoch) = (part.stop.clone(), part.epoch);
        let signal: Option<SignalEvent> = rec.value.as_deref().and_then(|v| {
            match self.deps.producer.registry().decode("hub.signals.v1", v) {
                Ok(s) => Some(s),
                Err(e) => {
                    tracing::warn!(offset = rec.offset, error = %e, "unreadable signal skipped");
                    None
                }
            }
        });
        let Some(signal) = signal else {
            if let Some(part) = self.parts.get_mut(&p) {
                part.open.planned(rec.offset, 0);
            }
            return;
        };
        let position = (p, rec.offset);
        let planned = {
            let directory = self.deps.directory.read().expect("directory lock");
            plan(
                &self.deps.cfg,
                &directory,
                &self.ledger,
                &signal,
                position,
                Only::All,
                self.deps.clock.now(),
            )
        };
        for role in &planned.missing {
            tracing::warn!(signal_id = %signal.signal_id, rule = %signal.rule, role = %role, "no contact holds this role for the signal");
            self.deps.health.metrics.inc(
                "schakel_notify_unroutable_total",
                &format!("rule=\"{}\",role=\"{role}\"", signal.rule),
            );
        }
        for contact in &planned.email_unconfigured {
            tracing::warn!(contact = %contact, "contact wants e-mail but notify.email is not configured");
            self.deps
                .health
                .metrics
                .inc("schakel_notify_email_unconfigured_total", "");
        }
        if !planned.missing.is_empty() && !is_config_rule(&signal.rule) {
            let u = Unroutable {
                signal: &signal,
                position,
                missing: &planned.missing,
            };
            config_signals::raise_unroutable(
                &self.deps,
                &mut self.ledger,
                u,
                &mut self.raised,
                shutdown,
            )
            .await;
        }
        tracing::debug!(
            partition = p,
            offset = rec.offset,
            deliveries = planned.jobs.len(),
            "signal read"
        );
        if let Some(part) = self.parts.get_mut(&p) {
            part.open.planned(rec.offset, planned.jobs.len());
        }
        for job in planned.jobs {
            let Ok(permit) = self.in_flight.clone().acquire_owned().await else {
                return;
            };
            let (deps, stop) = (self.deps.clone(), stop.clone());
            let offset = rec.offset;
            self.tasks.spawn(async move {
                let finished = deliver(&deps, job, &stop).await;
                drop(permit);
                Done {
                    partition: p,
                    epoch,
                    offset: Some(offset),
                    finished,
                }
            });
        }
    }

    fn spawn_redrive(
        &mut self,
        p: i32,
        epoch: u64,
        ev: schakel_core::domain::events::DeliveryEvent,
        stop: Shutdown,
    ) {
        let Ok(permit) = self.in_flight.clone().try_acquire_owned() else {
            tracing::warn!(delivery_id = %ev.id, "too many deliveries in flight; the retry resumes after a restart");
            return;
        };
        let deps = self.deps.clone();
        // the plan reads the ledger as it is now, for this signal step
        let ledger_view = self
            .ledger
            .subset(|e| e.signal_event_id == ev.signal_event_id);
        self.tasks.spawn(async move {
            let finished = match redrive::prepare(&deps, &ledger_view, &ev).await {
                Some(r) => redrive::run(&deps, r, &stop).await,
                None => true,
            };
            drop(permit);
            Done {
                partition: p,
                epoch,
                offset: None,
                finished,
            }
        });
    }

    fn finished(&mut self, done: Result<Done, tokio::task::JoinError>) {
        let done = match done {
            Ok(d) => d,
            Err(e) => {
                // its signal stays uncommitted, so a restart resumes the delivery
                tracing::error!(error = %e, "a delivery task died; its delivery resumes after a restart");
                self.deps
                    .health
                    .metrics
                    .inc("schakel_notify_task_failures_total", "");
                return;
            }
        };
        let Some(part) = self
            .parts
            .get_mut(&done.partition)
            .filter(|x| x.epoch == done.epoch)
        else {
            return; // the partition went meanwhile
        };
        if let (true, Some(o)) = (done.finished, done.offset) {
            part.open.finished(o);
        }
    }

    async fn on_followed(&mut self, rec: Record, shutdown: &Shutdown) {
        let reg = self.deps.producer.registry().clone();
        if rec.topic == self.topics.directory {
            {
                let mut dir = self.deps.directory.write().expect("directory lock");
                restore::apply_directory(&reg, &mut dir, &rec);
            }
            if let Some(c) = rec.key.as_deref().and_then(|k| k.strip_prefix("contact:")) {
                if rec.value.is_some() {
                    self.deps.removed.lock().expect("removed lock").remove(c);
                    let (deps, c, sd) = (self.deps.clone(), c.to_owned(), shutdown.clone());
                    tokio::spawn(async move { endpoints::enable(&deps, &c, &sd).await });
                } else {
                    self.deps
                        .removed
                        .lock()
                        .expect("removed lock")
                        .insert(c.to_owned());
                }
            }
        } else if rec.topic == self.topics.deliveries {
            self.ledger_next.insert(rec.partition, rec.offset + 1);
            if let Some(ev) = restore::decode_ledger(&reg, &rec) {
                self.ledger.apply(&ev);
                self.deps.endpoints.apply(&ev);
                digest_send::from_ledger(&self.deps, &ev);
                let retried = ev.status == "retry-requested"
                    && matches!(
                        self.ledger.get(&ev.id),
                        Some(DeliveryState::RetryRequested { .. })
                    );
                if let (true, Some(p)) = (retried, ev.signal_partition) {
                    if let Some(part) = self
                        .parts
                        .get(&p)
                        .filter(|x| matches!(x.phase, Phase::Live))
                    {
                        let (epoch, stop) = (part.epoch, part.stop.clone());
                        self.spawn_redrive(p, epoch, ev, stop);
                    }
                }
            }
            let catching: Vec<i32> = self
                .parts
                .iter()
                .filter(|(_, x)| matches!(x.phase, Phase::CatchingUp(_)))
                .map(|(p, _)| *p)
                .collect();
            for p in catching {
                self.try_go_live(p);
            }
        } else if rec.topic == self.topics.clock {
            if let Some(h) = &self.hand {
                restore::apply_tick(&reg, h, &rec);
            }
        }
    }

    /// Commits each live partition's low watermark that changed.
    fn commit(&mut self) {
        let mut offsets = Vec::new();
        for (p, part) in &mut self.parts {
            if !matches!(part.phase, Phase::Live) {
                continue;
            }
            if let Some(lw) = part.open.take_commit() {
                offsets.push((self.topics.signals.clone(), *p, lw));
            }
        }
        if let Err(e) = self.group.commit(&offsets) {
            tracing::warn!(error = %e, "committing signal offsets failed; the next commit covers it");
        }
    }
}
