//! `make bench-rules`: how fast the rules engine folds a synthetic region, in process and
//! through the real broker, against a bare consumer that only counts the same records.
//!
//! (a) in-process fold rate (events/s, no broker) and resident memory per child;
//! (b) full replay by the `schakel-rules` service: it restores (silently) up to offsets
//!     committed at the end of the log, timed from spawn until `/readyz` says it caught up;
//! (c) raw read rate of the same topics by an rdkafka `BaseConsumer` that only counts records;
//! (d) restore from a snapshot: the service (snapshots on, a new group) replays the log, writes
//!     a snapshot of every partition, stops on SIGTERM and is started again, timed from spawn
//!     until `/readyz`, with its resident memory;
//! (f) the replay of (b) by 1, 2 and 3 instances in one group.
//! `--whatif-only` (`make bench-whatif`): (e) the replay of `schakel whatif` under two policies
//! against one plain replay, in process: the folds alone, and replays from the log's records.
//! Figures are printed and written as JSON (`--out`).

use std::collections::HashMap;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use jiff::civil::Date;
use jiff::tz::TimeZone;
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
use schakel_core::log::kafka::{self, CloudEvent, Outgoing, Producer, Record};
use schakel_core::log::trace::TraceParent;
use schakel_e2e::bench::{arg, write_figures};
use schakel_e2e::{bin, free_port, wait_for_port, Env, Region};
use schakel_rules::policy::Policy;
use schakel_rules::replay::{Decoded, Fold, FOLDED};
use schakel_rules::service::INPUTS;
use schakel_rules::whatif::{Report, WhatIf};
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

/// Rounds seconds to hundredths, and a ratio likewise.
fn r2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// (e): the what-if replay of `schakel whatif` against one plain replay, in process, best of
/// `rounds`: first the folds alone, of inputs decoded beforehand; then replays from the log's
/// records, which decode and sort the records once, whatever folds them.
fn whatif_in_process(n: usize, rounds: usize) -> serde_json::Value {
    let days = ticks();
    let mut all = region(n);
    let facts = all.len();
    all.extend(days.iter().map(|d| Input::Tick(*d)));
    let mut alone: Option<FoldsAlone> = None;
    for round in 1..=rounds {
        let f = folds_alone(&all, facts, &days);
        eprintln!(
            "    round {round}, folds alone: plain {:.2} s, other policy {:.2} s, what-if {:.2} s",
            f.plain, f.other, f.whatif
        );
        alone = Some(match alone {
            None => f,
            Some(best) => best.best(f),
        });
    }
    let alone = alone.expect("a round");
    let tz = TimeZone::get("Europe/Amsterdam").expect("time zone");
    let records = log_records(&all[..facts], &tz);
    drop(all);
    let mut from_log: Option<FromLog> = None;
    for round in 1..=rounds {
        let r = replays(&records, &tz, &days);
        eprintln!(
            "    round {round}, from the log: plain {:.2} s (decode {:.2}, sort {:.2}, fold {:.2}), \
             what-if {:.2} s (decode {:.2}, sort {:.2}, fold {:.2}, report {:.2})",
            r.plain.total(),
            r.plain.decode,
            r.plain.sort,
            r.plain.fold,
            r.whatif.total(),
            r.whatif.decode,
            r.whatif.sort,
            r.whatif.fold,
            r.whatif.report
        );
        from_log = Some(match from_log {
            None => r,
            Some(best) => best.best(r),
        });
    }
    let from_log = from_log.expect("a round");
    let (ratio_alone, ratio_log) = (
        alone.whatif / alone.plain,
        from_log.whatif.total() / from_log.plain.total(),
    );
    serde_json::json!({
        "children": n,
        "rounds": rounds,
        "ratio_replay_from_log_whatif_over_plain": r2(ratio_log),
        "ratio_folds_alone_whatif_over_plain": r2(ratio_alone),
        "target": "ratio_replay_from_log_whatif_over_plain <= 2.2",
        "replay_from_log": from_log.json(&records),
        "folds_alone": alone.json(),
    })
}

/// The other policy of the what-if: the handoff starts at 17y instead of 17y6m.
fn other_policy() -> Policy {
    let mut other = Policy::default();
    other.adulthood.handoff_age = schakel_rules::policy::Age::new(17, 0);
    other
}

/// (e1) in seconds: one engine under the default policy, one under the other policy, and the
/// what-if's two engines in one pass, with its report.
struct FoldsAlone {
    plain: f64,
    other: f64,
    whatif: f64,
    events: usize,
    plain_steps: usize,
    other_steps: usize,
    report: Report,
}

impl FoldsAlone {
    /// The best time of each fold, of two rounds.
    fn best(self, other: Self) -> Self {
        Self {
            plain: self.plain.min(other.plain),
            other: self.other.min(other.other),
            whatif: self.whatif.min(other.whatif),
            ..self
        }
    }

    fn json(&self) -> serde_json::Value {
        let events = self.events as f64;
        serde_json::json!({
            "events": self.events,
            "plain_s": r2(self.plain),
            "plain_events_per_s": (events / self.plain).round(),
            "plain_signal_steps": self.plain_steps,
            "other_policy_s": r2(self.other),
            "other_policy_signal_steps": self.other_steps,
            "whatif_s": r2(self.whatif),
            "whatif_events_per_s_per_policy": (events / self.whatif).round(),
            "whatif_steps_base": self.report.steps_base,
            "whatif_steps_other": self.report.steps_other,
            "whatif_change_rows": self.report.changes.len(),
            "ratio_whatif_over_plain": r2(self.whatif / self.plain),
            "ratio_whatif_over_plain_and_other_policy": r2(self.whatif / (self.plain + self.other)),
        })
    }
}

/// (e1): the folds alone, of the region's facts and a year of ticks decoded beforehand
/// (`all`, its first `facts` the facts).
fn folds_alone(all: &[Input], facts: usize, days: &[Date]) -> FoldsAlone {
    let one = |policy: Policy| {
        let start = Instant::now();
        let mut engine = Engine::new(policy);
        let mut steps = 0;
        for i in all {
            steps += engine.apply(i).map_or(0, |s| s.len());
        }
        let secs = start.elapsed().as_secs_f64();
        drop(engine);
        (secs, steps)
    };
    let (plain, plain_steps) = one(Policy::default());
    let (other, other_steps) = one(other_policy());
    // cut as a replay cuts them (`Replay::fold_into`): a month's inputs up to the tick of the
    // next month's first day, together (here the facts all come before the first tick)
    let (first, last) = (days[0], *days.last().expect("a year of days"));
    let mut months = Vec::new();
    let mut begin = 0;
    for (i, input) in all.iter().enumerate().skip(facts) {
        if let Input::Tick(d) = input {
            if (d.day() == 1 && *d != first) || *d == last {
                months.push(&all[begin..=i]);
                begin = i + 1;
            }
        }
    }
    let start = Instant::now();
    let mut w = WhatIf::new(Policy::default(), other_policy(), first, last);
    for month in months {
        w.fold_all(month);
    }
    let report = w.report();
    let whatif = start.elapsed().as_secs_f64();
    drop(w);
    FoldsAlone {
        plain,
        other,
        whatif,
        events: all.len(),
        plain_steps,
        other_steps,
        report,
    }
}

/// The region's facts as the log holds them: Avro records as ingest writes them, on the
/// folded topics, six partitions by child, stamped over the year of ticks (a child's facts on
/// one day, a second apart) with offsets in the order of their stamps.
fn log_records(facts: &[Input], tz: &TimeZone) -> Vec<(Topic, Vec<Record>)> {
    const PARTITIONS: usize = 6;
    let reg = schakel_core::log::schemas::registry();
    let ms = |d: Date| {
        d.to_zoned(tz.clone())
            .expect("a day in the zone")
            .timestamp()
            .as_millisecond()
    };
    // before the last day begins: what comes later waits for the next day's tick
    let first = ms(TODAY);
    let span = ms(TODAY.saturating_add(i64::from(DAYS - 1).days())) - first;
    let mut r = Rng(0x5eed_1234_abcd_0002);
    // (topic, partition) → its records, numbered once they are in the order of their stamps
    let mut logs: HashMap<(usize, usize), Vec<Record>> = HashMap::new();
    let mut at = 0;
    let mut last_child = String::new();
    for input in facts {
        macro_rules! encoded {
            ($topic:expr, $e:expr) => {
                (
                    $topic,
                    &$e.child.child_key,
                    reg.encode($topic, $e).expect("encode"),
                )
            };
        }
        let (topic, key, value) = match input {
            Input::Jeugdhulp(e) => encoded!(Topic::JEUGDHULP, e),
            Input::School(e) => encoded!(Topic::SCHOOL, e),
            Input::Voorschool(e) => encoded!(Topic::VOORSCHOOL, e),
            Input::Leerplicht(e) => encoded!(Topic::LEERPLICHT, e),
            _ => unreachable!("only facts"),
        };
        let key = key.as_str();
        if key != last_child {
            at = first + r.below(span as u64 - 60_000) as i64;
            last_child = key.to_owned();
        } else {
            at += 1_000;
        }
        let rank = FOLDED.iter().position(|t| *t == topic).expect("folded");
        let partition = usize::from_str_radix(&key[..4], 16).expect("hex") % PARTITIONS;
        logs.entry((rank, partition)).or_default().push(Record {
            topic: topic.name().to_owned(),
            partition: partition as i32,
            offset: 0,
            key: Some(key.to_owned()),
            value: Some(value),
            timestamp: Some(at),
            trace: None,
        });
    }
    FOLDED
        .iter()
        .enumerate()
        .map(|(rank, topic)| {
            let mut records = Vec::new();
            for partition in 0..PARTITIONS {
                let mut log = logs.remove(&(rank, partition)).unwrap_or_default();
                log.sort_by_key(|r| r.timestamp);
                for (offset, r) in log.iter_mut().enumerate() {
                    r.offset = offset as i64;
                }
                records.append(&mut log);
            }
            (*topic, records)
        })
        .collect()
}

/// Seconds of a replay's steps: decoding the records, putting them in log order, folding, and
/// (for a what-if) the report.
#[derive(Clone, Copy)]
struct Phases {
    decode: f64,
    sort: f64,
    fold: f64,
    report: f64,
}

impl Phases {
    fn total(&self) -> f64 {
        self.decode + self.sort + self.fold + self.report
    }
}

/// A replay from the log's records into `into`, as `schakel whatif` makes it; and how many
/// inputs it folded.
fn replay(
    records: &[(Topic, Vec<Record>)],
    into: &mut impl Fold,
    tz: &TimeZone,
    days: &[Date],
) -> (Phases, u64) {
    let start = Instant::now();
    let mut decoded = Decoded::default();
    for (topic, records) in records {
        assert_eq!(decoded.add(*topic, records), 0, "every record decodes");
    }
    let decode = start.elapsed().as_secs_f64();
    let start = Instant::now();
    let ordered = decoded.in_log_order();
    let sort = start.elapsed().as_secs_f64();
    let start = Instant::now();
    let (from, to) = (days[0], *days.last().expect("a year of days"));
    let inputs = ordered
        .fold_into(into, tz, from, to, |_, _| {})
        .expect("a year of days");
    let fold = start.elapsed().as_secs_f64();
    let phases = Phases {
        decode,
        sort,
        fold,
        report: 0.0,
    };
    (phases, inputs)
}

/// (e2): a plain replay from the log's records into one engine, and the what-if's into two.
struct FromLog {
    plain: Phases,
    whatif: Phases,
    events: u64,
    children: usize,
    report: Report,
}

impl FromLog {
    /// Of two rounds, the faster replay of each kind.
    fn best(self, other: Self) -> Self {
        let faster = |a: Phases, b: Phases| if b.total() < a.total() { b } else { a };
        Self {
            plain: faster(self.plain, other.plain),
            whatif: faster(self.whatif, other.whatif),
            ..self
        }
    }

    fn json(&self, records: &[(Topic, Vec<Record>)]) -> serde_json::Value {
        let events = self.events as f64;
        let (p, w) = (&self.plain, &self.whatif);
        serde_json::json!({
            "records": records.iter().map(|(_, r)| r.len()).sum::<usize>(),
            "events": self.events,
            "children": self.children,
            "plain_s": r2(p.total()),
            "plain_events_per_s": (events / p.total()).round(),
            "plain_decode_s": r2(p.decode),
            "plain_sort_s": r2(p.sort),
            "plain_fold_s": r2(p.fold),
            "whatif_s": r2(w.total()),
            "whatif_events_per_s_per_policy": (events / w.total()).round(),
            "whatif_decode_s": r2(w.decode),
            "whatif_sort_s": r2(w.sort),
            "whatif_fold_s": r2(w.fold),
            "whatif_report_s": r2(w.report),
            "whatif_steps_base": self.report.steps_base,
            "whatif_steps_other": self.report.steps_other,
            "whatif_change_rows": self.report.changes.len(),
            "ratio_whatif_over_plain": r2(w.total() / p.total()),
            "ratio_whatif_fold_over_plain_fold": r2(w.fold / p.fold),
        })
    }
}

/// (e2): one round of both replays.
fn replays(records: &[(Topic, Vec<Record>)], tz: &TimeZone, days: &[Date]) -> FromLog {
    let mut engine = Engine::new(Policy::default());
    let (plain, events) = replay(records, &mut engine, tz, days);
    let children = engine.children();
    drop(engine);
    let (from, to) = (days[0], *days.last().expect("a year of days"));
    let mut w = WhatIf::new(Policy::default(), other_policy(), from, to);
    let (mut whatif, inputs) = replay(records, &mut w, tz, days);
    let start = Instant::now();
    let report = w.report();
    whatif.report = start.elapsed().as_secs_f64();
    drop(w);
    assert_eq!(inputs, events, "both replays fold every input");
    FromLog {
        plain,
        whatif,
        events,
        children,
        report,
    }
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

/// Commits the end of the log for `group`: the larger of the broker's high watermarks and
/// what the raw read saw, per partition. Returns those ends.
fn commit_end_of_log(
    env: &Env,
    group: &str,
    read: &HashMap<(String, i32), i64>,
) -> HashMap<(String, i32), i64> {
    let consumer: BaseConsumer = kafka::client_config(&env.config)
        .set("group.id", group)
        .set("enable.auto.commit", "false")
        .create()
        .expect("consumer");
    let mut ends = high_watermarks(env, &consumer);
    for (tp, o) in read {
        let e = ends.entry(tp.clone()).or_insert(*o);
        *e = (*e).max(*o);
    }
    kafka::commit(&consumer, &ends).expect("commit the end of the log for the group");
    ends
}

/// (b): the rules service replays everything up to offsets committed at the end of the log.
/// The end offsets are the larger of the broker's high watermarks and what the raw read saw.
async fn service_replay(
    env: &Env,
    total: usize,
    read: &HashMap<(String, i32), i64>,
) -> (f64, f64, u64) {
    let group = schakel_rules::config::Settings::from_config(&env.config)
        .expect("rules config")
        .rules
        .group;
    let ends = commit_end_of_log(env, &group, read);
    assert_eq!(
        ends.values().sum::<i64>() as usize,
        total,
        "every record is in the log"
    );
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
    while !is_ready(&client, port).await {
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
    (total as f64 / secs, secs, rss)
}

/// The log filter of the services (d) starts: the partitions' loads and snapshots, the group's
/// assignments and the shutdown.
const RESTORE_LOG: &str = "warn,schakel_rules::service=info,schakel_core::log::group=info,\
                           schakel_core::runtime::shutdown=info";

/// The lines of a service's log (text format) holding `message`, with their time.
fn log_lines<'a>(text: &'a str, message: &str) -> Vec<(Timestamp, &'a str)> {
    text.lines()
        .filter(|l| l.contains(message))
        .filter_map(|l| Some((l.split_whitespace().next()?.parse().ok()?, l)))
        .collect()
}

/// The value of `key=value` in a log line.
fn field<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    line.split_whitespace()
        .find_map(|w| w.strip_prefix(key)?.strip_prefix('='))
}

/// Seconds from `from` to `to`.
fn secs_between(from: Timestamp, to: Timestamp) -> f64 {
    to.duration_since(from).as_secs_f64()
}

/// A rules instance of `group` with snapshots on (every second), its log in `log`.
struct Snapshotting {
    child: std::process::Child,
    port: u16,
    log: std::path::PathBuf,
    spawned: Instant,
    spawned_at: Timestamp,
}

impl Snapshotting {
    fn spawn(env: &Env, group: &str, name: &str) -> Self {
        let port = free_port();
        let log = env.dir.join(name);
        let spawned_at = Timestamp::now();
        let spawned = Instant::now();
        let child = Command::new(bin("schakel-rules"))
            .env("SCHAKEL_CONFIG", &env.config_path)
            .env("SCHAKEL_RULES__LISTEN", format!("127.0.0.1:{port}"))
            .env("SCHAKEL_RULES__GROUP", group)
            .env("SCHAKEL_RULES__SNAPSHOTS", "true")
            .env("SCHAKEL_RULES__SNAPSHOT_EVERY", "1s")
            .env("SCHAKEL_LOG", RESTORE_LOG)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).expect("log file"))
            .spawn()
            .expect("spawn rules");
        Self {
            child,
            port,
            log,
            spawned,
            spawned_at,
        }
    }

    fn text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Polls `/readyz` until it answers 200: seconds since spawn.
    async fn ready(&mut self) -> f64 {
        wait_for_port(self.port, Duration::from_secs(60));
        let client = reqwest::Client::new();
        loop {
            if is_ready(&client, self.port).await {
                return self.spawned.elapsed().as_secs_f64();
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "rules exited ({status}) before it was ready; its log is {}",
                    self.log.display()
                );
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// SIGTERM, then polls until the process is gone: (seconds, exit code).
    async fn stop(mut self) -> (f64, Option<i32>) {
        let asked = Instant::now();
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        loop {
            if let Some(status) = self.child.try_wait().expect("wait for rules") {
                return (asked.elapsed().as_secs_f64(), status.code());
            }
            assert!(
                asked.elapsed() < Duration::from_secs(120),
                "rules did not stop within 120 s of SIGTERM; its log is {}",
                self.log.display()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// (d): what a restart from a snapshot took, and what came before it.
struct Restore {
    /// the first start: spawn → `/readyz` (a full replay, with snapshots on)
    first_ready_s: f64,
    /// the first start: spawn → every partition snapshotted
    snapshotted_s: f64,
    /// the bytes of the snapshots that cover the end of the log, all partitions
    snapshot_bytes: u64,
    /// the time the service took to write them, one after the other in its loop
    snapshot_write_s: f64,
    /// the first start's snapshots written after SIGTERM (0: nothing changed since the last)
    shutdown_snapshots: usize,
    stop_s: f64,
    stop_exit: Option<i32>,
    /// the restart: spawn → `/readyz`
    restore_s: f64,
    /// of it, from the restart's log: spawn → partitions assigned (process start, joining)
    join_s: Option<f64>,
    /// assigned → the last partition loaded (snapshot read and decoded, offsets, signals)
    load_s: Option<f64>,
    /// the last partition loaded → the last one live (folding the log after the snapshot)
    tail_s: Option<f64>,
    /// records after the snapshots, folded before live
    tail_records: i64,
    partitions: usize,
    /// partitions the restart loaded from a snapshot
    from_snapshot: usize,
    children: u64,
    rss_ready: u64,
    rss_peak: u64,
}

/// (d): the rules service of a new group with snapshots on replays the log (up to offsets
/// committed at its end) until ready and every partition's snapshot is written; it is stopped
/// with SIGTERM and started again, timed from spawn until `/readyz`.
async fn restore_from_snapshot(env: &Env, read: &HashMap<(String, i32), i64>) -> Restore {
    let group = format!(
        "bench-rules-restore-{}",
        schakel_core::log::trace::random_hex(4)
    );
    let ends = commit_end_of_log(env, &group, read);
    let partitions: std::collections::BTreeSet<i32> = ends.keys().map(|(_, p)| *p).collect();

    // the first start: a full replay; then a snapshot of every partition, once it is live
    let mut first = Snapshotting::spawn(env, &group, "bench-rules-restore-1.log");
    let first_ready_s = first.ready().await;
    // partition → (bytes, milliseconds to write) of its first snapshot
    let mut written: HashMap<i32, (u64, u64)> = HashMap::new();
    while written.len() < partitions.len() {
        if let Ok(Some(status)) = first.child.try_wait() {
            panic!(
                "rules exited ({status}) before its snapshots were written; its log is {}",
                first.log.display()
            );
        }
        assert!(
            first.spawned.elapsed() < Duration::from_secs(1800),
            "no snapshot of every partition within 30 min; the log is {}",
            first.log.display()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
        let text = first.text();
        // a partition is snapshotted only once it is live, that is once it has folded
        // everything up to its committed offsets, the end of the log
        for (_, line) in log_lines(&text, "snapshot written") {
            let p = field(line, "partition").and_then(|v| v.parse().ok());
            let bytes = field(line, "bytes").and_then(|v| v.parse().ok());
            let ms = field(line, "ms").and_then(|v| v.parse().ok());
            if let (Some(p), Some(bytes), Some(ms)) = (p, bytes, ms) {
                written.entry(p).or_insert((bytes, ms));
            }
        }
    }
    let snapshotted_s = first.spawned.elapsed().as_secs_f64();
    let log1 = first.log.clone();
    let (stop_s, stop_exit) = first.stop().await;
    let text = std::fs::read_to_string(&log1).unwrap_or_default();
    let asked = log_lines(&text, "shutdown requested")
        .first()
        .map(|(t, _)| *t);
    let shutdown_snapshots = asked.map_or(0, |asked| {
        log_lines(&text, "snapshot written")
            .iter()
            .filter(|(t, _)| *t >= asked)
            .count()
    });

    // the restart: every partition from its snapshot, nothing (or a tail) to fold
    let mut again = Snapshotting::spawn(env, &group, "bench-rules-restore-2.log");
    let sampler = schakel_e2e::rss::RssSampler::start(again.child.id());
    let restore_s = again.ready().await;
    let rss_ready = rss_bytes(&again.child.id().to_string());
    let rss_peak = (sampler.stop() * 1024.0 * 1024.0) as u64;
    let text = again.text();
    let spawned_at = again.spawned_at;
    let (stop2_s, stop2_exit) = again.stop().await;
    eprintln!("    the restarted instance stopped in {stop2_s:.2} s (exit {stop2_exit:?})");

    let assigned = log_lines(&text, "partitions assigned")
        .first()
        .map(|(t, _)| *t);
    let loaded = log_lines(&text, "partition loaded");
    let last_loaded = loaded.iter().map(|(t, _)| *t).max();
    let last_live = log_lines(&text, "partition live")
        .into_iter()
        .chain(log_lines(&text, "partition restored; live"))
        .map(|(t, _)| t)
        .max();
    let from_snapshot = loaded
        .iter()
        .filter(|(_, l)| field(l, "from_snapshot") == Some("true"))
        .count();
    let tail_records = loaded
        .iter()
        .filter_map(|(_, l)| field(l, "records_to_restore")?.parse::<i64>().ok())
        .sum();
    let children = loaded
        .iter()
        .filter_map(|(_, l)| field(l, "children")?.parse::<u64>().ok())
        .sum();
    assert_eq!(
        from_snapshot,
        partitions.len(),
        "every partition is restored from its snapshot; the restart's log is in {}",
        env.dir.display()
    );
    Restore {
        first_ready_s,
        snapshotted_s,
        snapshot_bytes: written.values().map(|(b, _)| b).sum(),
        snapshot_write_s: written.values().map(|(_, ms)| *ms as f64 / 1000.0).sum(),
        shutdown_snapshots,
        stop_s,
        stop_exit,
        restore_s,
        join_s: assigned.map(|a| secs_between(spawned_at, a)),
        load_s: assigned.zip(last_loaded).map(|(a, l)| secs_between(a, l)),
        tail_s: last_loaded.zip(last_live).map(|(l, v)| secs_between(l, v)),
        tail_records,
        partitions: partitions.len(),
        from_snapshot,
        children,
        rss_ready,
        rss_peak,
    }
}

impl Restore {
    fn json(&self, replay_s: f64) -> serde_json::Value {
        let opt = |x: Option<f64>| x.map(r2);
        serde_json::json!({
            "restore_s": r2(self.restore_s),
            "ratio_restore_over_replay_b": r2(self.restore_s / replay_s),
            "join_s": opt(self.join_s),
            "load_snapshot_s": opt(self.load_s),
            "fold_tail_s": opt(self.tail_s),
            "tail_records": self.tail_records,
            "partitions": self.partitions,
            "partitions_from_snapshot": self.from_snapshot,
            "children_restored": self.children,
            "snapshot_bytes": self.snapshot_bytes,
            "snapshot_write_s": r2(self.snapshot_write_s),
            "rss_bytes_at_ready": self.rss_ready,
            "rss_bytes_peak": self.rss_peak,
            "first_start_ready_s": r2(self.first_ready_s),
            "first_start_snapshotted_s": r2(self.snapshotted_s),
            "stop_s": r2(self.stop_s),
            "stop_exit_code": self.stop_exit,
            "snapshots_written_on_shutdown": self.shutdown_snapshots,
        })
    }
}

/// Rules with `k` instances in one new group, replaying everything up to offsets committed at
/// the end of the log: records/s of the whole, and the records each instance read.
/// Whether the rules instance on `port` answers `/readyz` with 200.
async fn is_ready(client: &reqwest::Client, port: u16) -> bool {
    client
        .get(format!("http://127.0.0.1:{port}/readyz"))
        .send()
        .await
        .is_ok_and(|r| r.status().is_success())
}

/// The input records a rules instance has counted (`schakel_rules_records_total`, all inputs).
async fn records_read(client: &reqwest::Client, port: u16) -> u64 {
    let Ok(r) = client
        .get(format!("http://127.0.0.1:{port}/metrics"))
        .send()
        .await
    else {
        return 0;
    };
    r.text()
        .await
        .unwrap_or_default()
        .lines()
        .filter(|l| l.starts_with("schakel_rules_records_total{"))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
        .sum()
}

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
    commit_end_of_log(env, &group, read);
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
    // every instance ready, and together they have read everything: an instance with no
    // partition yet is ready too, so readiness alone can end the wait before a rebalance
    // hands out the partitions. The counts are published at each commit (every 500 ms), so
    // the time may run up to that much long: the rate errs low.
    let each = loop {
        let mut all = true;
        let mut each = Vec::new();
        for (_, port) in &children {
            all &= is_ready(&client, *port).await;
            each.push(records_read(&client, *port).await);
        }
        if all && each.iter().sum::<u64>() >= total as u64 {
            break each;
        }
        assert!(
            start.elapsed() < Duration::from_secs(600),
            "{k} instance(s) read {each:?} of {total} records in 10 minutes"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let secs = start.elapsed().as_secs_f64();
    for (child, _) in &mut children {
        let _ = Command::new("kill").arg(child.id().to_string()).status();
        let _ = child.wait();
    }
    (total as f64 / secs, each)
}

#[tokio::main]
async fn main() {
    if std::env::args().any(|a| a == "--help" || a == "-h") {
        println!(
            "bench-rules [--children N (200000)] [--memory-children N (1000000)] [--whatif-only [--rounds N (2)]] [--out FILE]\n\n\
                  Measures (a) the in-process fold rate, (b) a full replay through the broker by\n\
                  the rules service, (c) the raw read rate of the same topics, (d) a restart of\n\
                  the rules service from its own snapshots (spawn → /readyz, its memory),\n\
                  (f) the replay by 1, 2 and 3 instances; and the memory per child of the fold\n\
                  at --memory-children. Writes JSON to --out (default\n\
                  .run/bench/bench-rules.json). --whatif-only: only the what-if replay of\n\
                  --memory-children children under two policies against one plain replay, in\n\
                  process, best of --rounds: the folds alone, and replays from the log's Avro\n\
                  records (decode, sort, fold) as schakel whatif makes them (default out\n\
                  .run/bench/bench-whatif.json)."
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
        let report = whatif_in_process(n_mem, arg("--rounds", 2).max(1));
        println!("{}", serde_json::to_string_pretty(&report).expect("json"));
        write_figures(&out, &report);
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
    let (rate_b, secs_b, rss_b) = service_replay(&env, total, &ends).await;
    eprintln!(
        "    {rate_b:.0} records/s ({secs_b:.2} s), service RSS {} MiB",
        rss_b >> 20
    );
    eprintln!("(d) restore from a snapshot: a first start writes them, SIGTERM, a restart …");
    let restore = restore_from_snapshot(&env, &ends).await;
    let part = |x: Option<f64>| x.map_or("?".to_owned(), |s| format!("{s:.2}"));
    eprintln!(
        "    first start: ready in {:.2} s, every partition snapshotted at {:.2} s ({:.1} MiB \
         written in {:.2} s); stopped in {:.2} s (exit {:?}, {} snapshot(s) written on shutdown)",
        restore.first_ready_s,
        restore.snapshotted_s,
        restore.snapshot_bytes as f64 / 1048576.0,
        restore.snapshot_write_s,
        restore.stop_s,
        restore.stop_exit,
        restore.shutdown_snapshots
    );
    eprintln!(
        "    restart: ready in {:.2} s ({:.2} of the full replay (b)): {} s until assigned, {} s \
         loading the snapshots, {} s folding {} records after them; RSS {} MiB at ready, \
         peak {} MiB",
        restore.restore_s,
        restore.restore_s / secs_b,
        part(restore.join_s),
        part(restore.load_s),
        part(restore.tail_s),
        restore.tail_records,
        restore.rss_ready >> 20,
        restore.rss_peak >> 20
    );

    let mut scale = Vec::new();
    let mut one = 0.0;
    for k in 1..=3 {
        eprintln!("(f) replay by {k} rules instance(s) in one group …");
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
        "b_service_replay_s": r2(secs_b),
        "service_rss_bytes_per_child": (rss_b as f64 / n as f64).round(),
        "d_restore_from_snapshot": restore.json(secs_b),
        "ratio_d_over_b": r2(restore.restore_s / secs_b),
        "memory": {
            "children": n_mem,
            "events": events_mem,
            "fold_events_per_s": rate_mem.round(),
            "resident_bytes_per_child": bytes_per_child.round(),
            "signals": signals_mem,
        },
        "targets": {
            "ratio_b_over_c": ">= 0.8",
            "resident_bytes_per_child_at_1m": "<= 256",
            "fold_events_per_s_at_1m": ">= 1000000",
            "d_restore_s_at_1m": "<= 10",
        },
    });
    println!("{}", serde_json::to_string_pretty(&report).expect("json"));
    write_figures(&out, &report);
    eprintln!("written to {out}");
}
