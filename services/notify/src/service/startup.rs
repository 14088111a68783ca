//! Starting notify: the directory, the ledger and (on a log clock) the clock read back,
//! waiting out a broker that is away; then the group joined.

use schakel_core::domain::catalogue::Topic;
use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use schakel_core::log::group::{Group, Membership};
use schakel_core::log::kafka::{self, Producer};
use schakel_core::runtime::ops::Health;
use schakel_core::Shutdown;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use super::{Service, Topics, MAX_IN_FLIGHT};
use crate::clock::Clock;
use crate::config::{NotifyClock, Settings};
use crate::deps::{Deps, Ownership};
use crate::email;
use crate::endpoints::Endpoints;
use crate::restore::{self, Restored};

impl Service {
    /// Reads the followed topics back (waiting out a broker that is away), then joins the
    /// group. None when shutdown came first.
    pub(super) async fn start(
        cfg: Settings,
        health: Health,
        sd: &Shutdown,
    ) -> anyhow::Result<Option<Self>> {
        let (clock, hand) = match cfg.notify.clock {
            NotifyClock::System => (Clock::system(), None),
            NotifyClock::Log => {
                let (c, h) = Clock::log();
                (c, Some(Arc::new(h)))
            }
        };
        let signals = cfg.topic(Topic::SIGNALS);
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
        let deliveries = cfg.topic(Topic::DELIVERIES);
        let ledger_next = ends
            .iter()
            .filter(|((t, _), _)| *t == deliveries)
            .map(|((_, p), o)| (*p, *o))
            .collect();
        let follow = restore::follower(&cfg, &ends)?;
        let followed = ends.clone();
        let deps = Deps {
            clock,
            directory: Arc::new(std::sync::RwLock::new(directory)),
            removed: Arc::default(),
            endpoints: Endpoints::new(
                endpoints,
                cfg.notify.per_endpoint_concurrency,
                cfg.notify.disable_after,
                health.metrics.clone(),
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
            kanaal: Arc::default(),
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
            directory: cfg.topic(Topic::DIRECTORY),
            deliveries,
            clock: cfg.topic(Topic::CLOCK),
        };
        let mut svc = Self {
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
            followed: HashMap::new(),
        };
        for ((topic, p), next) in followed {
            svc.followed_to(topic, p, next);
        }
        Ok(Some(svc))
    }
}
