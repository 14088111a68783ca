//! `make bench-rules`: how fast the rules engine folds a synthetic region, in process and
//! through the real broker, against a bare consumer that only counts the same records.
//!
//! (a) in-process fold rate (events/s, no broker) and resident memory per child;
//! (b) full replay by the `schakel-rules` service: it restores (silently) up to offsets
//!     committed at the end of the log, timed from spawn until `/readyz` says it caught up;
//! (c) raw read rate of the same topics by an rdkafka `BaseConsumer` that only counts records.
//! Figures are printed and written as JSON (`--out`).

use std::collections::HashMap;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use jiff::civil::Date;
use jiff::{Timestamp, ToSpan};
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::{Message, Offset, TopicPartitionList};
use schakel_core::domain::catalogue::Topic;
use schakel_core::domain::dates::DatePrecision;
use schakel_core::domain::events::{
    ChildRef, ClockTick, JeugdhulpData, LeerplichtData, LocationRef, Product, SchoolData,
    SchoolRef, SourceEvent, VoorschoolData,
};
use schakel_core::domain::ids::{hex, ChildKey};
use schakel_core::log::kafka::{self, CloudEvent, Outgoing, Producer};
use schakel_core::log::trace::TraceParent;
use schakel_e2e::{bin, free_port, wait_for_port, Env, Region};
use schakel_rules::policy::Policy;
use schakel_rules::service::INPUTS;
use schakel_rules::whatif::WhatIf;
use schakel_rules::{Engine, Input};
use sha2::{Digest, Sha256};

const TODAY: Date = Date::constant(2026, 1, 1);
const DAYS: i32 = 365;

/// A small deterministic generator (xorshift64*), so every run sees the same region.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn chance(&mut self, percent_times_10: u64) -> bool {
        self.below(1000) < percent_times_10
    }
}

fn uuid(r: &mut Rng) -> String {
    let (a, b) = (r.next(), r.next());
    format!(
        "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xfff,
        b >> 52,
        b & 0xffff_ffff_ffff
    )
}

fn school(i: u64) -> SchoolRef {
    let brin = format!(
        "{:02}{}{}",
        i % 100,
        (b'A' + (i / 100 % 26) as u8) as char,
        (b'A' + (i / 2600 % 26) as u8) as char
    );
    SchoolRef {
        brin,
        vestiging: "00".into(),
    }
}

/// The synthetic region: every child has at least one fact; shares as in a Dutch region.
fn region(n: usize) -> Vec<Input> {
    let mut r = Rng(0x5eed_1234_abcd_0001);
    let mut out = Vec::with_capacity(n * 3 / 2);
    let t = Timestamp::from_second(1_735_725_600).expect("time");
    for i in 0..n {
        let age_days = r.below(23 * 365) as i64;
        let birth = TODAY.saturating_sub(age_days.days());
        let age = age_days / 365;
        let key = ChildKey::parse(&hex(&Sha256::digest(format!("bench-{i}")))).expect("key");
        let child = ChildRef {
            child_key: key,
            birth_date: birth,
            birth_date_precision: DatePrecision::Day,
            residence_municipality: Some(["0392", "0377", "0396", "0453"][i % 4].into()),
        };
        let sch = school(r.below(400));
        macro_rules! ev {
            ($variant:ident, $family:literal, $data:expr) => {
                out.push(Input::$variant(SourceEvent::new(
                    uuid(&mut r),
                    concat!("urn:nld:gemeente:0392:systeem:", $family).into(),
                    t,
                    child.clone(),
                    $data,
                )))
            };
        }
        let since = |d: i64| TODAY.saturating_sub(d.days());
        match age {
            0..=3 => ev!(
                Voorschool,
                "voorschool",
                VoorschoolData::PlacementStarted {
                    location: LocationRef {
                        lrk: format!("{:09}", 100_000_000 + r.below(900))
                    },
                    vve_indication: age >= 2 && r.chance(150),
                    date: since(r.below(300) as i64),
                    mentor: None,
                }
            ),
            4..=17 => {
                let vo = age >= 12;
                let grade = if vo {
                    (age - 11).min(6)
                } else {
                    (age - 3).min(8)
                };
                ev!(
                    School,
                    "las",
                    SchoolData::EnrolmentRegistered {
                        school: sch.clone(),
                        sector: if vo { "vo" } else { "po" }.into(),
                        grade: grade as i32,
                        start_date: Date::constant(2025, 8, 20),
                    }
                );
            }
            _ => {
                if r.chance(500) {
                    ev!(
                        School,
                        "las",
                        SchoolData::EnrolmentRegistered {
                            school: sch.clone(),
                            sector: "mbo".into(),
                            grade: 2,
                            start_date: Date::constant(2024, 8, 20),
                        }
                    );
                } else {
                    ev!(
                        Jeugdhulp,
                        "jeugdhulp",
                        JeugdhulpData::AssignmentIssued {
                            toewijzing_nummer: format!("T{i}"),
                            product: Product {
                                categorie: "45".into(),
                                code: None
                            },
                            ingangsdatum: since(400),
                            einddatum: None,
                            toewijzing_tijdstip: t,
                            verlengde_jeugdhulp: Some(true),
                            gemeente: "0392".into(),
                        }
                    );
                }
            }
        }
        if (3..4).contains(&age) && r.chance(700) {
            ev!(
                School,
                "las",
                SchoolData::ApplicationRegistered {
                    school: sch.clone(),
                    date: since(30)
                }
            );
        }
        if age == 11 && r.chance(900) {
            let vo = school(400 + r.below(60));
            ev!(
                School,
                "las",
                SchoolData::ApplicationRegistered {
                    school: vo.clone(),
                    date: since(-80)
                }
            );
            if r.chance(900) {
                ev!(
                    School,
                    "las",
                    SchoolData::AdmissionDecided {
                        school: vo,
                        date: since(-120),
                        decision: "toegelaten".into()
                    }
                );
            }
        }
        if (4..18).contains(&age) && r.chance(120) {
            ev!(
                School,
                "las",
                SchoolData::SupportStarted {
                    school: sch.clone(),
                    support: "opp".into(),
                    date: since(200)
                }
            );
        }
        if age < 18 && r.chance(100) {
            ev!(
                Jeugdhulp,
                "jeugdhulp",
                JeugdhulpData::AssignmentIssued {
                    toewijzing_nummer: format!("J{i}"),
                    product: Product {
                        categorie: "45".into(),
                        code: None
                    },
                    ingangsdatum: since(r.below(700) as i64),
                    einddatum: None,
                    toewijzing_tijdstip: t,
                    verlengde_jeugdhulp: None,
                    gemeente: "0392".into(),
                }
            );
        }
        if (5..18).contains(&age) && r.chance(5) {
            ev!(
                Leerplicht,
                "leerplicht",
                LeerplichtData::ThuiszitterRegistered {
                    since: since(r.below(90) as i64),
                    school: Some(sch.clone())
                }
            );
        }
    }
    out
}

fn ticks() -> Vec<Date> {
    (0..DAYS)
        .map(|d| TODAY.saturating_add(i64::from(d).days()))
        .collect()
}

fn rss_bytes(pid: &str) -> u64 {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    s.lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

/// (a): folds the region and a year of ticks in one engine; (events/s, bytes per child, signals).
fn fold_in_process(n: usize) -> (f64, f64, usize, usize) {
    let inputs = region(n);
    let before = rss_bytes("self");
    let start = Instant::now();
    let mut engine = Engine::new(Policy::default());
    let mut signals = 0;
    for i in &inputs {
        signals += engine.apply(i).map_or(0, |s| s.len());
    }
    for d in ticks() {
        signals += engine.apply(&Input::Tick(d)).map_or(0, |s| s.len());
    }
    let secs = start.elapsed().as_secs_f64();
    let after = rss_bytes("self");
    let events = inputs.len() + DAYS as usize;
    assert_eq!(engine.children(), n, "every child is in the state");
    let per_child = after.saturating_sub(before) as f64 / n as f64;
    drop(engine);
    (events as f64 / secs, per_child, signals, events)
}

/// (e): the what-if replay of `schakel whatif`: the region and a year of ticks folded by one
/// engine (the plain replay), then by the two engines of a what-if (the default policy and one
/// whose handoff starts at 17y) in one pass over the same inputs.
fn whatif_in_process(n: usize) -> serde_json::Value {
    let days = ticks();
    let all: Vec<Input> = region(n)
        .into_iter()
        .chain(days.iter().map(|d| Input::Tick(*d)))
        .collect();
    let start = Instant::now();
    let mut engine = Engine::new(Policy::default());
    let mut signals = 0;
    for i in &all {
        signals += engine.apply(i).map_or(0, |s| s.len());
    }
    let plain = start.elapsed().as_secs_f64();
    drop(engine);
    let mut other = Policy::default();
    other.adulthood.handoff_age = schakel_rules::policy::Age::new(17, 0);
    // the other policy alone: what its fold costs by itself
    let start = Instant::now();
    let mut engine = Engine::new(other.clone());
    let mut signals_other = 0;
    for i in &all {
        signals_other += engine.apply(i).map_or(0, |s| s.len());
    }
    let plain_other = start.elapsed().as_secs_f64();
    drop(engine);
    let start = Instant::now();
    let mut w = WhatIf::new(
        Policy::default(),
        other,
        days[0],
        *days.last().expect("a year of days"),
    );
    for i in &all {
        w.apply(i);
    }
    let report = w.report();
    let both = start.elapsed().as_secs_f64();
    let events = all.len() as f64;
    serde_json::json!({
        "children": n,
        "events": all.len(),
        "plain_replay_s": (plain * 100.0).round() / 100.0,
        "plain_events_per_s": (events / plain).round(),
        "plain_signal_steps": signals,
        "plain_other_policy_s": (plain_other * 100.0).round() / 100.0,
        "plain_other_policy_signal_steps": signals_other,
        "ratio_whatif_over_both_plain": (both / (plain + plain_other) * 100.0).round() / 100.0,
        "whatif_s": (both * 100.0).round() / 100.0,
        "whatif_events_per_s_per_policy": (events / both).round(),
        "whatif_steps_base": report.steps_base,
        "whatif_steps_other": report.steps_other,
        "whatif_change_rows": report.changes.len(),
        "ratio_whatif_over_plain": (both / plain * 100.0).round() / 100.0,
        "target_ratio": "<= 2.2",
    })
}

async fn produce(env: &Env, inputs: &[Input]) -> usize {
    // as ingest writes them, with room for a long queue
    let mut cfg = env.config.clone();
    cfg.kafka.produce_timeout = Duration::from_secs(600);
    let producer = Producer::new(&cfg).expect("producer");
    let mut inflight = tokio::task::JoinSet::new();
    let mut sent = 0;
    for (k, i) in inputs.iter().enumerate() {
        let p = producer.clone();
        let i = i.clone();
        inflight.spawn(async move {
            macro_rules! send {
                ($e:expr) => {
                    p.send(Outgoing {
                        key: $e.child.child_key.as_str(),
                        value: &$e,
                        event: &CloudEvent::of_source($e, TraceParent::new_root()),
                        partition: None,
                    })
                    .await
                };
            }
            match &i {
                Input::School(e) => send!(e),
                Input::Voorschool(e) => send!(e),
                Input::Leerplicht(e) => send!(e),
                Input::Jeugdhulp(e) => send!(e),
                _ => unreachable!("only facts"),
            }
            .expect("produce")
        });
        sent += 1;
        while inflight.len() >= 5_000 {
            inflight.join_next().await.expect("task").expect("join");
        }
        if k % 200_000 == 0 && k > 0 {
            eprintln!("  produced {k} facts");
        }
    }
    while let Some(r) = inflight.join_next().await {
        r.expect("join");
    }
    for d in ticks() {
        for p in 0..6 {
            let tick = ClockTick {
                id: ClockTick::id_for(d),
                date: d,
                produced_at: Timestamp::now(),
            };
            let ev = CloudEvent::of_tick(&tick);
            producer
                .send(Outgoing {
                    key: &format!("clock-{p}"),
                    value: &tick,
                    event: &ev,
                    partition: Some(p),
                })
                .await
                .expect("tick");
            sent += 1;
        }
    }
    producer.flush(Duration::from_secs(30));
    sent
}

fn high_watermarks(env: &Env, consumer: &BaseConsumer) -> HashMap<(String, i32), i64> {
    let mut out = HashMap::new();
    for &t in INPUTS {
        let full = env.config.topic(t);
        for p in kafka::partitions(consumer, &full).expect("partitions") {
            let (_, high) = consumer
                .fetch_watermarks(&full, p, Duration::from_secs(10))
                .expect("watermarks");
            out.insert((full.clone(), p), high);
        }
    }
    out
}

/// (c): a bare consumer that only counts records: records/s.
fn raw_read(env: &Env, total: usize) -> (f64, HashMap<(String, i32), i64>) {
    let consumer: BaseConsumer = kafka::client_config(&env.config)
        .set(
            "group.id",
            format!("bench-raw-{}", schakel_core::log::trace::random_hex(4)),
        )
        .set("enable.auto.commit", "false")
        .set("enable.partition.eof", "false")
        .create()
        .expect("consumer");
    let ends = high_watermarks(env, &consumer);
    let mut tpl = TopicPartitionList::new();
    for (t, p) in ends.keys() {
        tpl.add_partition_offset(t, *p, Offset::Beginning)
            .expect("tpl");
    }
    let start = Instant::now();
    consumer.assign(&tpl).expect("assign");
    let mut n = 0usize;
    let mut end: HashMap<(String, i32), i64> = HashMap::new();
    while n < total {
        if let Some(m) = consumer.poll(Duration::from_millis(500)) {
            let m = m.expect("record");
            let e = end
                .entry((m.topic().to_owned(), m.partition()))
                .or_default();
            *e = (*e).max(m.offset() + 1);
            n += 1;
        }
    }
    (total as f64 / start.elapsed().as_secs_f64(), end)
}

/// (c'): the same read, decoding every record into what rules folds: records/s.
fn decoding_read(env: &Env, total: usize) -> f64 {
    let reg = schakel_core::log::schemas::registry();
    let consumer: BaseConsumer = kafka::client_config(&env.config)
        .set(
            "group.id",
            format!("bench-dec-{}", schakel_core::log::trace::random_hex(4)),
        )
        .set("enable.auto.commit", "false")
        .create()
        .expect("consumer");
    let ends = high_watermarks(env, &consumer);
    let mut tpl = TopicPartitionList::new();
    for (t, p) in ends.keys() {
        tpl.add_partition_offset(t, *p, Offset::Beginning)
            .expect("tpl");
    }
    let prefix = env.config.kafka.topic_prefix.clone();
    let start = Instant::now();
    consumer.assign(&tpl).expect("assign");
    let mut n = 0usize;
    while n < total {
        let Some(m) = consumer.poll(Duration::from_millis(500)) else {
            continue;
        };
        let m = m.expect("record");
        let topic = Topic::parse(m.topic().strip_prefix(&prefix).unwrap_or(m.topic()))
            .expect("a topic of the catalogue");
        let bytes = m.payload().unwrap_or_default();
        let ok = match topic {
            Topic::JEUGDHULP => reg.decode(topic, bytes).map(Input::Jeugdhulp).is_ok(),
            Topic::SCHOOL => reg.decode(topic, bytes).map(Input::School).is_ok(),
            Topic::VOORSCHOOL => reg.decode(topic, bytes).map(Input::Voorschool).is_ok(),
            Topic::LEERPLICHT => reg.decode(topic, bytes).map(Input::Leerplicht).is_ok(),
            _ => reg.decode::<ClockTick>(topic, bytes).is_ok(),
        };
        assert!(ok, "a record of {topic} decodes");
        n += 1;
    }
    total as f64 / start.elapsed().as_secs_f64()
}

/// (b): the rules service replays everything up to offsets committed at the end of the log.
/// The end offsets are the larger of the broker's high watermarks and what the raw read saw.
async fn service_replay(env: &Env, total: usize, read: &HashMap<(String, i32), i64>) -> (f64, u64) {
    let consumer: BaseConsumer = kafka::client_config(&env.config)
        .set(
            "group.id",
            &schakel_rules::config::Settings::from_config(&env.config)
                .expect("rules config")
                .rules
                .group,
        )
        .set("enable.auto.commit", "false")
        .create()
        .expect("consumer");
    let mut ends = high_watermarks(env, &consumer);
    for (tp, o) in read {
        let e = ends.entry(tp.clone()).or_insert(*o);
        *e = (*e).max(*o);
    }
    assert_eq!(
        ends.values().sum::<i64>() as usize,
        total,
        "every record is in the log"
    );
    kafka::commit(&consumer, &ends).expect("commit the end of the log for the rules group");
    drop(consumer);
    let port = free_port();
    let log = env.dir.join("bench-rules-replay.log");
    let start = Instant::now();
    let mut child = Command::new(bin("schakel-rules"))
        .env("SCHAKEL_CONFIG", &env.config_path)
        .env("SCHAKEL_RULES__LISTEN", format!("127.0.0.1:{port}"))
        .env("SCHAKEL_RULES__SNAPSHOTS", "false")
        .env("SCHAKEL_LOG", "warn,schakel_rules::service=info")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).expect("log file"))
        .spawn()
        .expect("spawn rules");
    wait_for_port(port, Duration::from_secs(60));
    let client = reqwest::Client::new();
    let url = format!("http://127.0.0.1:{port}/readyz");
    loop {
        if client
            .get(&url)
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let secs = start.elapsed().as_secs_f64();
    // how much of it was joining the group and loading the partitions
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    let at = |needle: &str| {
        text.lines()
            .filter(|l| l.contains(needle))
            .filter_map(|l| l.split_whitespace().next()?.parse::<Timestamp>().ok())
            .max()
    };
    if let (Some(loaded), Some(live)) = (at("partition loaded"), at("restored; live")) {
        let fold = live.duration_since(loaded).as_secs_f64();
        eprintln!(
            "    of {secs:.2} s: {:.2} s until every partition was loaded, {fold:.2} s folding after that",
            secs - fold
        );
    }
    let rss = rss_bytes(&child.id().to_string());
    let _ = Command::new("kill").arg(child.id().to_string()).status();
    let _ = child.wait();
    (total as f64 / secs, rss)
}

/// Rules with `k` instances in one new group, replaying everything up to offsets committed at
/// the end of the log: records/s of the whole, and the records each instance read.
async fn instances_replay(
    env: &Env,
    total: usize,
    read: &HashMap<(String, i32), i64>,
    k: usize,
) -> (f64, Vec<u64>) {
    let group = format!(
        "bench-rules-{k}x-{}",
        schakel_core::log::trace::random_hex(4)
    );
    let consumer: BaseConsumer = kafka::client_config(&env.config)
        .set("group.id", &group)
        .set("enable.auto.commit", "false")
        .create()
        .expect("consumer");
    let mut ends = high_watermarks(env, &consumer);
    for (tp, o) in read {
        let e = ends.entry(tp.clone()).or_insert(*o);
        *e = (*e).max(*o);
    }
    kafka::commit(&consumer, &ends).expect("commit the end of the log for the group");
    drop(consumer);
    let start = Instant::now();
    let mut children = Vec::new();
    for _ in 0..k {
        let port = free_port();
        let child = Command::new(bin("schakel-rules"))
            .env("SCHAKEL_CONFIG", &env.config_path)
            .env("SCHAKEL_RULES__LISTEN", format!("127.0.0.1:{port}"))
            .env("SCHAKEL_RULES__GROUP", &group)
            .env("SCHAKEL_RULES__SNAPSHOTS", "false")
            .env("SCHAKEL_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn rules");
        children.push((child, port));
    }
    for (_, port) in &children {
        wait_for_port(*port, Duration::from_secs(60));
    }
    let client = reqwest::Client::new();
    // every instance ready, and together they have read everything
    loop {
        let mut all = true;
        for (_, port) in &children {
            let url = format!("http://127.0.0.1:{port}/readyz");
            all &= client
                .get(&url)
                .send()
                .await
                .is_ok_and(|r| r.status().is_success());
        }
        if all && start.elapsed() > Duration::from_millis(500) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let secs = start.elapsed().as_secs_f64();
    let mut each = Vec::new();
    for (child, port) in &mut children {
        let text = client
            .get(format!("http://127.0.0.1:{port}/metrics"))
            .send()
            .await
            .expect("metrics")
            .text()
            .await
            .unwrap_or_default();
        let n: u64 = text
            .lines()
            .filter(|l| l.starts_with("schakel_rules_records_total{"))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
            .sum();
        each.push(n);
        let _ = Command::new("kill").arg(child.id().to_string()).status();
        let _ = child.wait();
    }
    (total as f64 / secs, each)
}

fn arg(name: &str, default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.replace('_', "").parse().ok())
        .unwrap_or(default)
}

#[tokio::main]
async fn main() {
    if std::env::args().any(|a| a == "--help" || a == "-h") {
        println!(
            "bench-rules [--children N (200000)] [--memory-children N (1000000)] [--whatif-only] [--out FILE]\n\n\
                  Measures (a) the in-process fold rate, (b) a full replay through the broker by\n\
                  the rules service, (c) the raw read rate of the same topics; and the memory per\n\
                  child of the fold at --memory-children. Writes JSON to --out (default\n\
                  .run/bench/bench-rules.json). --whatif-only: only the what-if replay of\n\
                  --memory-children children under two policies against one plain replay, in\n\
                  process (default out .run/bench/bench-whatif.json)."
        );
        return;
    }
    let n = arg("--children", 200_000);
    let n_mem = arg("--memory-children", 1_000_000);
    let whatif_only = std::env::args().any(|a| a == "--whatif-only");
    let out = std::env::args()
        .skip_while(|a| a != "--out")
        .nth(1)
        .unwrap_or_else(|| {
            if whatif_only {
                ".run/bench/bench-whatif.json".into()
            } else {
                ".run/bench/bench-rules.json".into()
            }
        });
    if whatif_only {
        eprintln!("(e) what-if replay of {n_mem} children and a year of ticks, in process …");
        let report = whatif_in_process(n_mem);
        let text = serde_json::to_string_pretty(&report).expect("json");
        println!("{text}");
        if let Some(dir) = std::path::Path::new(&out).parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        std::fs::write(&out, text + "\n").expect("write report");
        eprintln!("written to {out}");
        return;
    }

    eprintln!(
        "sizes: ChildState {} B, Fact {} B, Track {} B",
        std::mem::size_of::<schakel_rules::state::ChildState>(),
        std::mem::size_of::<schakel_rules::state::Fact>(),
        std::mem::size_of::<schakel_rules::state::Track>()
    );
    eprintln!("(a) folding {n_mem} children in process …");
    let (rate_mem, bytes_per_child, signals_mem, events_mem) = fold_in_process(n_mem);
    eprintln!("    {events_mem} events, {rate_mem:.0} events/s, {bytes_per_child:.0} B/child, {signals_mem} signals");
    eprintln!("(a) folding {n} children in process …");
    // (memory is measured once, on the first and larger fold: freed pages are reused after it)
    let (rate_a, _, signals, events) = fold_in_process(n);
    eprintln!("    {events} events, {rate_a:.0} events/s, {signals} signals");

    eprintln!("starting a broker and writing {n} children's events …");
    let env = Region::new().start();
    let inputs = region(n);
    let produced_at = Instant::now();
    let total = produce(&env, &inputs).await;
    eprintln!(
        "    {total} records in {:.1} s",
        produced_at.elapsed().as_secs_f64()
    );
    drop(inputs);

    eprintln!("(c) raw read by a counting BaseConsumer …");
    let (rate_c, ends) = raw_read(&env, total);
    eprintln!("    {rate_c:.0} records/s");
    eprintln!("(c') the same read, decoding every record …");
    let rate_c2 = decoding_read(&env, total);
    eprintln!("    {rate_c2:.0} records/s");
    eprintln!("(b) full replay by the rules service …");
    let (rate_b, rss_b) = service_replay(&env, total, &ends).await;
    eprintln!("    {rate_b:.0} records/s, service RSS {} MiB", rss_b >> 20);

    let mut scale = Vec::new();
    let mut one = 0.0;
    for k in 1..=3 {
        eprintln!("(d) replay by {k} rules instance(s) in one group …");
        let (rate, each) = instances_replay(&env, total, &ends, k).await;
        if k == 1 {
            one = rate;
        }
        eprintln!("    {rate:.0} records/s together; records read per instance {each:?}");
        scale.push(serde_json::json!({
            "instances": k,
            "records_per_s": rate.round(),
            "ratio_to_one": (rate / one * 100.0).round() / 100.0,
            "records_read_per_instance": each,
        }));
    }

    let report = serde_json::json!({
        "children": n,
        "instances": scale,
        "records": total,
        "a_fold_events_per_s": rate_a.round(),
        "b_service_replay_records_per_s": rate_b.round(),
        "c_raw_read_records_per_s": rate_c.round(),
        "c2_decoding_read_records_per_s": rate_c2.round(),
        "ratio_b_over_c2": (rate_b / rate_c2 * 100.0).round() / 100.0,
        "ratio_b_over_c": (rate_b / rate_c * 100.0).round() / 100.0,
        "ratio_a_over_c": (rate_a / rate_c * 100.0).round() / 100.0,
        "service_rss_bytes_per_child": (rss_b as f64 / n as f64).round(),
        "memory": {
            "children": n_mem,
            "events": events_mem,
            "fold_events_per_s": rate_mem.round(),
            "resident_bytes_per_child": bytes_per_child.round(),
            "signals": signals_mem,
        },
        "targets": { "ratio_b_over_c": ">= 0.8", "resident_bytes_per_child_at_1m": "<= 512" },
    });
    let text = serde_json::to_string_pretty(&report).expect("json");
    println!("{text}");
    if let Some(dir) = std::path::Path::new(&out).parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    std::fs::write(&out, text + "\n").expect("write report");
    eprintln!("written to {out}");
}
