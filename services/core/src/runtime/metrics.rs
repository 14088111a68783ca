//! The metrics every service exposes on `/metrics` (Prometheus text format 0.0.4), and the one
//! list of them: a series whose name or label names are not in [`FAMILIES`] is a bug (tests
//! panic on it; `tests/e2e` checks what the services expose against the list). Label values
//! are words from the code (a status, a rule, a topic), never a child, a BSN or a name.

use std::collections::BTreeMap;
use std::sync::Mutex;

/// What kind of series a family has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Counter,
    Gauge,
    Histogram,
}

impl Kind {
    fn word(self) -> &'static str {
        match self {
            Kind::Counter => "counter",
            Kind::Gauge => "gauge",
            Kind::Histogram => "histogram",
        }
    }
}

/// One metric: its name, kind, meaning and label names.
#[derive(Debug, Clone, Copy)]
pub struct Family {
    pub name: &'static str,
    pub kind: Kind,
    pub help: &'static str,
    pub labels: &'static [&'static str],
}

/// Upper bounds of the duration histograms, in seconds (work of one request or record).
pub const DURATION_BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

/// Upper bounds of the age of a signal when it is delivered, in seconds (a second to a week:
/// retries run for about a day and a half).
pub const AGE_BUCKETS: [f64; 12] = [
    1.0, 5.0, 15.0, 60.0, 300.0, 1800.0, 3600.0, 7200.0, 21600.0, 43200.0, 86400.0, 604800.0,
];

const fn family(
    name: &'static str,
    kind: Kind,
    help: &'static str,
    labels: &'static [&'static str],
) -> Family {
    Family {
        name,
        kind,
        help,
        labels,
    }
}

use Kind::{Counter, Gauge, Histogram};

/// Every metric of every service.
pub const FAMILIES: &[Family] = &[
    // every service
    family(
        "schakel_ready",
        Gauge,
        "1 when the service is caught up with its inputs and the broker answers, else 0",
        &[],
    ),
    family(
        "schakel_broker_reachable",
        Gauge,
        "1 when the broker answered the last metadata request, else 0",
        &[],
    ),
    family(
        "schakel_consumer_lag_records",
        Gauge,
        "records in a partition that the service's consumer group has not yet committed",
        &["group", "topic", "partition"],
    ),
    family(
        "schakel_http_requests_total",
        Counter,
        "HTTP requests answered, by route and status code",
        &["route", "code"],
    ),
    family(
        "schakel_http_request_duration_seconds",
        Histogram,
        "time to answer an HTTP request, by route",
        &["route"],
    ),
    // ingest
    family(
        "schakel_ingest_events_accepted_total",
        Counter,
        "events written to the log (acks=all) from any format",
        &[],
    ),
    family(
        "schakel_ingest_requests_refused_total",
        Counter,
        "requests answered with an error, by status code",
        &["status"],
    ),
    family(
        "schakel_ingest_import_rows_total",
        Counter,
        "CSV import rows read, by import kind",
        &["kind"],
    ),
    family(
        "schakel_ingest_connections_refused_total",
        Counter,
        "connections refused over ingest.max_connections",
        &[],
    ),
    // rules
    family(
        "schakel_rules_records_total",
        Counter,
        "input records processed and committed, by topic",
        &["topic"],
    ),
    family(
        "schakel_rules_record_duration_seconds",
        Histogram,
        "time to fold one input record and produce what it caused",
        &[],
    ),
    family(
        "schakel_rules_signals_total",
        Counter,
        "signal steps produced, by rule and step",
        &["rule", "step"],
    ),
    family(
        "schakel_rules_signals_already_written_total",
        Counter,
        "signal steps found already in the log after a restart (not written again)",
        &[],
    ),
    family(
        "schakel_rules_deadletters_total",
        Counter,
        "input records that could not be read, written to the dead-letter topic, by topic",
        &["topic"],
    ),
    // notify
    family(
        "schakel_notify_deliveries_total",
        Counter,
        "delivery attempts ended, by channel and status (succeeded, failed, dead-lettered, …)",
        &["channel", "status"],
    ),
    family(
        "schakel_notify_delivery_duration_seconds",
        Histogram,
        "time of one delivery attempt, by channel",
        &["channel"],
    ),
    family(
        "schakel_notify_signal_age_seconds",
        Histogram,
        "from the signal step entering the log to its delivery succeeding, by channel",
        &["channel"],
    ),
    family(
        "schakel_notify_pending_retries",
        Gauge,
        "deliveries waiting for their next attempt",
        &[],
    ),
    family(
        "schakel_notify_endpoints_disabled",
        Gauge,
        "webhook endpoints disabled after repeated failures",
        &[],
    ),
    family(
        "schakel_notify_followed_offsets_total",
        Counter,
        "signal records whose deliveries are all final, by topic",
        &["topic"],
    ),
    family(
        "schakel_notify_unroutable_total",
        Counter,
        "signal steps with a role nobody holds, by rule and role",
        &["rule", "role"],
    ),
    family(
        "schakel_notify_task_failures_total",
        Counter,
        "delivery tasks that failed unexpectedly",
        &[],
    ),
    family(
        "schakel_notify_ledger_write_errors_total",
        Counter,
        "failed writes to the delivery ledger (retried)",
        &[],
    ),
    family(
        "schakel_notify_illegal_steps_total",
        Counter,
        "delivery state changes refused as illegal",
        &[],
    ),
    family(
        "schakel_notify_endpoints_disabled_total",
        Counter,
        "times a webhook endpoint was disabled",
        &[],
    ),
    family(
        "schakel_notify_email_unconfigured_total",
        Counter,
        "e-mail deliveries planned without [notify.email]",
        &[],
    ),
    // monitor
    family(
        "schakel_monitor_pages_total",
        Counter,
        "pages shown or refused, by page and outcome",
        &["page", "outcome"],
    ),
    family(
        "schakel_monitor_logins_total",
        Counter,
        "logins, by outcome",
        &["outcome"],
    ),
    family(
        "schakel_monitor_links_total",
        Counter,
        "action links opened, by outcome",
        &["outcome"],
    ),
    family(
        "schakel_monitor_answers_total",
        Counter,
        "answers written to the log, by answer",
        &["answer"],
    ),
    family(
        "schakel_monitor_audit_records_total",
        Counter,
        "audit records of a read, by outcome",
        &["outcome"],
    ),
];

/// The family of `name`.
pub fn family_of(name: &str) -> Option<&'static Family> {
    FAMILIES.iter().find(|f| f.name == name)
}

/// The label names of a label string `a="x",b="y"`.
fn label_names(labels: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = labels;
    while let Some((name, after)) = rest.split_once("=\"") {
        out.push(name.trim_start_matches(','));
        // the value ends at the next unescaped quote
        let mut end = 0;
        let bytes = after.as_bytes();
        while end < bytes.len() && !(bytes[end] == b'"' && (end == 0 || bytes[end - 1] != b'\\')) {
            end += 1;
        }
        rest = &after[(end + 1).min(after.len())..];
    }
    out
}

/// Panics (in debug builds: the tests) when a series is not as [`FAMILIES`] declares it.
fn check(name: &str, labels: &str, kind: Kind) {
    if cfg!(debug_assertions) {
        let f = family_of(name).unwrap_or_else(|| panic!("metric {name} is not in FAMILIES"));
        assert_eq!(f.kind, kind, "metric {name} is a {}", f.kind.word());
        let mut got = label_names(labels);
        got.sort_unstable();
        let mut want = f.labels.to_vec();
        want.sort_unstable();
        assert_eq!(got, want, "labels of metric {name}");
    }
}

#[derive(Debug, Clone)]
enum Value {
    Counter(u64),
    Gauge(f64),
    Histogram {
        bounds: &'static [f64],
        counts: Vec<u64>,
        sum: f64,
        count: u64,
    },
}

/// The series of one service.
#[derive(Default)]
pub struct Metrics {
    series: Mutex<BTreeMap<(String, String), Value>>,
}

impl Metrics {
    /// Adds `n` to counter `name` with labels written `a="x",b="y"` (or empty).
    pub fn add(&self, name: &str, labels: &str, n: u64) {
        check(name, labels, Kind::Counter);
        let mut s = self.series.lock().expect("metrics lock");
        if let Value::Counter(v) = s
            .entry((name.to_owned(), labels.to_owned()))
            .or_insert(Value::Counter(0))
        {
            *v += n;
        }
    }

    pub fn inc(&self, name: &str, labels: &str) {
        self.add(name, labels, 1);
    }

    /// Sets gauge `name`.
    pub fn set(&self, name: &str, labels: &str, v: f64) {
        check(name, labels, Kind::Gauge);
        self.series
            .lock()
            .expect("metrics lock")
            .insert((name.to_owned(), labels.to_owned()), Value::Gauge(v));
    }

    /// Moves gauge `name` by `delta` (a count of things in some state).
    pub fn shift(&self, name: &str, labels: &str, delta: f64) {
        check(name, labels, Kind::Gauge);
        let mut s = self.series.lock().expect("metrics lock");
        if let Value::Gauge(v) = s
            .entry((name.to_owned(), labels.to_owned()))
            .or_insert(Value::Gauge(0.0))
        {
            *v += delta;
        }
    }

    /// Removes every series of gauge `name` (before setting the current ones, so a partition
    /// that moved away does not stay).
    pub fn clear(&self, name: &str) {
        self.series
            .lock()
            .expect("metrics lock")
            .retain(|(n, _), _| n != name);
    }

    /// Records `v` in histogram `name` with upper bounds `bounds`.
    pub fn observe(&self, name: &str, labels: &str, bounds: &'static [f64], v: f64) {
        check(name, labels, Kind::Histogram);
        let mut s = self.series.lock().expect("metrics lock");
        let e = s
            .entry((name.to_owned(), labels.to_owned()))
            .or_insert_with(|| Value::Histogram {
                bounds,
                counts: vec![0; bounds.len()],
                sum: 0.0,
                count: 0,
            });
        if let Value::Histogram {
            bounds,
            counts,
            sum,
            count,
        } = e
        {
            for (b, c) in bounds.iter().zip(counts.iter_mut()) {
                if v <= *b {
                    *c += 1;
                }
            }
            *sum += v;
            *count += 1;
        }
    }

    /// The value of a counter (0 when it has none).
    pub fn get(&self, name: &str, labels: &str) -> u64 {
        match self
            .series
            .lock()
            .expect("metrics lock")
            .get(&(name.to_owned(), labels.to_owned()))
        {
            Some(Value::Counter(v)) => *v,
            _ => 0,
        }
    }

    /// The Prometheus text of every series, each family with its HELP and TYPE.
    pub fn render(&self) -> String {
        let s = self.series.lock().expect("metrics lock");
        let mut out = String::new();
        let mut last = "";
        let with = |labels: &str, extra: &str| match (labels.is_empty(), extra.is_empty()) {
            (true, true) => String::new(),
            (true, false) => format!("{{{extra}}}"),
            (false, true) => format!("{{{labels}}}"),
            (false, false) => format!("{{{labels},{extra}}}"),
        };
        for ((name, labels), v) in s.iter() {
            if name != last {
                if let Some(f) = family_of(name) {
                    out.push_str(&format!(
                        "# HELP {name} {}\n# TYPE {name} {}\n",
                        f.help,
                        f.kind.word()
                    ));
                }
                last = name;
            }
            match v {
                Value::Counter(n) => out.push_str(&format!("{name}{} {n}\n", with(labels, ""))),
                Value::Gauge(g) => out.push_str(&format!("{name}{} {g}\n", with(labels, ""))),
                Value::Histogram {
                    bounds,
                    counts,
                    sum,
                    count,
                } => {
                    for (b, c) in bounds.iter().zip(counts) {
                        out.push_str(&format!(
                            "{name}_bucket{} {c}\n",
                            with(labels, &format!("le=\"{b}\""))
                        ));
                    }
                    out.push_str(&format!(
                        "{name}_bucket{} {count}\n{name}_sum{} {sum}\n{name}_count{} {count}\n",
                        with(labels, "le=\"+Inf\""),
                        with(labels, ""),
                        with(labels, "")
                    ));
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_family_is_named_as_prometheus_asks() {
        let mut names = std::collections::BTreeSet::new();
        for f in FAMILIES {
            assert!(names.insert(f.name), "{} twice", f.name);
            assert!(f.name.starts_with("schakel_"), "{}", f.name);
            assert!(
                f.name.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
                "{}",
                f.name
            );
            assert!(!f.help.is_empty(), "{} has no help", f.name);
            match f.kind {
                Kind::Counter => assert!(f.name.ends_with("_total"), "{}", f.name),
                Kind::Histogram => assert!(f.name.ends_with("_seconds"), "{}", f.name),
                Kind::Gauge => assert!(!f.name.ends_with("_total"), "{}", f.name),
            }
            for l in f.labels {
                assert!(
                    !["child", "child_key", "bsn", "name", "contact", "signal"].contains(l),
                    "{}: label {l} could identify a person",
                    f.name
                );
            }
        }
    }

    #[test]
    fn counters_gauges_and_histograms_render_with_help_and_type() {
        let m = Metrics::default();
        m.add("schakel_rules_records_total", "topic=\"t\"", 3);
        m.set("schakel_notify_pending_retries", "", 2.0);
        m.observe(
            "schakel_http_request_duration_seconds",
            "route=\"/v1/events\"",
            &DURATION_BUCKETS,
            0.02,
        );
        let text = m.render();
        assert!(text.contains("# TYPE schakel_rules_records_total counter\nschakel_rules_records_total{topic=\"t\"} 3\n"));
        assert!(text.contains("schakel_notify_pending_retries 2\n"));
        assert!(text.contains(
            "schakel_http_request_duration_seconds_bucket{route=\"/v1/events\",le=\"0.01\"} 0\n"
        ));
        assert!(text.contains(
            "schakel_http_request_duration_seconds_bucket{route=\"/v1/events\",le=\"0.025\"} 1\n"
        ));
        assert!(text.contains(
            "schakel_http_request_duration_seconds_bucket{route=\"/v1/events\",le=\"+Inf\"} 1\n"
        ));
        assert!(
            text.contains("schakel_http_request_duration_seconds_count{route=\"/v1/events\"} 1\n")
        );
        assert!(text.contains("# HELP schakel_notify_pending_retries deliveries waiting"));
    }

    /// The operator's alert rules and dashboard ask only for metrics the services expose.
    #[test]
    fn the_alerts_and_the_dashboard_use_declared_metrics() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../infra");
        for file in [
            "prometheus/alerts.yml",
            "prometheus/alerts.test.yml",
            "grafana/schakel.json",
        ] {
            let text = std::fs::read_to_string(root.join(file)).expect(file);
            let mut used = 0;
            for (i, _) in text.match_indices("schakel_") {
                let name: String = text[i..]
                    .chars()
                    .take_while(|c| c.is_ascii_lowercase() || *c == '_')
                    .collect();
                let base = ["_bucket", "_sum", "_count"]
                    .iter()
                    .find_map(|s| name.strip_suffix(s).filter(|b| family_of(b).is_some()))
                    .unwrap_or(&name);
                // job names (schakel-notify) and the dashboard's own record names are not metrics
                if name.ends_with('_') || base.starts_with("schakel_dashboard_") {
                    continue;
                }
                assert!(
                    family_of(base).is_some(),
                    "{file}: {name} is not a declared metric"
                );
                used += 1;
            }
            assert!(used > 3, "{file} uses the metrics");
        }
    }

    #[test]
    #[should_panic(expected = "not in FAMILIES")]
    fn an_undeclared_metric_is_a_bug() {
        Metrics::default().inc("schakel_made_up_total", "");
    }

    #[test]
    #[should_panic(expected = "labels of metric")]
    fn undeclared_labels_are_a_bug() {
        Metrics::default().inc("schakel_rules_records_total", "topic=\"t\",child=\"x\"");
    }
}
