//! One delivery through its lifecycle: queued → in flight → delivered, retry scheduled
//! (→ in flight …) or dead-lettered, each step recorded in `hub.deliveries.v1` before the next.

use schakel_core::domain::events::SignalEvent;
use schakel_core::log::trace::TraceParent;
use schakel_core::runtime::telemetry::{self, Attr, Kind};
use schakel_core::Shutdown;

use crate::deps::Deps;
use crate::ledger_writer::{record_step, Recorded, Step, Subject};
use crate::lifecycle::{DeliveryState, Outcome, Schedule};
use crate::{digest, email, endpoints, message, notificaties, webhook};

/// One delivery to run: a signal step to one contact over one channel.
pub struct Job {
    pub id: String,
    pub signal: SignalEvent,
    pub contact: String,
    pub send: Send,
    /// where the ledger says it stands (None: nothing recorded yet, it is queued first)
    pub state: Option<DeliveryState>,
    /// where the signal step is in hub.signals.v1
    pub position: (i32, i64),
    /// an operator's retry of a dead letter: one attempt, then dead-lettered again
    pub single_attempt: bool,
    /// an e-mail for the contact's daily digest at this hour, and what it says
    pub digest: Option<(i32, message::Notification)>,
    /// when the log received the signal step (the age of a delivery is counted from it)
    pub logged_at: Option<jiff::Timestamp>,
    /// the span that read the signal step: each attempt is a client span under it, and a
    /// webhook carries the attempt's `traceparent`
    pub trace: Option<TraceParent>,
}

/// What to send, per channel.
pub enum Send {
    Webhook {
        url: String,
        secret: String,
        body: Vec<u8>,
    },
    Email {
        to: String,
        mail: email::Rendered,
    },
    /// a notificatie to the region's Notificaties API
    Notificaties {
        body: Vec<u8>,
    },
}

impl Send {
    pub fn channel(&self) -> &'static str {
        match self {
            Send::Webhook { .. } => "webhook",
            Send::Email { .. } => "email",
            Send::Notificaties { .. } => notificaties::CHANNEL,
        }
    }

    /// The endpoint whose concurrency cap the delivery counts against: a webhook's host and
    /// port, or the SMTP server.
    pub fn endpoint(&self, mailer: Option<&email::Mailer>) -> String {
        match self {
            Send::Webhook { url, .. } => reqwest::Url::parse(url)
                .ok()
                .map(|u| {
                    format!(
                        "{}:{}",
                        u.host_str().unwrap_or_default(),
                        u.port_or_known_default().unwrap_or(0)
                    )
                })
                .unwrap_or_else(|| url.to_owned()),
            Send::Email { .. } => mailer.map_or_else(|| "smtp".to_owned(), |m| m.endpoint.clone()),
            Send::Notificaties { .. } => notificaties::CHANNEL.to_owned(),
        }
    }
}

impl Job {
    pub fn subject(&self) -> Subject<'_> {
        Subject {
            id: &self.id,
            signal: &self.signal,
            contact: &self.contact,
            channel: self.send.channel(),
            position: self.position,
        }
    }

    /// The retries this delivery may still get.
    fn schedule<'a>(&'a self, deps: &'a Deps) -> Schedule<'a> {
        if self.single_attempt {
            Schedule::single(&self.id)
        } else {
            Schedule::new(&deps.schedule, &self.id)
        }
    }

    /// Takes one lifecycle step and records it; None when the delivery cannot go on now.
    async fn step(
        &self,
        deps: &Deps,
        state: Option<&DeliveryState>,
        outcome: Outcome,
        error: Option<String>,
        stop: &Shutdown,
    ) -> Option<Recorded> {
        let step = Step {
            subject: self.subject(),
            outcome,
            error,
            schedule: self.schedule(deps),
            trace: self.trace.as_ref(),
        };
        record_step(deps, step, state, stop).await
    }
}

/// Sends once over the job's channel, in a client span.
async fn send_once(deps: &Deps, job: &Job) -> Result<(), String> {
    let channel = job.send.channel();
    let mut span = telemetry::span(Kind::Client, job.trace.as_ref()).start(|| match &job.send {
        Send::Webhook { url, .. } => {
            let mut attrs = vec![
                Attr::new("http.request.method", "POST"),
                Attr::new("schakel.channel", channel),
            ];
            // the receiver's host and port, never its path (it may hold a token)
            if let Ok(u) = reqwest::Url::parse(url) {
                attrs.push(Attr::new(
                    "server.address",
                    u.host_str().unwrap_or_default().to_owned(),
                ));
                if let Some(port) = u.port_or_known_default() {
                    attrs.push(Attr::new("server.port", i64::from(port)));
                }
            }
            ("POST".into(), attrs)
        }
        Send::Email { .. } => (
            "send e-mail".into(),
            vec![Attr::new("schakel.channel", channel)],
        ),
        Send::Notificaties { .. } => (
            "POST notificaties".into(),
            vec![
                Attr::new("http.request.method", "POST"),
                Attr::new("schakel.channel", channel),
            ],
        ),
    });
    let result = match &job.send {
        Send::Webhook { url, secret, body } => {
            let sent = webhook::post(
                &deps.client,
                webhook::Request {
                    url,
                    secret,
                    id: &job.id,
                    body: body.clone(),
                    timeout: deps.timeout,
                    trace: span.context(),
                },
            )
            .await;
            if let Ok(status) | Err(webhook::SendError::Status(status)) = &sent {
                let status = i64::from(*status);
                span.record(|| vec![Attr::new("http.response.status_code", status)]);
            }
            sent.map(drop).map_err(|e| e.to_string())
        }
        Send::Email { to, mail } => match &deps.mailer {
            Some(m) => m.send(to, mail, &job.id).await.map_err(|e| e.to_string()),
            None => Err("notify.email is not configured".into()),
        },
        Send::Notificaties { body } => match &deps.cfg.notify.notificaties {
            Some(cfg) => {
                let call = notificaties::Call {
                    client: &deps.client,
                    cfg,
                    timeout: deps.timeout,
                    trace: span.context(),
                    api_base_url: &deps.cfg.region.api_base_url,
                };
                let sent = match deps.kanaal.get_or_try_init(|| call.ensure_kanaal()).await {
                    Ok(()) => call.post(body).await,
                    Err(e) => Err(e),
                };
                if let Ok(status) | Err(webhook::SendError::Status(status)) = &sent {
                    let status = i64::from(*status);
                    span.record(|| vec![Attr::new("http.response.status_code", status)]);
                }
                sent.map(drop).map_err(|e| e.to_string())
            }
            None => Err("notify.notificaties is not configured".into()),
        },
    };
    if let Err(e) = &result {
        span.fail(|| e.clone());
    }
    result
}

/// Why a delivery must not be sent at all: its contact was removed from the directory, or
/// its endpoint is disabled (an operator's retry is still sent to a disabled endpoint).
fn not_to_call(deps: &Deps, job: &Job) -> Option<String> {
    if deps
        .removed
        .lock()
        .expect("removed lock")
        .contains(&job.contact)
    {
        return Some("the contact was removed from the directory".into());
    }
    let health = deps.endpoints.health(&job.contact, job.send.channel());
    (health.disabled && !job.single_attempt).then(|| {
        format!(
            "endpoint disabled after failing since {}; fix it in the directory and retry",
            health
                .failing_since
                .map_or_else(|| "long".to_owned(), |t| t.to_string())
        )
    })
}

/// Runs one delivery through its lifecycle. Retries wait on notify's clock. Returns true once
/// the outcome is final and recorded; false when `stop` interrupted it (shutdown, or its
/// partition went to another instance: the delivery resumes there, with the same id).
pub async fn deliver(deps: &Deps, mut job: Job, stop: &Shutdown) -> bool {
    tokio::select! {
        _ = deps.clock.ready() => {},
        _ = stop.wait() => return false,
    }
    let channel = job.send.channel();
    let mut state = match job.state.take() {
        Some(s) => s,
        None => match job.step(deps, None, Outcome::Planned, None, stop).await {
            Some(r) => r.state,
            None => return false,
        },
    };
    if let Some((hour, _)) = job.digest.take() {
        // durable in the ledger, the signal may be committed; the contact's digest owner
        // (maybe another instance) reads it from the ledger and sends the digest
        let at = digest::next_digest_at(deps.clock.now(), hour, &deps.tz);
        let digest = Outcome::Digest { at };
        return job
            .step(deps, Some(&state), digest, None, stop)
            .await
            .is_some();
    }
    let cap = deps
        .endpoints
        .cap(&job.send.endpoint(deps.mailer.as_deref()));
    loop {
        if let DeliveryState::RetryScheduled { at, .. } = state {
            let _waiting = PendingRetry::new(&deps.health.metrics);
            tokio::select! {
                _ = deps.clock.sleep_until(at) => {},
                _ = stop.wait() => return false,
            }
        }
        if stop.is_triggered() {
            return false;
        }
        if let Some(error) = not_to_call(deps, &job) {
            deps.health.metrics.inc(
                "schakel_notify_deliveries_total",
                &format!("channel=\"{channel}\",status=\"dead-lettered\""),
            );
            let refused = job.step(deps, Some(&state), Outcome::Refused, Some(error), stop);
            return refused.await.is_some();
        }
        // the in-flight record first: no call goes out unrecorded. The endpoint's slot is
        // taken after it and held for the call alone, so one host's calls are not spaced by
        // ledger round trips (the records of many deliveries travel together)
        match job
            .step(deps, Some(&state), Outcome::Attempt, None, stop)
            .await
        {
            Some(r) => state = r.state,
            None => return false,
        }
        let result = {
            let _slot = tokio::select! {
                s = cap.acquire() => s.expect("semaphore open"),
                _ = stop.wait() => return false,
            };
            let started = std::time::Instant::now();
            let sent = send_once(deps, &job).await;
            deps.health.metrics.observe(
                "schakel_notify_delivery_duration_seconds",
                &format!("channel=\"{channel}\""),
                &schakel_core::runtime::metrics::DURATION_BUCKETS,
                started.elapsed().as_secs_f64(),
            );
            if let (Ok(()), Some(logged)) = (&sent, job.logged_at) {
                let age = deps.clock.now().duration_since(logged).as_secs_f64();
                deps.health.metrics.observe(
                    "schakel_notify_signal_age_seconds",
                    &format!("channel=\"{channel}\""),
                    &schakel_core::runtime::metrics::AGE_BUCKETS,
                    age.max(0.0),
                );
            }
            sent
        };
        let (outcome, error) = match result {
            Ok(()) => (Outcome::Sent, None),
            Err(e) => (Outcome::Failed, Some(e)),
        };
        let Some(done) = job.step(deps, Some(&state), outcome, error, stop).await else {
            return false;
        };
        state = done.state;
        let status = state.status();
        deps.health.metrics.inc(
            "schakel_notify_deliveries_total",
            &format!("channel=\"{channel}\",status=\"{status}\""),
        );
        if !endpoints::check(deps, &job, &done.record, stop).await {
            return false;
        }
        let attempt = state.attempt();
        match state {
            DeliveryState::RetryScheduled { at, .. } => {
                let retry_in_s = at.duration_since(done.record.at).as_secs();
                let error = done.record.error.as_deref().unwrap_or("");
                tracing::info!(delivery_id = %job.id, attempt, error, retry_in_s, "delivery failed; retry scheduled");
            }
            _ => {
                tracing::debug!(delivery_id = %job.id, attempt, %status, "delivery final");
                if let DeliveryState::DeadLettered { .. } = state {
                    tracing::warn!(delivery_id = %job.id, contact = %job.contact, attempt, "delivery dead-lettered");
                }
                return true;
            }
        }
    }
}

/// A delivery waiting for its next attempt, counted in `schakel_notify_pending_retries` for
/// as long as it waits (however the wait ends).
struct PendingRetry<'a>(&'a schakel_core::runtime::metrics::Metrics);

impl<'a> PendingRetry<'a> {
    fn new(m: &'a schakel_core::runtime::metrics::Metrics) -> Self {
        m.shift("schakel_notify_pending_retries", "", 1.0);
        Self(m)
    }
}

impl Drop for PendingRetry<'_> {
    fn drop(&mut self) {
        self.0.shift("schakel_notify_pending_retries", "", -1.0);
    }
}
