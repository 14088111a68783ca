//! One input record folded: decoded, applied to the engine, its new signal steps written and a
//! refused record dead-lettered. While a partition restores, nothing is written; a step
//! already in the log is not written again.

use jiff::Timestamp;
use schakel_core::domain::events::SignalEvent;
use schakel_core::log::kafka::Record;
use schakel_core::log::trace::TraceParent;
use schakel_core::runtime::telemetry::{self, Attr, Kind};
use schakel_core::Shutdown;

use super::{Service, INPUTS};
use crate::partition::Partition;
use crate::Input;

impl Service<'_> {
    fn decode(&self, t: usize, rec: &Record) -> Result<Input, String> {
        let bytes = rec.value.as_deref().ok_or("record without a value")?;
        Input::decode(self.producer.registry(), INPUTS[t], bytes)
    }

    pub(super) async fn process(
        &mut self,
        p: i32,
        t: usize,
        rec: Record,
        shutdown: &Shutdown,
    ) -> anyhow::Result<()> {
        let started = std::time::Instant::now();
        let logical = INPUTS[t];
        let decoded = self.decode(t, &rec);
        let Some(f) = self.parts.get_mut(&p).and_then(Partition::folding) else {
            return Ok(());
        };
        let silent = f.silent(t, rec.offset);
        tracing::debug!(
            topic = logical.name(),
            partition = p,
            offset = rec.offset,
            silent,
            "input read"
        );
        self.counted[t] += 1;
        // a span for each record processed live, none while the partition restores
        let span = (!silent).then(|| {
            telemetry::span(Kind::Consumer, rec.trace.as_ref()).start(|| {
                let mut attrs = telemetry::kafka_attrs("process", &rec.topic);
                attrs.extend(telemetry::kafka_position(rec.partition, rec.offset));
                attrs.push(Attr::new(
                    "messaging.consumer.group.name",
                    self.own.rules.group.clone(),
                ));
                (format!("process {}", rec.topic).into(), attrs)
            })
        });
        let mut signals = Vec::new();
        let mut refused = None;
        let mut tick = false;
        match decoded {
            Ok(input) => {
                tick = matches!(input, Input::Tick(_));
                match f
                    .engine
                    .apply_traced(&input, rec.trace.as_ref().map(TraceParent::ids))
                {
                    Ok(s) => signals = s,
                    Err(refusal) => refused = Some(format!("refused: {}", refusal.0)),
                }
            }
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
            // a step continues the trace of what caused it: on a tick, the newest fact about
            // the child; otherwise the record itself. The process span is linked.
            let fresh: Vec<(SignalEvent, TraceParent)> = fresh
                .into_iter()
                .map(|s| {
                    let cause = tick
                        .then(|| f.engine.child(&s.child_key).and_then(|c| c.cause))
                        .flatten()
                        .map(TraceParent::from)
                        .or_else(|| rec.trace.clone())
                        .unwrap_or_else(|| TraceParent::derived(&s.id));
                    (s, cause)
                })
                .collect();
            let link = span.as_ref().map(|s| s.context().clone());
            let end = self.emit(p, fresh, link.as_ref(), when, shutdown).await?;
            if let Some(reason) = refused {
                self.dead_letter(&rec, logical.name(), reason, when, shutdown)
                    .await?;
            }
            if let Some(f) = self.parts.get_mut(&p).and_then(Partition::folding) {
                f.signals_end = f.signals_end.max(end);
            }
        }
        if let Some(f) = self.parts.get_mut(&p).and_then(Partition::folding) {
            f.processed(t, rec.offset);
        }
        self.health.metrics.observe(
            "schakel_rules_record_duration_seconds",
            "",
            &schakel_core::runtime::metrics::DURATION_BUCKETS,
            started.elapsed().as_secs_f64(),
        );
        Ok(())
    }
}
