//! One fact followed through the system: an event posted with a `traceparent`, the tick that
//! makes its handoff due, the webhooks it causes and a contact's read of the signal all end
//! up in one trace at a real OTLP receiver, with every span's parent in that trace, the
//! OpenTelemetry messaging attributes on the Kafka spans and nothing that names the child.

use std::collections::HashMap;
use std::time::Duration;

use jiff::civil::date;
use reqwest::header::ACCEPT;
use schakel_e2e::otlp::{kind, GotSpan, OtlpReceiver};
use schakel_e2e::receiver::Receiver;
use schakel_e2e::{
    assignment_event, bsns, eventually_async, handoff_desks, Env, Region, JEUGDHULP_TOKEN,
};

const SECRET: &str = "whsec_dGVzdC1zZWNyZXQtdHJhY2VzLTAxMjM0NTY3ODlhYg==";
const TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const CALLER_SPAN: &str = "00f067aa0ba902b7";
const WMO_TOKEN: &str = "test-contact-wmo-haarlem-traces";

fn find<'a>(spans: &'a [GotSpan], service: &str, k: i32, name_ends: &str) -> Vec<&'a GotSpan> {
    spans
        .iter()
        .filter(|s| s.service == service && s.kind == k && s.name.ends_with(name_ends))
        .collect()
}

fn parent_of<'a>(spans: &'a [GotSpan], s: &GotSpan) -> Option<&'a GotSpan> {
    spans.iter().find(|p| p.span_id == s.parent_span_id)
}

#[tokio::test(flavor = "multi_thread")]
async fn one_event_is_one_trace_from_the_request_to_the_webhook_and_the_page() {
    let otlp = OtlpReceiver::start().await;
    let env = Region::new()
        .config(&format!(
            "[[ingest.tokens]]\nname = \"wmo-haarlem\"\ntoken = \"{WMO_TOKEN}\"\ncontact = \"wmo-haarlem\"\n"
        ))
        .start();
    let rx = Receiver::start(Duration::ZERO).await;
    env.apply_directory(&handoff_desks(&rx, SECRET));
    let endpoint = otlp.endpoint();
    // export every 200 ms, so the test need not wait five seconds for a batch
    let vars = [
        ("SCHAKEL_TELEMETRY__OTLP_ENDPOINT", endpoint.as_str()),
        ("OTEL_BSP_SCHEDULE_DELAY", "200"),
    ];
    let _ingest = env.spawn_with("schakel-ingest", env.ingest_port, &vars);
    let _rules = env.spawn_with("schakel-rules", env.rules_port, &vars);
    let _notify = env.spawn_with("schakel-notify", env.notify_port, &vars);
    let _monitor = env.spawn_with("schakel-monitor", env.monitor_port, &vars);
    Env::await_ready(env.monitor_port, Duration::from_secs(60)).await;

    // turns 17y6m on 2026-01-12: the handoff task goes to the jeugdteam and the Wmo desk
    let bsn = &bsns(1, 73)[0];
    let res = reqwest::Client::new()
        .post(env.ingest_url())
        .bearer_auth(JEUGDHULP_TOKEN)
        .header("content-type", "application/cloudevents-batch+json")
        .header("traceparent", format!("00-{TRACE}-{CALLER_SPAN}-01"))
        .header("tracestate", "lab=demo,bsn=x123456782")
        .json(&serde_json::json!([assignment_event(
            "t-1",
            bsn,
            "2008-07-12",
            "T730"
        )]))
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        202,
        "{}",
        res.text().await.unwrap_or_default()
    );
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

    // each webhook carries the trace, so a receiver can join it
    let hooks = rx.received();
    for h in &hooks {
        let tp = h
            .traceparent
            .as_deref()
            .expect("a traceparent on the webhook");
        assert!(
            tp.starts_with(&format!("00-{TRACE}-")),
            "the webhook continues the caller's trace: {tp}"
        );
    }

    // a contact's system reads the signal: the read joins the signal's trace
    let dataref = hooks
        .iter()
        .find(|h| h.contact == "wmo-haarlem")
        .and_then(|h| h.body["dataref"].as_str().map(str::to_owned))
        .expect("a dataref in the notification");
    let read = reqwest::Client::new()
        .get(&dataref)
        .header(ACCEPT, "application/json")
        .bearer_auth(WMO_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(read.status(), 200);

    let complete = |spans: &[GotSpan]| {
        !find(spans, "schakel-ingest", kind::SERVER, "/v1/events").is_empty()
            && !find(spans, "schakel-rules", kind::PRODUCER, "hub.signals.v1").is_empty()
            && find(spans, "schakel-notify", kind::CLIENT, "POST").len() >= 2
            && !find(spans, "schakel-monitor", kind::INTERNAL, "show signal").is_empty()
            && !find(spans, "schakel-monitor", kind::PRODUCER, "hub.audit.v1").is_empty()
            && find(spans, "schakel-notify", kind::PRODUCER, "hub.deliveries.v1").len() >= 6
    };
    assert!(
        eventually_async(
            Duration::from_secs(30),
            Duration::from_millis(200),
            || async { complete(&otlp.trace(TRACE)) }
        )
        .await,
        "the spans of ingest, rules, notify and the monitor arrive in one trace; got {:#?}",
        otlp.trace(TRACE)
            .iter()
            .map(|s| (&s.service, &s.name))
            .collect::<Vec<_>>()
    );
    let spans = otlp.trace(TRACE);
    let all = otlp.spans();

    // the caller's span is the root's parent; every other span's parent is in the trace
    let server = find(&spans, "schakel-ingest", kind::SERVER, "/v1/events")[0];
    assert_eq!(server.parent_span_id, CALLER_SPAN);
    assert_eq!(server.name, "POST /v1/events");
    assert_eq!(server.attributes["http.response.status_code"], "202");
    for s in spans.iter().filter(|s| s.span_id != server.span_id) {
        assert!(
            parent_of(&spans, s).is_some(),
            "{} {} has its parent {} in the trace",
            s.service,
            s.name,
            s.parent_span_id
        );
    }

    // ingest wrote the fact in a send span under its request
    let fact_send = find(
        &spans,
        "schakel-ingest",
        kind::PRODUCER,
        "source.jeugdhulp.v1",
    )[0];
    assert_eq!(fact_send.parent_span_id, server.span_id);
    // rules processed it under that send span
    let fact_process = find(
        &spans,
        "schakel-rules",
        kind::CONSUMER,
        "source.jeugdhulp.v1",
    )[0];
    assert_eq!(fact_process.parent_span_id, fact_send.span_id);
    assert!(fact_process.attributes["messaging.consumer.group.name"].contains("rules"));
    // the signal the tick made due continues the fact's trace, linked to the tick's process
    let signal_sends = find(&spans, "schakel-rules", kind::PRODUCER, "hub.signals.v1");
    for s in &signal_sends {
        assert_eq!(
            s.parent_span_id, fact_send.span_id,
            "a step's cause is the fact"
        );
        let (lt, ls) = s.links.first().expect("linked to the tick's process span");
        let tick = all
            .iter()
            .find(|t| &t.trace_id == lt && &t.span_id == ls)
            .expect("the linked span was exported");
        assert!(tick.name.ends_with("hub.clock.v1"), "{}", tick.name);
        assert_ne!(lt, TRACE, "the tick has a trace of its own");
    }
    // notify read each step under its send span and posted each webhook under that
    let posts = find(&spans, "schakel-notify", kind::CLIENT, "POST");
    for post in &posts {
        let process = parent_of(&spans, post).unwrap();
        assert_eq!(process.service, "schakel-notify");
        assert_eq!(process.kind, kind::CONSUMER);
        assert!(process.name.ends_with("hub.signals.v1"));
        let step = parent_of(&spans, process).unwrap();
        assert!(signal_sends.iter().any(|s| s.span_id == step.span_id));
        assert_eq!(post.attributes["http.response.status_code"], "204");
    }
    // and wrote each delivery's ledger records (queued, in flight, succeeded) in it
    let ledger = find(
        &spans,
        "schakel-notify",
        kind::PRODUCER,
        "hub.deliveries.v1",
    );
    for post in &posts {
        let process = parent_of(&spans, post).unwrap();
        assert!(
            ledger
                .iter()
                .filter(|l| l.parent_span_id == process.span_id)
                .count()
                >= 3,
            "the ledger records of a delivery are in the signal's trace"
        );
    }
    for h in &hooks {
        let span_id = &h.traceparent.as_deref().unwrap()[36..52];
        assert!(
            posts.iter().any(|p| p.span_id == span_id),
            "the webhook names the notify span that posted it"
        );
    }
    // the monitor's read joined the signal's trace and wrote its audit record in it
    let show = find(&spans, "schakel-monitor", kind::INTERNAL, "show signal")[0];
    assert!(signal_sends
        .iter()
        .any(|s| s.span_id == show.parent_span_id));
    let request = all
        .iter()
        .find(|r| Some((&r.trace_id, &r.span_id)) == show.links.first().map(|(t, s)| (t, s)))
        .expect("linked to the page request");
    assert_eq!(request.name, "GET /v1/signals/{id}");
    let audit = find(&spans, "schakel-monitor", kind::PRODUCER, "hub.audit.v1")[0];
    assert_eq!(audit.parent_span_id, show.span_id);

    // the Kafka spans follow the messaging conventions; no attribute names the child
    for s in spans
        .iter()
        .filter(|s| s.kind == kind::PRODUCER || s.kind == kind::CONSUMER)
    {
        let a: &HashMap<String, String> = &s.attributes;
        assert_eq!(a["messaging.system"], "kafka", "{}", s.name);
        let op = if s.kind == kind::PRODUCER {
            "send"
        } else {
            "process"
        };
        assert_eq!(a["messaging.operation.type"], op);
        assert!(s.name.starts_with(op) && s.name.ends_with(&a["messaging.destination.name"]));
        assert!(a.contains_key("messaging.destination.partition.id"));
        assert!(a["messaging.kafka.offset"].parse::<i64>().is_ok());
    }
    for s in &all {
        for (k, v) in &s.attributes {
            let hex64 = v.len() >= 64 && v.bytes().filter(u8::is_ascii_hexdigit).count() >= 64;
            assert!(!hex64, "{} {k} looks like a ChildKey", s.name);
            assert!(!v.contains(bsn.as_str()), "{} {k} names the BSN", s.name);
            assert!(!v.to_lowercase().contains("testachternaam"), "a name");
            assert!(!v.contains("45A12"), "{} {k} holds a care detail", s.name);
        }
    }
    // the caller's tracestate went on, without the member that could have been a BSN
    let fact = env
        .read(schakel_core::domain::catalogue::Topic::JEUGDHULP)
        .into_iter()
        .next()
        .expect("the fact is in the log");
    assert_eq!(
        fact.trace.as_ref().and_then(|t| t.tracestate()),
        Some("lab=demo")
    );
    assert_eq!(fact.trace.unwrap().trace_id(), TRACE);
}
