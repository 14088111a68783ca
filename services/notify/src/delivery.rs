//! One delivery through its lifecycle: queued → in flight → delivered, retry scheduled
//! (→ in flight …) or dead-lettered, each step recorded in `hub.deliveries.v1` before the next.

use jiff::Timestamp;
use schakel_core::domain::events::{DeliveryEvent, SignalEvent};
use schakel_core::Shutdown;

use crate::deps::Deps;
use crate::ledger_writer::{ledger_record, record_until_durable, Subject};
use crate::{digest, email, endpoints, message, webhook};

/// One delivery to run: a signal step to one contact over one channel.
pub struct Job {
    pub id: String,
    pub signal: SignalEvent,
    pub contact: String,
    pub send: Send,
    pub next_attempt: i32,
    pub not_before: Option<Timestamp>,
    /// the ledger knows nothing of it yet: record it as queued first
    pub fresh: bool,
    /// where the signal step is in hub.signals.v1
    pub position: (i32, i64),
    /// an operator's retry of a dead letter: one attempt, then dead-lettered again
    pub single_attempt: bool,
    /// an e-mail for the contact's daily digest at this hour, and what it says
    pub digest: Option<(i32, message::Notification)>,
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
}

impl Send {
    pub fn channel(&self) -> &'static str {
        match self {
            Send::Webhook { .. } => "webhook",
            Send::Email { .. } => "email",
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

    fn event(
        &self,
        status: &str,
        attempt: i32,
        error: Option<String>,
        at: Timestamp,
        next_attempt_at: Option<Timestamp>,
    ) -> DeliveryEvent {
        ledger_record(&self.subject(), status, attempt, error, at, next_attempt_at)
    }
}

/// Sends once over the job's channel.
async fn send_once(deps: &Deps, job: &Job) -> Result<(), String> {
    match &job.send {
        Send::Webhook { url, secret, body } => webhook::post(
            &deps.client,
            url,
            secret,
            &job.id,
            body.clone(),
            deps.timeout,
        )
        .await
        .map(drop)
        .map_err(|e| e.to_string()),
        Send::Email { to, mail } => match &deps.mailer {
            Some(m) => m.send(to, mail, &job.id).await.map_err(|e| e.to_string()),
            None => Err("notify.email is not configured".into()),
        },
    }
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

/// The wait before attempt `attempt + 1`: the schedule's, give or take up to 10 %, the same
/// for the same delivery and attempt every time. Without the spread, every retry of an
/// endpoint that was down fires in the same second.
pub fn retry_wait(deps: &Deps, id: &str, attempt: i32) -> Option<std::time::Duration> {
    let base = *deps.schedule.get((attempt - 1).max(0) as usize)?;
    let h = format!("{id}/{attempt}")
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        });
    // a factor in [0.9, 1.1)
    let permille = 900 + (h % 200);
    Some(base * permille as u32 / 1000)
}

/// Runs one delivery through its lifecycle. Retries wait on notify's clock. Returns true once
/// the outcome is final and recorded; false when `stop` interrupted it (shutdown, or its
/// partition went to another instance: the delivery resumes there, with the same id).
pub async fn deliver(deps: &Deps, mut job: Job, stop: &Shutdown) -> bool {
    tokio::select! {
        _ = deps.clock.ready() => {},
        _ = stop.wait() => return false,
    }
    let mut attempt = job.next_attempt;
    let channel = job.send.channel();
    if job.fresh {
        let ev = job.event("queued", 0, None, deps.clock.now(), None);
        if !record_until_durable(deps, &ev, stop).await {
            return false;
        }
    }
    if let Some((hour, _)) = job.digest.take() {
        // durable in the ledger, the signal may be committed; the contact's digest owner
        // (maybe another instance) reads it from the ledger and sends the digest
        let due = digest::next_digest_at(deps.clock.now(), hour, &deps.tz);
        let ev = job.event("digest-scheduled", 1, None, deps.clock.now(), Some(due));
        return record_until_durable(deps, &ev, stop).await;
    }
    if let Some(at) = job.not_before {
        tokio::select! {
            _ = deps.clock.sleep_until(at) => {},
            _ = stop.wait() => return false,
        }
    }
    let cap = deps
        .endpoints
        .cap(&job.send.endpoint(deps.mailer.as_deref()));
    loop {
        if stop.is_triggered() {
            return false;
        }
        if let Some(error) = not_to_call(deps, &job) {
            let ev = job.event(
                "dead-lettered",
                attempt,
                Some(error),
                deps.clock.now(),
                None,
            );
            deps.health.metrics.inc(
                "schakel_notify_deliveries_total",
                &format!("channel=\"{channel}\",status=\"dead-lettered\""),
            );
            return record_until_durable(deps, &ev, stop).await;
        }
        let result = {
            let _slot = tokio::select! {
                s = cap.acquire() => s.expect("semaphore open"),
                _ = stop.wait() => return false,
            };
            let ev = job.event("in-flight", attempt, None, deps.clock.now(), None);
            if !record_until_durable(deps, &ev, stop).await {
                return false;
            }
            send_once(deps, &job).await
        };
        let max_attempts = deps.schedule.len() as i32 + 1;
        let (status, error, wait) = match &result {
            Ok(_) => ("succeeded", None, None),
            Err(e) if attempt >= max_attempts || job.single_attempt => {
                ("dead-lettered", Some(e.clone()), None)
            }
            Err(e) => (
                "failed",
                Some(e.clone()),
                retry_wait(deps, &job.id, attempt),
            ),
        };
        let now = deps.clock.now();
        let next_at = wait.and_then(|w| {
            now.checked_add(jiff::SignedDuration::try_from(w).ok()?)
                .ok()
        });
        let ev = job.event(status, attempt, error.clone(), now, next_at);
        deps.health.metrics.inc(
            "schakel_notify_deliveries_total",
            &format!("channel=\"{channel}\",status=\"{status}\""),
        );
        if !record_until_durable(deps, &ev, stop).await {
            return false;
        }
        if !endpoints::check(deps, &job, &ev, stop).await {
            return false;
        }
        match (wait, next_at) {
            (Some(w), Some(at)) => {
                tracing::info!(delivery_id = %job.id, attempt, error = error.as_deref().unwrap_or(""), retry_in_s = w.as_secs(), "delivery failed; retry scheduled");
                tokio::select! {
                    _ = deps.clock.sleep_until(at) => {},
                    _ = stop.wait() => return false,
                }
                attempt += 1;
            }
            _ => {
                tracing::debug!(delivery_id = %job.id, attempt, status, "delivery final");
                if status == "dead-lettered" {
                    tracing::warn!(delivery_id = %job.id, contact = %job.contact, attempt, "delivery dead-lettered");
                }
                return true;
            }
        }
    }
}
