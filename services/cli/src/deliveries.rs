//! `schakel deliveries list|show|retry`: the delivery ledger (`hub.deliveries.v1`) for
//! operators. `retry` re-drives a dead letter: it records a retry request, and notify makes one
//! more attempt with the same delivery id.

use std::collections::BTreeMap;

use anyhow::Context;
use schakel_core::domain::catalogue::Topic;
use schakel_core::domain::events::{DeliveryEvent, DeliveryStatus};
use schakel_core::log::kafka::{self, CloudEvent, Outgoing, Producer};
use schakel_core::log::trace::TraceParent;
use schakel_core::Config;
use schakel_notify::ledger::{DeliveryState, Ledger};
use schakel_notify::lifecycle::{self, Outcome, Schedule};

/// Every ledger record, in log order per delivery.
fn history(cfg: &Config) -> anyhow::Result<BTreeMap<String, Vec<DeliveryEvent>>> {
    let reg = schakel_core::log::schemas::registry();
    let mut out: BTreeMap<String, Vec<DeliveryEvent>> = BTreeMap::new();
    for r in kafka::read_to_end(cfg, &cfg.topic(Topic::DELIVERIES))
        .context("reading hub.deliveries.v1")?
    {
        if let Some(Ok(ev)) = r
            .value
            .as_deref()
            .map(|v| reg.decode::<DeliveryEvent>(Topic::DELIVERIES, v))
        {
            out.entry(ev.id.clone()).or_default().push(ev);
        }
    }
    Ok(out)
}

fn fold(events: &[DeliveryEvent]) -> Ledger {
    let mut l = Ledger::default();
    for e in events {
        l.apply(e);
    }
    l
}

/// Filters of `list`.
pub struct Filter {
    pub status: Option<String>,
    pub contact: Option<String>,
    pub signal: Option<String>,
}

pub fn list(cfg: &Config, f: &Filter) -> anyhow::Result<()> {
    let all = history(cfg)?;
    let mut shown = 0;
    println!(
        "{:<32}  {:<15}  {:>7}  {:<7}  {:<20}  {:<32}  {:<9}  {:<24}  error",
        "DELIVERY", "STATUS", "ATTEMPT", "CHANNEL", "CONTACT", "SIGNAL", "STEP", "AT"
    );
    for (id, events) in &all {
        let ledger = fold(events);
        let (Some(state), Some(last)) = (ledger.get(id), ledger.last(id)) else {
            continue;
        };
        if f.status.as_deref().is_some_and(|s| s != state.label())
            || f.contact.as_deref().is_some_and(|c| c != last.contact)
            || f.signal.as_deref().is_some_and(|s| s != last.signal_id)
        {
            continue;
        }
        let attempt = events.iter().map(|e| e.attempt).max().unwrap_or(0);
        println!(
            "{:<32}  {:<15}  {:>7}  {:<7}  {:<20}  {:<32}  {:<9}  {:<24}  {}",
            id,
            state.label(),
            attempt,
            last.channel,
            last.contact,
            last.signal_id,
            last.step,
            last.at.to_string(),
            last.error.as_deref().unwrap_or("")
        );
        shown += 1;
    }
    eprintln!("{shown} of {} deliveries", all.len());
    Ok(())
}

pub fn show(cfg: &Config, id: &str) -> anyhow::Result<()> {
    let all = history(cfg)?;
    let events = all
        .get(id)
        .with_context(|| format!("no delivery {id} in hub.deliveries.v1"))?;
    let last = events.last().expect("a delivery has records");
    let state = fold(events).get(id).cloned();
    println!("delivery  {id}");
    println!("signal    {} ({})", last.signal_id, last.step);
    println!("contact   {} over {}", last.contact, last.channel);
    println!(
        "status    {}",
        state.as_ref().map_or("unknown", DeliveryState::label)
    );
    println!();
    for e in events {
        let next = e
            .next_attempt_at
            .map(|t| format!(", next attempt at {t}"))
            .unwrap_or_default();
        let error = e
            .error
            .as_deref()
            .map(|x| format!(": {x}"))
            .unwrap_or_default();
        println!(
            "{}  {:<15} attempt {}{error}{next}",
            e.at, e.status, e.attempt
        );
    }
    Ok(())
}

pub async fn retry(cfg: &Config, id: &str) -> anyhow::Result<()> {
    let all = history(cfg)?;
    let events = all
        .get(id)
        .with_context(|| format!("no delivery {id} in hub.deliveries.v1"))?;
    let ledger = fold(events);
    let Some(state) = ledger.get(id) else {
        anyhow::bail!("no delivery {id}");
    };
    let now = jiff::Timestamp::now();
    if lifecycle::next(
        Some(state),
        Outcome::RetryRequested,
        &Schedule::single(id),
        now,
    )
    .is_err()
    {
        anyhow::bail!(
            "delivery {id} is {}; only a dead-lettered or unroutable delivery can be retried",
            state.label()
        );
    }
    let last = ledger.last(id).expect("a state has a record");
    let ev = DeliveryEvent {
        kind: DeliveryStatus::RetryRequested.event_type(),
        status: DeliveryStatus::RetryRequested,
        error: None,
        at: now,
        next_attempt_at: None,
        ..last.clone()
    };
    let ce = CloudEvent {
        id: format!("{id}-{}-retry-{}", ev.attempt, now.as_millisecond()),
        source: "urn:nl:schakel:cli".into(),
        kind: ev.kind,
        time: now,
        trace: TraceParent::new_root(),
    };
    Producer::new(cfg)?
        .send(Outgoing {
            key: id,
            value: &ev,
            event: &ce,
            partition: None,
        })
        .await
        .context("recording the retry request")?;
    if last.contact.starts_with("role:") {
        println!(
            "retry of {id} requested: notify hands the signal step to whoever now holds {} (see `schakel deliveries list --signal {}`)",
            last.contact.trim_start_matches("role:"),
            last.signal_id
        );
    } else {
        println!(
            "retry of {id} requested: notify makes one more attempt (see `schakel deliveries show {id}`)"
        );
    }
    Ok(())
}
