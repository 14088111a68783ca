//! End to end on the real broker: a jeugdhulp assignment posted to ingest becomes R3 signals in
//! rules and signed webhooks from notify, exactly once per recipient, across restarts and a
//! `kill -9` of notify while deliveries are in flight.

use jiff::civil::date;
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use schakel_core::domain::catalogue::Topic;
use schakel_e2e::receiver::Receiver;
use schakel_e2e::{assignment_event, bsns, eventually, Env, Region, JEUGDHULP_TOKEN};

const SECRET_JT: &str = "whsec_dGVzdC1zZWNyZXQtamV1Z2R0ZWFtLTAxMjM0NTY3ODk=";
const SECRET_VW: &str = "whsec_dGVzdC1zZWNyZXQtdm9sd2Fzc2VuLTAxMjM0NTY3ODk=";

fn directory(rx: &Receiver) -> String {
    format!(
        r#"
[[institution]]
id = "gemeente:0392"
name = "Gemeente Haarlem"

[[contact]]
id = "jeugdteam-haarlem"
name = "Wijkteam Haarlem"
institution = "gemeente:0392"
roles = ["jeugdteam"]
email = "jt@haarlem.example"
webhook = {{ url = "{}", secret = "{SECRET_JT}" }}

[[contact]]
id = "wmo-haarlem"
name = "Loket Wmo Haarlem"
institution = "gemeente:0392"
roles = ["volwassenen"]
webhook = {{ url = "{}", secret = "{SECRET_VW}" }}
"#,
        rx.contact("jeugdteam-haarlem", SECRET_JT),
        rx.contact("wmo-haarlem", SECRET_VW)
    )
}

async fn post(env: &Env, events: Vec<serde_json::Value>) {
    let (status, body) = env.post_batch(JEUGDHULP_TOKEN, &events.into()).await;
    assert_eq!(status, 202, "{body}");
}

/// (signal step id, contact) → webhook ids received for it.
fn by_delivery(rx: &Receiver) -> BTreeMap<(String, String, String), Vec<String>> {
    let mut m: BTreeMap<_, Vec<String>> = BTreeMap::new();
    for r in rx.received() {
        let d = &r.body["data"];
        let key = (
            d["signalId"].as_str().unwrap_or_default().to_owned(),
            d["step"].as_str().unwrap_or_default().to_owned(),
            r.contact.clone(),
        );
        m.entry(key).or_default().push(r.webhook_id.clone());
    }
    m
}

#[tokio::test(flavor = "multi_thread")]
async fn handoff_signal_reaches_each_recipient_once_signed_and_survives_a_rules_restart() {
    let env = Region::new().start();
    let rx = Receiver::start(Duration::ZERO).await;
    env.apply_directory(&directory(&rx));
    let _ingest = env.spawn_ingest();
    let mut rules = env.spawn_rules();
    let _notify = env.spawn_notify();

    // turns 17y6m on 2026-01-12, a week after the first tick
    let bsn = &bsns(1, 1)[0];
    post(
        &env,
        vec![assignment_event("a-1", bsn, "2008-07-12", "T100")],
    )
    .await;
    env.tick_days(date(2026, 1, 5), date(2026, 1, 10));
    // rules has folded the child and every tick (six partitions each) before it stops, so its
    // stop snapshot holds the child
    env.await_rules_read(Topic::JEUGDHULP, 1).await;
    env.await_rules_read(Topic::CLOCK, 6 * 6).await;
    // a graceful restart of rules in the middle: it restores without re-emitting
    rules.stop();
    // one broker, one replica: a record is committed when appended, so the grace is short
    let log = std::fs::read_to_string(&rules.log).expect("rules log");
    assert!(
        log.lines().any(|l| l.ends_with("order_grace_ms=50")),
        "the order grace on one replica is 50 ms"
    );
    let rules2 = env.spawn_rules();
    env.tick_days(date(2026, 1, 11), date(2026, 1, 13));

    assert!(
        eventually(Duration::from_secs(30), || rx.received().len() >= 3).await,
        "got {:?}",
        rx.received()
    );
    // every tick folded and every signal's deliveries final: anything extra would be here now
    env.await_committed("rules", Topic::CLOCK).await;
    env.await_committed("notify", Topic::SIGNALS).await;
    let got = rx.received();
    assert!(
        got.iter().all(|r| r.signal_is_valid()),
        "every signature verifies"
    );
    let deliveries = by_delivery(&rx);
    let expected: BTreeSet<(String, String)> = [
        ("R3a", "opened", "jeugdteam-haarlem"),
        ("R3b", "opened", "jeugdteam-haarlem"),
        ("R3b", "opened", "wmo-haarlem"),
    ]
    .iter()
    .map(|(r, s, c)| (format!("{r}/{s}"), (*c).to_owned()))
    .collect();
    let seen: BTreeSet<(String, String)> = got
        .iter()
        .map(|r| {
            (
                format!(
                    "{}/{}",
                    r.body["data"]["rule"].as_str().unwrap(),
                    r.body["data"]["step"].as_str().unwrap()
                ),
                r.contact.clone(),
            )
        })
        .collect();
    assert_eq!(seen, expected);
    assert_eq!(got.len(), 3, "exactly once per recipient: {deliveries:?}");
    let r3b = got
        .iter()
        .find(|r| r.body["data"]["rule"] == "R3b")
        .unwrap();
    assert_eq!(r3b.body["type"], "nl.schakel.signal.opened.v1");
    assert_eq!(r3b.body["data"]["dueDate"], "2026-07-12");
    assert_eq!(r3b.body["data"]["task"], true);
    assert!(r3b.body["dataref"]
        .as_str()
        .unwrap()
        .starts_with(&format!("{}/v1/signals/", env.monitor_url())));
    assert!(
        r3b.body["data"]["actions"]["acknowledge"]
            .as_str()
            .unwrap()
            .contains("/acknowledge?t=v1."),
        "the link is signed for its recipient"
    );
    for r in &got {
        for secret in [bsn.as_str(), "Testvoornaam", "Testachternaam", "45A12"] {
            assert!(
                !r.raw.contains(secret),
                "a notification must not carry {secret}: {}",
                r.raw
            );
        }
    }
    let signals = env.read(Topic::SIGNALS);
    assert_eq!(
        signals.len(),
        2,
        "R3a and R3b opened, each once, despite the restart"
    );
    let log = std::fs::read_to_string(&rules2.log).unwrap_or_default();
    assert!(
        log.lines().any(|l| l.contains("partition loaded")
            && l.contains("from_snapshot=true")
            && !l.contains("children=0")),
        "the restarted rules service restores the child's partition from the snapshot written at its stop: {log}"
    );
    for topic in [Topic::JEUGDHULP, Topic::SIGNALS, Topic::DELIVERIES] {
        for rec in env.read(topic) {
            let bytes = rec.value.unwrap_or_default();
            assert!(
                !String::from_utf8_lossy(&bytes).contains(bsn.as_str()),
                "BSN in {topic}"
            );
            assert!(
                !String::from_utf8_lossy(&bytes).contains("Testachternaam"),
                "name in {topic}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn notify_killed_during_deliveries_loses_nothing_and_never_changes_ids() {
    let env = Region::new()
        .notify("per_endpoint_concurrency = 4\nretry_schedule = [\"1s\", \"2s\"]")
        .start();
    let rx = Receiver::start(Duration::from_millis(150)).await;
    env.apply_directory(&directory(&rx));
    let _ingest = env.spawn_ingest();
    let _rules = env.spawn_rules();
    let mut notify = env.spawn_notify();

    let n = 30;
    let events = bsns(n, 7)
        .iter()
        .enumerate()
        .map(|(i, b)| assignment_event(&format!("k-{i}"), b, "2008-07-12", &format!("K{i}")))
        .collect();
    post(&env, events).await;
    env.await_rules_read(Topic::JEUGDHULP, n as u64).await;
    env.tick_days(date(2026, 1, 12), date(2026, 1, 12)); // R3a is past; R3b opens for every child: 2 recipients each
    let want = 2 * n;
    assert!(
        eventually(Duration::from_secs(20), || rx.received().len() >= 6).await,
        "deliveries started"
    );
    notify.kill9();
    let before = rx.received().len();
    assert!(
        before < want,
        "the kill must happen while deliveries are in flight ({before} of {want})"
    );
    let _notify = env.spawn_notify();
    assert!(
        eventually(Duration::from_secs(60), || by_delivery(&rx).len() >= want).await,
        "all {want} deliveries after the restart, got {}",
        by_delivery(&rx).len()
    );
    // every tick folded and every signal's deliveries final: anything extra would be here now
    env.await_committed("rules", Topic::CLOCK).await;
    env.await_committed("notify", Topic::SIGNALS).await;
    let deliveries = by_delivery(&rx);
    assert_eq!(deliveries.len(), want, "nothing lost, nothing extra");
    let mut resent = 0;
    for (key, ids) in &deliveries {
        let distinct: BTreeSet<&String> = ids.iter().collect();
        assert_eq!(
            distinct.len(),
            1,
            "{key:?} was delivered with different ids: {ids:?}"
        );
        resent += ids.len() - 1;
    }
    // only what was in flight at the kill can be re-sent, and with its original id
    assert!(
        resent <= 4,
        "{resent} re-sends; at most the 4 in flight may repeat"
    );
    assert!(rx.received().iter().all(|r| r.signal_is_valid()));
}
