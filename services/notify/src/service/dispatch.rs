//! Signals into deliveries: a signal of a live partition is planned and each of its
//! deliveries runs as a task holding a slot of the in-flight cap; what a task reports when it
//! ends (or that it died) moves the partition's low watermark.

use schakel_core::domain::events::SignalEvent;
use schakel_core::domain::roles::is_config_rule;
use schakel_core::runtime::telemetry::{self, Attr, Kind};
use schakel_core::Shutdown;

use super::partitions::Phase;
use super::Service;
use crate::config_signals::{self, Unroutable};
use crate::delivery::deliver;
use crate::plan::{plan, Only};
use crate::{endpoints, redrive};
use schakel_core::domain::catalogue::Topic;

/// What a finished task reports.
pub(super) struct Done {
    /// the partition (and its epoch) the task worked for; None: for no partition
    pub(super) owner: Option<(i32, u64)>,
    /// the signal offset whose delivery ended (None: not tracked for commits)
    pub(super) offset: Option<i64>,
    pub(super) finished: bool,
}

impl Service {
    /// Plans the next waiting signal and starts its deliveries.
    pub(super) async fn plan_next(&mut self, shutdown: &Shutdown) {
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
            match self.deps.producer.registry().decode(Topic::SIGNALS, v) {
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
        let logged_at = rec
            .timestamp
            .and_then(|ms| jiff::Timestamp::from_millisecond(ms).ok());
        let span = telemetry::span(Kind::Consumer, rec.trace.as_ref()).start(|| {
            let mut attrs = telemetry::kafka_attrs("process", &rec.topic);
            attrs.extend(telemetry::kafka_position(rec.partition, rec.offset));
            attrs.push(Attr::new(
                "messaging.consumer.group.name",
                self.deps.cfg.notify.group.clone(),
            ));
            (format!("process {}", rec.topic).into(), attrs)
        });
        for mut job in planned.jobs {
            job.logged_at = logged_at;
            job.trace = Some(span.context().clone());
            let Ok(permit) = self.in_flight.clone().acquire_owned().await else {
                return;
            };
            let (deps, stop) = (self.deps.clone(), stop.clone());
            let offset = rec.offset;
            self.tasks.spawn(async move {
                let finished = deliver(&deps, job, &stop).await;
                drop(permit);
                Done {
                    owner: Some((p, epoch)),
                    offset: Some(offset),
                    finished,
                }
            });
        }
    }

    pub(super) fn spawn_redrive(
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
                owner: Some((p, epoch)),
                offset: None,
                finished,
            }
        });
    }

    /// Enables the contact's disabled endpoints again (its directory entry changed), as a
    /// task that counts against the cap like a delivery.
    pub(super) fn spawn_enable(&mut self, contact: String, stop: Shutdown) {
        let Ok(permit) = self.in_flight.clone().try_acquire_owned() else {
            tracing::warn!(
                "too many deliveries in flight; the endpoint is enabled again after a restart"
            );
            return;
        };
        let deps = self.deps.clone();
        self.tasks.spawn(async move {
            endpoints::enable(&deps, &contact, &stop).await;
            drop(permit);
            Done {
                owner: None,
                offset: None,
                finished: true,
            }
        });
    }

    pub(super) fn finished(&mut self, done: Result<Done, tokio::task::JoinError>) {
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
        let Some((partition, epoch)) = done.owner else {
            return;
        };
        let Some(part) = self.parts.get_mut(&partition).filter(|x| x.epoch == epoch) else {
            return; // the partition went meanwhile
        };
        if let (true, Some(o)) = (done.finished, done.offset) {
            part.open.finished(o);
        }
    }
}
