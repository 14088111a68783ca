//! What the services expose on `/metrics` after a fact went all the way to a webhook: only
//! the families of the one list (`schakel_core::runtime::metrics::FAMILIES`), each with its
//! declared labels and its HELP and TYPE, no label value that could be a child, and the
//! series an operator watches (requests, work durations, consumer lag, deliveries by outcome,
//! the age of a signal when delivered, readiness) with the values this flow must give them.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use jiff::civil::date;
use schakel_core::runtime::metrics::{family_of, Kind};
use schakel_e2e::receiver::Receiver;
use schakel_e2e::{
    assignment_event, bsns, eventually_async, handoff_desks, scrape, Env, Region, JEUGDHULP_TOKEN,
};

const SECRET: &str = "whsec_dGVzdC1zZWNyZXQtbWV0cmljcy0wMTIzNDU2Nzg5YWI=";

/// One sample: its series name, labels and value.
#[derive(Debug)]
struct Sample {
    name: String,
    labels: BTreeMap<String, String>,
    value: f64,
}

fn parse(text: &str) -> (Vec<Sample>, BTreeSet<String>) {
    let mut samples = Vec::new();
    let mut helped = BTreeSet::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# HELP ") {
            helped.insert(rest.split(' ').next().unwrap_or("").to_owned());
            continue;
        }
        if line.starts_with('#') || line.is_empty() {
            continue;
        }
        let (series, value) = line.rsplit_once(' ').expect("name and value");
        let (name, labels) = match series.split_once('{') {
            Some((n, l)) => (n, l.trim_end_matches('}')),
            None => (series, ""),
        };
        let mut map = BTreeMap::new();
        for pair in labels.split("\",").filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once("=\"").expect("label=\"value\"");
            map.insert(k.to_owned(), v.trim_end_matches('"').to_owned());
        }
        samples.push(Sample {
            name: name.to_owned(),
            labels: map,
            value: value.parse().expect("a number"),
        });
    }
    (samples, helped)
}

/// Every sample is of a declared family with exactly its labels (and `le` on buckets), every
/// family has its HELP, and no label value looks like a ChildKey, a BSN or a test name.
fn check_declared(service: &str, text: &str, bsn: &str) {
    let (samples, helped) = parse(text);
    assert!(!samples.is_empty(), "{service} exposes nothing");
    for s in &samples {
        let (family, bucket) = [("_bucket", true), ("_sum", false), ("_count", false)]
            .iter()
            .find_map(|(suffix, b)| {
                let base = s.name.strip_suffix(suffix)?;
                family_of(base)
                    .filter(|f| f.kind == Kind::Histogram)
                    .map(|f| (f, *b))
            })
            .or_else(|| family_of(&s.name).map(|f| (f, false)))
            .unwrap_or_else(|| panic!("{service}: {} is not a declared metric", s.name));
        let mut want: BTreeSet<&str> = family.labels.iter().copied().collect();
        if bucket {
            want.insert("le");
        }
        let got: BTreeSet<&str> = s.labels.keys().map(String::as_str).collect();
        assert_eq!(got, want, "{service}: labels of {}", s.name);
        assert!(
            helped.contains(family.name),
            "{service}: {} has no HELP",
            family.name
        );
        for v in s.labels.values() {
            let hex64 = v.len() >= 64 && v.bytes().filter(u8::is_ascii_hexdigit).count() >= 64;
            assert!(
                !hex64,
                "{service}: {} has a ChildKey-like label {v}",
                s.name
            );
            assert!(!v.contains(bsn), "{service}: {} names a BSN", s.name);
            assert!(
                !v.to_lowercase().contains("testachternaam"),
                "{service}: a name"
            );
        }
    }
}

fn value(text: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    parse(text).0.into_iter().find_map(|s| {
        (s.name == name
            && labels
                .iter()
                .all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(*v)))
        .then_some(s.value)
    })
}

async fn metrics_of(port: u16) -> String {
    tokio::task::spawn_blocking(move || scrape(port).unwrap_or_default())
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn every_series_is_declared_and_a_fact_to_a_webhook_is_measured() {
    let env = Region::new().start();
    let rx = Receiver::start(Duration::ZERO).await;
    env.apply_directory(&handoff_desks(&rx, SECRET));
    let _ingest = env.spawn_ingest();
    let _rules = env.spawn_rules();
    let _notify = env.spawn_notify();
    let _monitor = env.spawn_monitor();
    Env::await_ready(env.monitor_port, Duration::from_secs(60)).await;

    // turns 17y6m on 2026-01-12: the handoff task goes to the jeugdteam and the Wmo desk
    let bsn = &bsns(1, 61)[0];
    let (status, body) = env
        .post_batch(
            JEUGDHULP_TOKEN,
            &vec![assignment_event("m-1", bsn, "2008-07-12", "T610")].into(),
        )
        .await;
    assert_eq!(status, 202, "{body}");
    env.tick_days(date(2026, 1, 5), date(2026, 1, 12));
    assert!(
        eventually_async(
            Duration::from_secs(60),
            Duration::from_millis(200),
            || async { rx.received().len() >= 2 }
        )
        .await,
        "the two webhooks arrive"
    );
    let page = reqwest::get(format!("{}/login", env.monitor_url()))
        .await
        .unwrap();
    assert_eq!(page.status(), 200);

    // every partition of the inputs read and committed: the lag drops to 0 everywhere (each
    // service publishes the lag of its own group)
    let settled = |port: u16| async move {
        let lags: Vec<f64> = parse(&metrics_of(port).await)
            .0
            .into_iter()
            .filter(|s| s.name == "schakel_consumer_lag_records")
            .map(|s| s.value)
            .collect();
        !lags.is_empty() && lags.iter().all(|l| *l == 0.0)
    };
    assert!(
        eventually_async(
            Duration::from_secs(60),
            Duration::from_millis(500),
            || async { settled(env.rules_port).await && settled(env.notify_port).await }
        )
        .await,
        "rules and notify catch up: their consumer lag is 0 on every partition"
    );
    // the deliveries are recorded before the metrics say so; wait for both
    assert!(
        eventually_async(
            Duration::from_secs(30),
            Duration::from_millis(200),
            || async {
                let n = metrics_of(env.notify_port).await;
                value(
                    &n,
                    "schakel_notify_deliveries_total",
                    &[("channel", "webhook"), ("status", "succeeded")],
                )
                .is_some_and(|v| v >= 2.0)
            }
        )
        .await,
        "notify counts both deliveries as succeeded"
    );

    let ingest = metrics_of(env.ingest_port).await;
    let rules = metrics_of(env.rules_port).await;
    let notify = metrics_of(env.notify_port).await;
    let monitor = metrics_of(env.monitor_port).await;
    for (service, text) in [
        ("ingest", &ingest),
        ("rules", &rules),
        ("notify", &notify),
        ("monitor", &monitor),
    ] {
        check_declared(service, text, bsn);
        assert_eq!(
            value(text, "schakel_ready", &[]),
            Some(1.0),
            "{service} ready"
        );
        assert_eq!(value(text, "schakel_broker_reachable", &[]), Some(1.0));
    }
    // ingest: the request by its route, timed
    assert_eq!(
        value(
            &ingest,
            "schakel_http_requests_total",
            &[("route", "/v1/events"), ("code", "202")]
        ),
        Some(1.0)
    );
    assert_eq!(
        value(
            &ingest,
            "schakel_http_request_duration_seconds_count",
            &[("route", "/v1/events")]
        ),
        Some(1.0)
    );
    assert_eq!(
        value(&ingest, "schakel_ingest_events_accepted_total", &[]),
        Some(1.0)
    );
    // rules: the assignment and 8 days of ticks on every partition, each timed
    let read = value(&rules, "schakel_rules_record_duration_seconds_count", &[]).unwrap();
    assert!(read >= 9.0, "rules timed {read} records");
    // notify: both deliveries, timed, and their age since the signal entered the log
    let age = value(
        &notify,
        "schakel_notify_signal_age_seconds_count",
        &[("channel", "webhook")],
    );
    assert!(age.is_some_and(|n| n >= 2.0), "age of the signal: {age:?}");
    let inf = value(
        &notify,
        "schakel_notify_signal_age_seconds_bucket",
        &[("channel", "webhook"), ("le", "60")],
    );
    assert!(
        inf.is_some_and(|n| n >= 2.0),
        "delivered within a minute of the signal: {inf:?}"
    );
    assert!(value(
        &notify,
        "schakel_notify_delivery_duration_seconds_count",
        &[("channel", "webhook")]
    )
    .is_some_and(|n| n >= 2.0));
    assert_eq!(
        value(&notify, "schakel_notify_endpoints_disabled", &[]),
        Some(0.0)
    );
    // monitor: the login page by its route
    assert_eq!(
        value(
            &monitor,
            "schakel_http_requests_total",
            &[("route", "/login"), ("code", "200")]
        ),
        Some(1.0)
    );
}
