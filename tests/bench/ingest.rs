//! `make bench-ingest`: what ingest costs beside Apache Kafka's own floor, on the real broker
//! with a release build of ingest:
//!
//! - (a) `--events` jeugdhulp facts about as many new children, posted over HTTP in batches of
//!   1 000 by 2 clients at once: events/s, and the CPU ingest spent per accepted event (its
//!   user + system time from `/proc`, over the events);
//! - (b) a bare produce of the same records (the facts and identity records ingest wrote, read
//!   back: same keys, values and partitions, nine CloudEvents-sized headers) with the project's
//!   producer settings, all in flight: records/s, and the ratio of the time it took to the
//!   time ingest took (target ≥ 0.5);
//! - (c) a CSV export of `--rows` enrolments of new children in one `POST
//!   /v1/imports/enrolments`: seconds and rows/s (target ≤ 10 s for 100 000).
//!
//! - (d) `schakel clock tick` (a process of its own, six partitions): the median of 11 calls,
//!   beside the median of `schakel --version` (starting and ending the process) as baseline.
//!
//! Printed, and written as JSON (`--out`, default `.run/bench/bench-ingest.json`).

use std::time::{Duration, Instant};

use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord};
use schakel_core::domain::catalogue::Topic;
use schakel_e2e::bench::{arg, post_concurrently, text_arg, write_figures};
use schakel_e2e::{assignment_event, bsns, Env, Region, JEUGDHULP_TOKEN, LAS_TOKEN};

/// User + system CPU seconds of a process, all threads (`/proc/<pid>/stat`, fields 14 and 15).
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // the command name is in parentheses and may hold spaces: count fields after it
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // fields 14 and 15 of stat are 12 and 13 after the state (field 3 is rest[0])
    (ticks(11) + ticks(12)) / 100.0
}

/// `n` BSNs of their own: seeds 270 and up, 25 000 a seed (the tests use seeds below 250).
fn many_bsns(n: usize, first_seed: u32) -> Vec<String> {
    let mut out = Vec::with_capacity(n);
    let mut seed = first_seed;
    while out.len() < n {
        out.extend(bsns((n - out.len()).min(25_000), seed));
        seed += 1;
    }
    out
}

fn r2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// (a): the facts over HTTP; (seconds, CPU seconds of ingest).
async fn over_http(env: &Env, pid: u32, events: usize) -> (f64, f64) {
    let people = many_bsns(events, 270);
    let batches: Vec<serde_json::Value> = people
        .chunks(1000)
        .enumerate()
        .map(|(b, chunk)| {
            serde_json::Value::Array(
                chunk
                    .iter()
                    .enumerate()
                    .map(|(i, bsn)| assignment_event(&format!("i{b}-{i}"), bsn, "2016-03-01", "N1"))
                    .collect(),
            )
        })
        .collect();
    let cpu = cpu_seconds(pid);
    let started = Instant::now();
    post_concurrently(&env.ingest_url(), JEUGDHULP_TOKEN, batches, 2).await;
    let secs = started.elapsed().as_secs_f64();
    (secs, cpu_seconds(pid) - cpu)
}

/// (b): the records ingest wrote, produced again as they are; (records, seconds).
async fn bare_produce(env: &Env) -> (usize, f64) {
    let mut records = Vec::new();
    for topic in [Topic::JEUGDHULP, Topic::IDENTITIES] {
        records.extend(env.read(topic));
    }
    let producer: FutureProducer = schakel_core::log::kafka::producer_config(&env.config)
        .set("queue.buffering.max.messages", "1000000")
        .create()
        .expect("producer");
    const HEADER: &[u8] = b"0123456789abcdef0123456789abcdef";
    let headers = || {
        (0..9).fold(OwnedHeaders::new(), |h, _| {
            h.insert(Header {
                key: "ce",
                value: Some(HEADER),
            })
        })
    };
    let started = Instant::now();
    let sends = records.iter().map(|r| {
        let mut rec: FutureRecord<'_, str, [u8]> = FutureRecord::to(&r.topic)
            .partition(r.partition)
            .headers(headers());
        if let Some(k) = &r.key {
            rec = rec.key(k.as_str());
        }
        if let Some(v) = &r.value {
            rec = rec.payload(v.as_slice());
        }
        producer.send(rec, Duration::from_secs(60))
    });
    for r in futures_util::future::join_all(sends).await {
        r.map_err(|(e, _)| e).expect("bare produce");
    }
    (records.len(), started.elapsed().as_secs_f64())
}

/// (c): one CSV import of `rows` enrolments of new children; seconds.
async fn csv_import(env: &Env, rows: usize) -> f64 {
    let mut csv = String::from(
        "leerlingnummer;bsn;geboortedatum;brin;vestiging;sector;groep;startdatum;voornamen;achternaam\r\n",
    );
    for (i, b) in many_bsns(rows, 280).iter().enumerate() {
        csv.push_str(&format!(
            "{};{b};{:02}-0{}-2016;12AB;00;po;{};01-08-2024;Benchvoornaam;Benchachternaam{i}\r\n",
            100_000 + i,
            1 + i % 28,
            1 + i % 9,
            1 + i % 8
        ));
    }
    let started = Instant::now();
    let res = reqwest::Client::new()
        .post(format!(
            "http://127.0.0.1:{}/v1/imports/enrolments",
            env.ingest_port
        ))
        .bearer_auth(LAS_TOKEN)
        .header("content-type", "text/csv")
        .body(csv)
        .timeout(Duration::from_secs(3600))
        .send()
        .await
        .expect("import");
    let status = res.status();
    let body: serde_json::Value = res.json().await.unwrap_or_default();
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["accepted"], rows, "every row accepted: {body}");
    started.elapsed().as_secs_f64()
}

/// (d): the median milliseconds of `schakel clock tick` and of `schakel --version`.
fn clock_ticks(env: &Env) -> (f64, f64) {
    let median = |args: &dyn Fn(usize) -> Vec<String>| {
        let mut ms: Vec<f64> = (0..11)
            .map(|i| {
                let started = Instant::now();
                let out = std::process::Command::new(schakel_e2e::bin("schakel"))
                    .args(args(i))
                    .env("SCHAKEL_CONFIG", &env.config_path)
                    .output()
                    .expect("schakel");
                assert!(out.status.success(), "{out:?}");
                started.elapsed().as_secs_f64() * 1000.0
            })
            .collect();
        ms.sort_by(f64::total_cmp);
        ms[5]
    };
    let tick = median(&|i| {
        vec![
            "clock".into(),
            "tick".into(),
            "--date".into(),
            format!("2027-01-{:02}", i + 1),
        ]
    });
    let start = median(&|_| vec!["--version".into()]);
    (tick, start)
}

#[tokio::main]
async fn main() {
    if std::env::args().any(|a| a == "--help" || a == "-h") {
        println!(
            "bench-ingest [--events N (20000)] [--rows N (100000)] [--out FILE]\n\n\
             Ingest against the broker's floor (release build, real broker): facts over HTTP in\n\
             batches of 1 000 (events/s, CPU per event), a bare produce of the same records, and\n\
             a CSV import of --rows enrolments. JSON to --out (.run/bench/bench-ingest.json)."
        );
        return;
    }
    let events = arg("--events", 20_000);
    let rows = arg("--rows", 100_000);
    let out = text_arg("--out").unwrap_or_else(|| ".run/bench/bench-ingest.json".into());
    let env = Region::new().start();
    let ingest = env.spawn_with(
        "schakel-ingest",
        env.ingest_port,
        &[("SCHAKEL_LOG", "warn")],
    );
    Env::await_ready(env.ingest_port, Duration::from_secs(60)).await;
    let pid = ingest.pid().expect("ingest runs");

    eprintln!("(a) {events} facts over HTTP, batches of 1 000, 2 clients");
    let (http_s, cpu_s) = over_http(&env, pid, events).await;
    eprintln!("(b) a bare produce of the records ingest wrote");
    let (records, bare_s) = bare_produce(&env).await;
    eprintln!("(c) a CSV import of {rows} enrolments");
    let cpu = cpu_seconds(pid);
    let csv_s = csv_import(&env, rows).await;
    let csv_cpu = cpu_seconds(pid) - cpu;
    eprintln!("(d) schakel clock tick, 11 calls");
    let (tick_ms, start_ms) = clock_ticks(&env);

    let report = serde_json::json!({
        "events": events,
        "http_s": r2(http_s),
        "http_events_per_s": (events as f64 / http_s).round(),
        "cpu_us_per_event": (cpu_s / events as f64 * 1e6).round(),
        "bare_records": records,
        "bare_s": r2(bare_s),
        "bare_records_per_s": (records as f64 / bare_s).round(),
        "ratio_bare_time_over_http_time": r2(bare_s / http_s),
        "target_ratio": ">= 0.5",
        "csv_rows": rows,
        "csv_s": r2(csv_s),
        "csv_rows_per_s": (rows as f64 / csv_s).round(),
        "csv_cpu_us_per_row": (csv_cpu / rows as f64 * 1e6).round(),
        "target_csv_s_at_100000": 10,
        "target_cpu_us_per_event": 20,
        "clock_tick_ms_median": r2(tick_ms),
        "process_start_ms_median": r2(start_ms),
        "target_clock_tick_ms": 100,
    });
    println!("{}", serde_json::to_string_pretty(&report).expect("json"));
    write_figures(&out, &report);
    eprintln!("written to {out}");
}
