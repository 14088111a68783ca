//! `make bench-trace`: what tracing costs. The same work with traces off and on (every
//! service exporting its spans over OTLP/HTTP to a receiver in this process that decodes
//! them, as a collector on the same machine would), in alternating rounds, on the real broker:
//!
//! - ingest throughput: `--events` facts posted in batches of 100 by 8 clients at once;
//! - tick → webhook latency: `--ticks` children, each made due by one tick of its own, timed
//!   from the tick to the arrival of both of its webhooks (rules, notify, real HTTP).
//!
//! Figures are the median of the rounds per mode and the on/off ratios; printed and written
//! as JSON (`--out`, default `.run/bench/bench-trace.json`).

use std::time::{Duration, Instant};

use schakel_e2e::bench::{arg, median, percentile, post_concurrently, write_figures};
use schakel_e2e::otlp::OtlpReceiver;
use schakel_e2e::receiver::Receiver;
use schakel_e2e::{
    assignment_event, bsns, eventually_async, handoff_desks, Env, Region, JEUGDHULP_TOKEN,
};

const SECRET: &str = "whsec_dGVzdC1zZWNyZXQtYmVuY2gtdHJhY2UtMDEyMzQ1Njc=";

/// One round in one mode: (events/s, tick → webhook latencies in ms).
async fn round(
    on: bool,
    otlp: &OtlpReceiver,
    seed: u32,
    events: usize,
    ticks: usize,
) -> (f64, Vec<f64>) {
    let env = Region::new().start();
    let rx = Receiver::start(Duration::ZERO).await;
    env.apply_directory(&handoff_desks(&rx, SECRET));
    let endpoint = otlp.endpoint();
    let mut vars: Vec<(&str, &str)> = vec![("SCHAKEL_LOG", "warn")];
    if on {
        vars.push(("SCHAKEL_TELEMETRY__OTLP_ENDPOINT", endpoint.as_str()));
    }
    let _ingest = env.spawn_with("schakel-ingest", env.ingest_port, &vars);
    let _rules = env.spawn_with("schakel-rules", env.rules_port, &vars);
    let _notify = env.spawn_with("schakel-notify", env.notify_port, &vars);
    Env::await_ready(env.rules_port, Duration::from_secs(60)).await;
    Env::await_ready(env.notify_port, Duration::from_secs(60)).await;

    // ingest: facts of children far from any deadline, 8 clients at once
    let people = bsns(events, seed);
    let batches: Vec<serde_json::Value> = people
        .chunks(100)
        .enumerate()
        .map(|(b, chunk)| {
            serde_json::Value::Array(
                chunk
                    .iter()
                    .enumerate()
                    .map(|(i, bsn)| {
                        assignment_event(&format!("b{seed}-{b}-{i}"), bsn, "2016-03-01", "N1")
                    })
                    .collect(),
            )
        })
        .collect();
    let started = Instant::now();
    post_concurrently(&env.ingest_url(), JEUGDHULP_TOKEN, batches, 8).await;
    let rate = events as f64 / started.elapsed().as_secs_f64();

    // tick → webhook: child k turns 17y6m on day k of January 2026
    let due: Vec<serde_json::Value> = bsns(ticks, seed + 1)
        .iter()
        .enumerate()
        .map(|(k, bsn)| {
            assignment_event(
                &format!("d{seed}-{k}"),
                bsn,
                &format!("2008-07-{:02}", k + 3),
                "D1",
            )
        })
        .collect();
    let (status, body) = env.post_batch(JEUGDHULP_TOKEN, &due.into()).await;
    assert_eq!(status, 202, "{body}");
    // the days before: nothing is due yet, and rules has read the facts when these are done
    env.tick_days(
        jiff::civil::date(2025, 12, 30),
        jiff::civil::date(2026, 1, 2),
    );
    let mut latencies = Vec::new();
    for k in 0..ticks {
        let day = jiff::civil::date(2026, 1, (k + 3) as i8);
        let t0 = Instant::now();
        env.tick(&day.to_string());
        let want = 2 * (k + 1);
        assert!(
            eventually_async(
                Duration::from_secs(30),
                Duration::from_millis(2),
                || async { rx.received().len() >= want }
            )
            .await,
            "both webhooks of child {k} arrive"
        );
        latencies.push(t0.elapsed().as_secs_f64() * 1000.0);
    }
    (rate, latencies)
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.iter().any(|a| a == "--help" || a == "-h") {
        println!(
            "bench-trace: ingest throughput and tick → webhook latency with traces off and on\n\n\
             Options:\n  --events N   facts posted per round (default 20000)\n  \
             --ticks N    children made due one tick each per round (default 20, at most 25)\n  \
             --rounds N   rounds per mode, alternating off/on (default 2)\n  \
             --out PATH   JSON figures (default .run/bench/bench-trace.json)"
        );
        return;
    }
    let events = arg("--events", 20_000);
    let ticks = arg("--ticks", 20).min(25);
    let rounds = arg("--rounds", 2);
    let out = args
        .iter()
        .skip_while(|a| *a != "--out")
        .nth(1)
        .cloned()
        .unwrap_or_else(|| ".run/bench/bench-trace.json".into());
    let otlp = OtlpReceiver::start().await;
    let mut rates = [Vec::new(), Vec::new()];
    let mut lats: [Vec<f64>; 2] = [Vec::new(), Vec::new()];
    let mut p50s = [Vec::new(), Vec::new()];
    for r in 0..rounds {
        for on in [false, true] {
            let mode = usize::from(on);
            let seed = (r * 2 + mode) as u32 * 2 + 10;
            eprintln!(
                "round {}/{rounds}, traces {}: {events} events, {ticks} ticks",
                r + 1,
                if on { "on" } else { "off" }
            );
            let (rate, l) = round(on, &otlp, seed, events, ticks).await;
            eprintln!(
                "  {rate:.0} events/s; tick → webhooks p50 {:.1} ms",
                median(&l)
            );
            rates[mode].push(rate);
            p50s[mode].push(median(&l));
            lats[mode].extend(l);
        }
    }
    let spans = otlp.spans().len();
    let rate = [median(&rates[0]), median(&rates[1])];
    let p50 = [median(&p50s[0]), median(&p50s[1])];
    let p99 = [percentile(&lats[0], 0.99), percentile(&lats[1], 0.99)];
    println!(
        "traces off: ingest {:.0} events/s, tick → webhooks p50 {:.1} ms, p99 {:.1} ms",
        rate[0], p50[0], p99[0]
    );
    println!(
        "traces on:  ingest {:.0} events/s, tick → webhooks p50 {:.1} ms, p99 {:.1} ms",
        rate[1], p50[1], p99[1]
    );
    println!(
        "on/off: ingest throughput {:.2}x, tick → webhooks p50 {:.2}x, p99 {:.2}x ({spans} spans received)",
        rate[1] / rate[0],
        p50[1] / p50[0],
        p99[1] / p99[0]
    );
    let json = serde_json::json!({
        "events_per_round": events,
        "ticks_per_round": ticks,
        "rounds": rounds,
        "spans_received": spans,
        "off": {"ingest_events_per_s": rate[0], "ingest_rounds": rates[0], "tick_to_webhooks_p50_ms": p50[0], "tick_to_webhooks_p99_ms": p99[0]},
        "on": {"ingest_events_per_s": rate[1], "ingest_rounds": rates[1], "tick_to_webhooks_p50_ms": p50[1], "tick_to_webhooks_p99_ms": p99[1]},
        "ratio_on_off": {"ingest_throughput": rate[1] / rate[0], "tick_to_webhooks_p50": p50[1] / p50[0], "tick_to_webhooks_p99": p99[1] / p99[0]},
    });
    write_figures(&out, &json);
    println!("figures: {out}");
}
