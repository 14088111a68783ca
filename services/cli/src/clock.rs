//! `schakel clock tick` and `schakel clock run`.

use std::time::Duration;

use anyhow::Context;
use jiff::civil::{Date, Time};
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};
use schakel_core::domain::catalogue::Topic;
use schakel_core::domain::dates::parse_date;
use schakel_core::domain::events::ClockTick;
use schakel_core::log::kafka::{CloudEvent, Outgoing, Producer};
use schakel_core::Config;

/// Produces the tick for `date` to every partition of the clock topic, stamped `at` (default:
/// now), all partitions at once. Notify with `notify.clock = "log"` takes the latest stamp as
/// the time.
pub async fn produce_tick(
    producer: &Producer,
    date: Date,
    at: Option<Timestamp>,
) -> anyhow::Result<usize> {
    let parts = producer.partitions(Topic::CLOCK)?;
    let tick = ClockTick {
        // a tick stamped by hand is a moment of its own (rules still sees one day)
        id: match at {
            None => ClockTick::id_for(date),
            Some(t) => format!("{}-at-{}", ClockTick::id_for(date), t.as_millisecond()),
        },
        date,
        produced_at: at.unwrap_or_else(Timestamp::now),
    };
    let ev = CloudEvent::of_tick(&tick);
    let (tick, ev) = (&tick, &ev);
    let sends = parts.iter().map(|p| async move {
        producer
            .send(Outgoing {
                key: "clock",
                value: tick,
                event: ev,
                partition: Some(*p),
            })
            .await
            .with_context(|| format!("producing the tick to partition {p}"))
    });
    for sent in futures_util::future::join_all(sends).await {
        sent?;
    }
    Ok(parts.len())
}

pub async fn tick(cfg: &Config, date: &str, at: Option<&str>) -> anyhow::Result<()> {
    let date =
        parse_date(date).with_context(|| format!("--date {date:?} is not a date YYYY-MM-DD"))?;
    let at = at
        .map(|a| {
            a.parse::<Timestamp>().with_context(|| {
                format!("--at {a:?} is not an instant like 2026-01-12T09:00:00+01:00")
            })
        })
        .transpose()?;
    let producer = Producer::new(cfg)?;
    let n = produce_tick(&producer, date, at).await?;
    match at {
        None => println!("tick {date} produced to {n} partitions"),
        Some(t) => println!("tick {date} at {t} produced to {n} partitions"),
    }
    // every tick is acknowledged and the command ends here: librdkafka's orderly teardown
    // (joining its poll thread, closing each connection) would only make the caller wait
    std::mem::forget(producer);
    Ok(())
}

pub async fn run(cfg: &Config) -> anyhow::Result<()> {
    let tz = TimeZone::get(&cfg.clock.timezone)
        .with_context(|| format!("clock.timezone {:?}", cfg.clock.timezone))?;
    let at: Time = cfg
        .clock
        .tick_at
        .parse()
        .with_context(|| format!("clock.tick_at {:?} is not HH:MM", cfg.clock.tick_at))?;
    let producer = Producer::new(cfg)?;
    let now = Timestamp::now().to_zoned(tz.clone());
    let mut next_day = now.date();
    if now.time() >= at {
        let n = produce_tick(&producer, now.date(), None).await?;
        println!("tick {} produced to {n} partitions", now.date());
        next_day = now.date().saturating_add(1.day());
    }
    loop {
        let when = next_day.to_datetime(at).to_zoned(tz.clone())?.timestamp();
        let wait = Duration::try_from(when.duration_since(Timestamp::now())).unwrap_or_default();
        tracing::info!(next = %when, "waiting for the next tick");
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = tokio::signal::ctrl_c() => return Ok(()),
        }
        let n = produce_tick(&producer, next_day, None).await?;
        println!("tick {next_day} produced to {n} partitions");
        next_day = next_day.saturating_add(1.day());
    }
}
