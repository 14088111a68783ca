//! `make bench-broker`: the floor the broker sets, on Apache Kafka, in one run.
//!
//! Produce: the same records (Avro facts with their CloudEvents headers, keyed by child) with
//! the project's producer settings (acks=all, idempotent, linger 5 ms, lz4) and with
//! librdkafka's defaults, each with up to 10 000 records in flight. Consume: the same topic read
//! to its end by a consumer with the project's input settings (rules) and by a bare consumer
//! with librdkafka's defaults. Figures are records/s and their ratios; printed and written as
//! JSON (`--out`).

use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::{ClientConfig, Offset, TopicPartitionList};
use schakel_core::domain::catalogue::Topic;
use schakel_core::log::kafka;
use schakel_e2e::bench::{arg, write_figures};
use schakel_e2e::Region;

/// `n` records as ingest writes facts: a 64-hex key, ~300 bytes of value, nine headers.
fn records(n: usize) -> Vec<(String, Vec<u8>)> {
    (0..n)
        .map(|i| {
            let key = format!("{:064x}", (i as u128).wrapping_mul(0x9e37_79b9_7f4a_7c15));
            let mut value = vec![0xC3, 0x01];
            value.extend((0..300).map(|j| ((i * 31 + j * 7) % 251) as u8));
            (key, value)
        })
        .collect()
}

fn headers(i: usize) -> OwnedHeaders {
    let id = format!("bench-{i}");
    [
        ("ce_specversion", "1.0"),
        ("ce_id", id.as_str()),
        ("ce_source", "urn:nld:gemeente:0392:systeem:jeugdhulp"),
        ("ce_type", "nl.schakel.jeugdhulp.assignment-issued.v1"),
        ("ce_time", "2026-01-02T09:00:00+01:00"),
        ("ce_dataschema", "urn:nl:schakel:schema:source.jeugdhulp.v1"),
        ("ce_datacontenttype", "application/avro"),
        ("content-type", "application/avro"),
        (
            "traceparent",
            "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
        ),
    ]
    .iter()
    .fold(OwnedHeaders::new(), |h, (k, v)| {
        h.insert(Header {
            key: k,
            value: Some(v.as_bytes()),
        })
    })
}

/// Produces every record to `topic` with these settings: records/s.
async fn produce(config: ClientConfig, topic: &str, recs: &[(String, Vec<u8>)]) -> f64 {
    let producer: FutureProducer = config.create().expect("producer");
    let start = Instant::now();
    let mut inflight = std::collections::VecDeque::new();
    for (i, (k, v)) in recs.iter().enumerate() {
        let fut = producer.send_result(
            FutureRecord::to(topic)
                .key(k.as_str())
                .payload(v.as_slice())
                .headers(headers(i)),
        );
        match fut {
            Ok(f) => inflight.push_back(f),
            Err((e, _)) => panic!("queueing a record: {e}"),
        }
        while inflight.len() >= 10_000 {
            let f = inflight.pop_front().expect("one");
            f.await.expect("delivery").expect("acknowledged");
        }
    }
    for f in inflight {
        f.await.expect("delivery").expect("acknowledged");
    }
    recs.len() as f64 / start.elapsed().as_secs_f64()
}

/// Reads `topic` from the beginning to `total` records: records/s.
fn consume(config: ClientConfig, topic: &str, partitions: &[i32], total: usize) -> f64 {
    let consumer: BaseConsumer = config.create().expect("consumer");
    let mut tpl = TopicPartitionList::new();
    for p in partitions {
        tpl.add_partition_offset(topic, *p, Offset::Beginning)
            .expect("tpl");
    }
    let start = Instant::now();
    consumer.assign(&tpl).expect("assign");
    let mut n = 0;
    while n < total {
        if let Some(m) = consumer.poll(Duration::from_millis(500)) {
            m.expect("record");
            n += 1;
        }
    }
    total as f64 / start.elapsed().as_secs_f64()
}

#[tokio::main]
async fn main() {
    if std::env::args().any(|a| a == "--help" || a == "-h") {
        println!(
            "bench-broker [--records N (300000)] [--out FILE]\n\n\
             Produce and consume rates on Apache Kafka: the project's producer settings against\n\
             librdkafka's defaults, the project's input consumer against a bare consumer, in one\n\
             run. Writes JSON to --out (default .run/bench/bench-broker.json)."
        );
        return;
    }
    let n = arg("--records", 300_000);
    let out = std::env::args()
        .skip_while(|a| a != "--out")
        .nth(1)
        .unwrap_or_else(|| ".run/bench/bench-broker.json".into());
    eprintln!("starting a broker …");
    let env = Region::new().start();
    let recs = records(n);
    // two topics of the same shape, so each producer starts on an empty one
    let project_topic = env.config.topic(Topic::JEUGDHULP);
    let default_topic = env.config.topic(Topic::SCHOOL);
    let consumer: BaseConsumer = kafka::client_config(&env.config).create().expect("c");
    let partitions = kafka::partitions(&consumer, &project_topic).expect("partitions");

    eprintln!("producing {n} records with the project's settings …");
    let mut cfg = env.config.clone();
    cfg.kafka.produce_timeout = Duration::from_secs(300);
    let p_project = produce(kafka::producer_config(&cfg), &project_topic, &recs).await;
    eprintln!("    {p_project:.0} records/s");
    eprintln!("producing {n} records with librdkafka's defaults …");
    let p_default = produce(kafka::client_config(&env.config), &default_topic, &recs).await;
    eprintln!("    {p_default:.0} records/s");

    // each consumer reads the topic twice, in turns; the better of its two runs counts (the
    // first read of a run pays for connections and metadata)
    let group = |g: &str| format!("bench-{g}-{}", schakel_core::log::trace::random_hex(4));
    let project = || {
        let mut c = kafka::assigned_consumer_config(&env.config, &group("project"));
        c.set("enable.partition.eof", "false");
        c
    };
    let bare = || {
        let mut c = kafka::client_config(&env.config);
        c.set("group.id", group("bare"));
        c
    };
    let (mut c_project, mut c_bare) = (0.0f64, 0.0f64);
    for round in 1..=2 {
        eprintln!("reading them back, round {round}: the project's input consumer …");
        let p = consume(project(), &project_topic, &partitions, n);
        eprintln!("    {p:.0} records/s");
        eprintln!("reading them back, round {round}: a bare consumer …");
        let b = consume(bare(), &project_topic, &partitions, n);
        eprintln!("    {b:.0} records/s");
        c_project = c_project.max(p);
        c_bare = c_bare.max(b);
    }

    let r = |a: f64, b: f64| (a / b * 100.0).round() / 100.0;
    let report = serde_json::json!({
        "records": n,
        "value_bytes": 302,
        "produce_project_records_per_s": p_project.round(),
        "produce_librdkafka_defaults_records_per_s": p_default.round(),
        "ratio_produce_project_over_defaults": r(p_project, p_default),
        "consume_project_records_per_s": c_project.round(),
        "consume_bare_records_per_s": c_bare.round(),
        "ratio_consume_project_over_bare": r(c_project, c_bare),
    });
    println!("{}", serde_json::to_string_pretty(&report).expect("json"));
    write_figures(&out, &report);
    eprintln!("written to {out}");
}
