//! Writing to the log: signal steps to the partition of hub.signals.v1 with the input's
//! number, and refused records to hub.deadletter.v1, each retried until the broker has it.

use schakel_core::domain::catalogue::EventType;
use std::time::Duration;

use anyhow::Context as _;
use base64::Engine as _;
use jiff::Timestamp;
use schakel_core::domain::events::{DeadLetter, SignalEvent};
use schakel_core::log::kafka::{CloudEvent, Outgoing, Producer, Record};
use schakel_core::log::trace::TraceParent;
use schakel_core::runtime::ops::Health;
use schakel_core::Shutdown;
use tokio::task::JoinSet;

use super::Service;

impl Service<'_> {
    /// Writes signal steps to the partition of hub.signals.v1 with the input's number, each
    /// retried until the broker has it; returns where the signals partition ends after them.
    pub(super) async fn emit(
        &self,
        p: i32,
        signals: Vec<(SignalEvent, TraceParent)>,
        link: Option<&TraceParent>,
        when: Timestamp,
        shutdown: &Shutdown,
    ) -> anyhow::Result<i64> {
        let mut sends = JoinSet::new();
        for (s, cause) in signals {
            self.health.metrics.inc(
                "schakel_rules_signals_total",
                &format!("rule=\"{}\",step=\"{}\"", s.rule, s.step),
            );
            let (producer, health, shutdown, link) = (
                self.producer.clone(),
                self.health.clone(),
                shutdown.clone(),
                link.cloned(),
            );
            sends.spawn(async move {
                let ev = CloudEvent {
                    id: s.id.clone(),
                    source: "urn:nl:schakel:rules".into(),
                    kind: s.kind,
                    // the input's append time and the cause's trace: a replay writes the same
                    // record
                    time: when,
                    trace: cause,
                };
                let key = s.child_key.as_str().to_owned();
                send_until_written(
                    &producer,
                    &health,
                    &shutdown,
                    || Outgoing {
                        key: &key,
                        value: &s,
                        event: &ev,
                        partition: Some(p),
                    },
                    link.as_ref(),
                )
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

    pub(super) async fn dead_letter(
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
            kind: EventType::DeadLettered,
            time: dl.at,
            trace: rec
                .trace
                .clone()
                .unwrap_or_else(|| TraceParent::derived(&id)),
        };
        send_until_written(
            &self.producer,
            self.health,
            shutdown,
            || Outgoing {
                key: &id,
                value: &dl,
                event: &ev,
                partition: None,
            },
            None,
        )
        .await?;
        Ok(())
    }
}

/// Produces one record, retrying while the broker is unreachable (readiness is false
/// meanwhile) until it is written or the service stops.
async fn send_until_written<'r, T: serde::Serialize + 'r>(
    producer: &Producer,
    health: &Health,
    shutdown: &Shutdown,
    record: impl Fn() -> Outgoing<'r, T>,
    link: Option<&TraceParent>,
) -> anyhow::Result<(i32, i64)> {
    let mut backoff = Duration::from_millis(200);
    loop {
        match producer.send_linked(record(), link).await {
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
