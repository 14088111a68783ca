//! `make bench-notify`: from one tick to the contact persons' webhooks, on the real broker with
//! release builds of ingest, rules and notify and a real HTTP receiver in this process:
//!
//! - `--signals` youths in care (default 1 000) turn 17y6m on the same day; one tick for that
//!   day makes all their R3b handoffs due. Timed from the tick to each signal's first webhook
//!   (p50, p99, the last), and the deliveries per second while they arrived (each signal goes
//!   to two contacts of one receiver: signed, ledgered).
//!
//! `--per-endpoint N` and `--order-grace-ms N` run it with another `notify.per_endpoint_concurrency`
//! (default 8) or `rules.order_grace` (default 50 ms), to show what each costs.
//!
//! Printed, and written as JSON (`--out`, default `.run/bench/bench-notify.json`).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use schakel_e2e::bench::{arg, percentile, text_arg, write_figures};
use schakel_e2e::receiver::Receiver;
use schakel_e2e::JEUGDHULP_TOKEN;
use schakel_e2e::{assignment_event, bsns, eventually_async, handoff_desks, Env, Region};

const SECRET: &str = "whsec_dGVzdC1zZWNyZXQtYmVuY2gtbm90aWZ5LTAxMjM0NTY3ODk=";

fn r1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    if std::env::args().any(|a| a == "--help" || a == "-h") {
        println!(
            "bench-notify [--signals N (1000, at most 25000)] [--per-endpoint N] [--order-grace-ms N] [--out FILE]\n\n\
             One tick that makes N handoffs due → each signal's first webhook (p50, p99), and\n\
             deliveries/s to one receiver. Release builds, real broker. JSON to --out\n\
             (.run/bench/bench-notify.json)."
        );
        return;
    }
    let n = arg("--signals", 1000).min(25_000);
    let out = text_arg("--out").unwrap_or_else(|| ".run/bench/bench-notify.json".into());
    let env = Region::new().start();
    let rx = Receiver::start(Duration::ZERO).await;
    env.apply_directory(&handoff_desks(&rx, SECRET));
    let quiet = [("SCHAKEL_LOG", "warn")];
    let per_endpoint = arg("--per-endpoint", 0).to_string();
    let grace = format!("{}ms", arg("--order-grace-ms", 0));
    let mut rules_vars = quiet.to_vec();
    if grace != "0ms" {
        rules_vars.push(("SCHAKEL_RULES__ORDER_GRACE", grace.as_str()));
    }
    let mut notify_vars = quiet.to_vec();
    if per_endpoint != "0" {
        notify_vars.push((
            "SCHAKEL_NOTIFY__PER_ENDPOINT_CONCURRENCY",
            per_endpoint.as_str(),
        ));
    }
    let _ingest = env.spawn_with("schakel-ingest", env.ingest_port, &quiet);
    let _rules = env.spawn_with("schakel-rules", env.rules_port, &rules_vars);
    let _notify = env.spawn_with("schakel-notify", env.notify_port, &notify_vars);
    Env::await_ready(env.ingest_port, Duration::from_secs(60)).await;
    Env::await_ready(env.rules_port, Duration::from_secs(60)).await;
    Env::await_ready(env.notify_port, Duration::from_secs(60)).await;

    // every youth turns 17y6m on 10 January 2026
    let people = bsns(n, 260);
    for (b, chunk) in people.chunks(1000).enumerate() {
        let batch: Vec<serde_json::Value> = chunk
            .iter()
            .enumerate()
            .map(|(i, bsn)| assignment_event(&format!("n{b}-{i}"), bsn, "2008-07-10", "N1"))
            .collect();
        let (status, body) = env.post_batch(JEUGDHULP_TOKEN, &batch.into()).await;
        assert_eq!(status, 202, "{body}");
    }
    // the days before: nothing is due (rules folds the facts before these ticks)
    env.tick_days(jiff::civil::date(2026, 1, 6), jiff::civil::date(2026, 1, 9));
    // what those ticks made (R3a planning) is delivered before the tick that is timed
    let mut settled = (rx.count(|_| true), Instant::now());
    while settled.1.elapsed() < Duration::from_secs(2) {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let now = rx.count(|_| true);
        if now != settled.0 {
            settled = (now, Instant::now());
        }
    }
    let is_handoff = |r: &schakel_e2e::receiver::Received| {
        r.body["data"]["rule"] == "R3b" && r.body["data"]["step"] == "opened"
    };
    let handoffs = |got: &[schakel_e2e::receiver::Received]| -> Vec<(String, Instant)> {
        got.iter()
            .filter(|r| is_handoff(r))
            .map(|r| {
                assert!(r.signature_valid, "signed");
                let id = r.body["data"]["signalId"].as_str().expect("a signal id");
                (id.to_owned(), r.at)
            })
            .collect()
    };
    eprintln!("{n} youths; the tick of 10 January makes their handoffs due");
    let t0 = Instant::now();
    env.tick("2026-01-10");
    let arrived = eventually_async(
        Duration::from_secs(300),
        Duration::from_millis(5),
        // counted in place: copying every webhook received on each poll held the receiver up
        || async { rx.count(is_handoff) >= 2 * n },
    )
    .await;
    assert!(
        arrived,
        "every webhook arrives: {}",
        handoffs(&rx.received()).len()
    );
    let got = handoffs(&rx.received());
    let mut first: HashMap<&str, Instant> = HashMap::new();
    for (id, at) in &got {
        first
            .entry(id.as_str())
            .and_modify(|t| *t = (*t).min(*at))
            .or_insert(*at);
    }
    assert_eq!(first.len(), n, "one signal per youth");
    let mut ms: Vec<f64> = first
        .values()
        .map(|t| t.duration_since(t0).as_secs_f64() * 1000.0)
        .collect();
    ms.sort_by(f64::total_cmp);
    let arrivals: Vec<Instant> = got.iter().map(|(_, at)| *at).collect();
    let (a, z) = (
        *arrivals.iter().min().expect("arrivals"),
        *arrivals.iter().max().expect("arrivals"),
    );
    let window = z.duration_since(a).as_secs_f64().max(1e-3);
    let report = serde_json::json!({
        "signals": n,
        "per_endpoint_concurrency": if per_endpoint == "0" { "default (8)".to_owned() } else { per_endpoint.clone() },
        "order_grace": if grace == "0ms" { "default (50ms)".to_owned() } else { grace.clone() },
        "deliveries": arrivals.len(),
        "tick_to_first_webhook_p50_ms": r1(percentile(&ms, 0.5)),
        "tick_to_first_webhook_p99_ms": r1(percentile(&ms, 0.99)),
        "tick_to_last_first_webhook_ms": r1(*ms.last().expect("signals")),
        "tick_to_first_arrival_ms": r1(ms[0]),
        "deliveries_per_s": (arrivals.len() as f64 / window).round(),
        "target_p99_ms": 1000,
        "target_deliveries_per_s": 2000,
    });
    println!("{}", serde_json::to_string_pretty(&report).expect("json"));
    write_figures(&out, &report);
    eprintln!("written to {out}");
}
