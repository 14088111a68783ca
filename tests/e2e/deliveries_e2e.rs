//! The delivery lifecycle on notify's log clock (`notify.clock = "log"`): a receiver that is
//! down gets nothing until time, moved by ticks and not by sleeping, reaches the scheduled
//! retry, and then everything exactly once; a receiver down for the whole schedule ends
//! dead-lettered, `schakel deliveries list|show` shows it, and `schakel deliveries retry`
//! re-drives it once the receiver is back.

use jiff::civil::date;
use std::collections::BTreeMap;
use std::time::Duration;

use schakel_core::domain::catalogue::Topic;
use schakel_core::domain::events::DeliveryEvent;
use schakel_e2e::receiver::Receiver;
use schakel_e2e::{assignment_event, bsns, eventually, Env, Region, JEUGDHULP_TOKEN};
use schakel_notify::ledger::{DeliveryState, Ledger};

const SECRET_A: &str = "whsec_dGVzdC1zZWNyZXQtamV1Z2R0ZWFtLTAxMjM0NTY3ODk=";
const SECRET_B: &str = "whsec_dGVzdC1zZWNyZXQtdm9sd2Fzc2VuLTAxMjM0NTY3ODk=";

fn directory(rx: &Receiver) -> String {
    format!(
        r#"
[[institution]]
id = "gemeente:0392"
name = "Gemeente Haarlem"

[[contact]]
id = "jt-a"
name = "Wijkteam Haarlem-Noord"
institution = "gemeente:0392"
roles = ["jeugdteam"]
webhook = {{ url = "{}", secret = "{SECRET_A}" }}

[[contact]]
id = "vw-b"
name = "Loket Wmo Haarlem"
institution = "gemeente:0392"
roles = ["volwassenen"]
webhook = {{ url = "{}", secret = "{SECRET_B}" }}
"#,
        rx.contact("jt-a", SECRET_A),
        rx.contact("vw-b", SECRET_B)
    )
}

/// Every delivery's ledger records, by delivery id.
fn ledger(env: &Env) -> BTreeMap<String, Vec<DeliveryEvent>> {
    let mut out: BTreeMap<String, Vec<DeliveryEvent>> = BTreeMap::new();
    for ev in env.deliveries() {
        out.entry(ev.id.clone()).or_default().push(ev);
    }
    out
}

fn state(events: &[DeliveryEvent]) -> DeliveryState {
    let mut l = Ledger::default();
    for e in events {
        l.apply(e);
    }
    l.get(&events[0].id).cloned().unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn retries_wait_for_the_clock_dead_letters_are_listed_and_retried() {
    let env = Region::new()
        .notify("clock = \"log\"\nretry_schedule = [\"5s\", \"5m\"]")
        .start();
    let rx = Receiver::start(Duration::ZERO).await;
    rx.set_down("jt-a", true);
    rx.set_down("vw-b", true);
    env.apply_directory(&directory(&rx));
    let _ingest = env.spawn_ingest();
    let _rules = env.spawn_rules();
    let _notify = env.spawn_notify();

    // R3a on 2026-01-05 to jt-a; R3b on 2026-01-12 to jt-a and vw-b
    let bsn = &bsns(1, 61)[0];
    let (s, b) = env
        .post_batch(
            JEUGDHULP_TOKEN,
            &vec![assignment_event("d-1", bsn, "2008-07-12", "T300")].into(),
        )
        .await;
    assert_eq!(s, 202, "{b}");
    env.await_rules_read(Topic::JEUGDHULP, 1).await;
    // the days go by for rules, but notify's time stands at one instant
    for d in 5..=12 {
        env.tick_at(&format!("2026-01-{d:02}"), "2026-01-12T07:00:00+01:00");
    }

    // every delivery failed and waits for a retry
    assert!(
        eventually(Duration::from_secs(30), || {
            let l = ledger(&env);
            l.len() == 3
                && l.values()
                    .all(|e| matches!(state(e), DeliveryState::RetryScheduled { .. }))
        })
        .await,
        "three deliveries with a retry scheduled: {:?}",
        ledger(&env).values().map(|e| state(e)).collect::<Vec<_>>()
    );
    // the receiver comes back, but time moves less than the first retry's wait (5 s, give or
    // take 10 %): once notify read that tick, nothing is sent
    rx.set_down("jt-a", false);
    env.tick_at("2026-01-12", "2026-01-12T07:00:04+01:00");
    env.await_notify_followed(Topic::CLOCK).await;
    assert!(rx.received().is_empty(), "no retry before its time");

    // six minutes later by the log clock: past the 5 s and the 5 min retries
    env.tick_at("2026-01-12", "2026-01-12T07:06:00+01:00");
    assert!(
        eventually(Duration::from_secs(30), || rx.received().len() >= 2).await,
        "jt-a gets both signals once it is back"
    );
    // vw-b stays down: on through the schedule until it is dead-lettered
    let vw = |l: &BTreeMap<String, Vec<DeliveryEvent>>| {
        l.iter()
            .find(|(_, e)| e[0].contact == "vw-b")
            .map(|(id, e)| (id.clone(), state(e)))
            .unwrap()
    };
    for d in 13..=16 {
        if matches!(vw(&ledger(&env)).1, DeliveryState::DeadLettered { .. }) {
            break;
        }
        env.tick_at(
            &format!("2026-01-{d:02}"),
            &format!("2026-01-{d:02}T07:00:00+01:00"),
        );
        eventually(Duration::from_secs(10), || {
            !matches!(vw(&ledger(&env)).1, DeliveryState::InFlight { .. })
        })
        .await;
    }
    assert!(
        eventually(Duration::from_secs(20), || matches!(
            vw(&ledger(&env)).1,
            DeliveryState::DeadLettered { attempt: 3 }
        ))
        .await,
        "dead-lettered after 1 + 2 retries: {:?}",
        vw(&ledger(&env))
    );
    assert_eq!(rx.refused("vw-b"), 3, "three attempts in all");

    // the ledger kept the schedule: every retry came at least its wait after the failure
    let schedule = [5, 300];
    for (id, events) in ledger(&env) {
        let fails: Vec<&DeliveryEvent> = events.iter().filter(|e| e.status == "failed").collect();
        for f in &fails {
            let next = events
                .iter()
                .find(|e| e.status == "in-flight" && e.attempt == f.attempt + 1)
                .unwrap_or_else(|| panic!("{id}: attempt {} follows", f.attempt + 1));
            let waited = next.at.duration_since(f.at).as_secs();
            assert!(
                waited >= schedule[(f.attempt - 1) as usize],
                "{id}: attempt {} after {waited} s",
                f.attempt + 1
            );
        }
        assert_eq!(events[0].status, "queued", "{id}: queued first");
    }
    let jt_a: Vec<_> = rx
        .received()
        .into_iter()
        .filter(|r| r.contact == "jt-a")
        .collect();
    assert_eq!(jt_a.len(), 2, "each jt-a delivery exactly once");

    // the operator sees the dead letter, fixes the endpoint and retries it
    let (dead_id, _) = vw(&ledger(&env));
    let out = env.schakel(&["deliveries", "list", "--status", "dead-lettered"]);
    let listed = String::from_utf8_lossy(&out.stdout);
    assert!(
        listed.contains(&dead_id) && listed.contains("vw-b"),
        "{listed}"
    );
    assert!(!listed.contains("jt-a"), "only dead letters: {listed}");
    rx.set_down("vw-b", false);
    let out = env.schakel(&["deliveries", "retry", &dead_id]);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("retry of"),
        "{out:?}"
    );
    assert!(
        eventually(Duration::from_secs(30), || rx
            .received()
            .iter()
            .any(|r| r.contact == "vw-b"))
        .await,
        "the retried dead letter arrives"
    );
    let got: Vec<_> = rx
        .received()
        .into_iter()
        .filter(|r| r.contact == "vw-b")
        .collect();
    assert_eq!(got.len(), 1);
    assert_eq!(
        got[0].webhook_id, dead_id,
        "the same id as every attempt before"
    );
    assert!(
        eventually(Duration::from_secs(10), || matches!(
            vw(&ledger(&env)).1,
            DeliveryState::Delivered { attempt: 4 }
        ))
        .await
    );
    let out = env.schakel(&["deliveries", "show", &dead_id]);
    let shown = String::from_utf8_lossy(&out.stdout);
    for part in [
        "status    delivered",
        "dead-lettered",
        "retry-requested",
        "succeeded",
    ] {
        assert!(shown.contains(part), "{part} in {shown}");
    }
    // a delivered delivery cannot be retried
    let out = env.schakel_may_fail(&["deliveries", "retry", &dead_id]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr)
        .contains("only a dead-lettered or unroutable delivery"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_role_nobody_holds_raises_a_configuration_signal_and_is_delivered_after_the_fix() {
    const SECRET_C: &str = "whsec_dGVzdC1zZWNyZXQtYmVoZWVyLTAxMjM0NTY3ODk5OTk=";
    let env = Region::new().start();
    let rx = Receiver::start(Duration::ZERO).await;
    let base = format!(
        r#"
[[institution]]
id = "gemeente:0392"
name = "Gemeente Haarlem"

[[contact]]
id = "jt-a"
name = "Wijkteam Haarlem-Noord"
institution = "gemeente:0392"
roles = ["jeugdteam"]
webhook = {{ url = "{}", secret = "{SECRET_A}" }}

[[contact]]
id = "beheer"
name = "Functioneel beheer Haarlem"
institution = "gemeente:0392"
roles = ["beheer"]
webhook = {{ url = "{}", secret = "{SECRET_C}" }}
"#,
        rx.contact("jt-a", SECRET_A),
        rx.contact("beheer", SECRET_C)
    );
    env.apply_directory(&base);
    let _ingest = env.spawn_ingest();
    let _rules = env.spawn_rules();
    let _notify = env.spawn_notify();

    // R3b goes to the jeugdteam and to volwassenen, which nobody holds
    let bsn = &bsns(1, 63)[0];
    let (s, b) = env
        .post_batch(
            JEUGDHULP_TOKEN,
            &vec![assignment_event("u-1", bsn, "2008-07-12", "T400")].into(),
        )
        .await;
    assert_eq!(s, 202, "{b}");
    env.await_rules_read(Topic::JEUGDHULP, 1).await;
    env.tick_days(date(2026, 1, 5), date(2026, 1, 12));
    assert!(
        eventually(Duration::from_secs(60), || rx
            .received()
            .iter()
            .any(|r| r.contact == "beheer"))
        .await,
        "beheer is told; ledger {:?}",
        ledger(&env)
            .values()
            .map(|e| (
                e[0].contact.clone(),
                e.iter().map(|x| x.status).collect::<Vec<_>>()
            ))
            .collect::<Vec<_>>()
    );
    let config: Vec<_> = rx
        .received()
        .into_iter()
        .filter(|r| r.contact == "beheer")
        .collect();
    assert_eq!(config.len(), 1, "one configuration signal");
    let data = &config[0].body["data"];
    assert_eq!(data["rule"], "C1");
    assert_eq!(data["missingRole"], "volwassenen");
    assert_eq!(data["institution"], "gemeente:0392");
    assert!(data["title"].as_str().unwrap().starts_with("Configuratie"));
    assert!(config[0].signal_is_valid());

    // the step waits as unroutable, visible to the operator
    let unroutable = |env: &Env| {
        ledger(env)
            .into_iter()
            .find(|(_, e)| e[0].contact == "role:volwassenen")
            .map(|(id, e)| (id, state(&e)))
    };
    let (id, st) = unroutable(&env).expect("an unroutable record");
    assert_eq!(st, DeliveryState::Unroutable);
    let out = env.schakel(&["deliveries", "list", "--status", "unroutable"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains(&id));

    // the directory gets a volwassenen contact; the retry hands the step over
    let fixed = format!(
        "{base}\n[[contact]]\nid = \"vw-b\"\nname = \"Loket Wmo Haarlem\"\ninstitution = \"gemeente:0392\"\nroles = [\"volwassenen\"]\nwebhook = {{ url = \"{}\", secret = \"{SECRET_B}\" }}\n",
        rx.contact("vw-b", SECRET_B)
    );
    env.apply_directory(&fixed);
    let out = env.schakel(&["deliveries", "retry", &id]);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("volwassenen"),
        "{out:?}"
    );
    assert!(
        eventually(Duration::from_secs(30), || rx
            .received()
            .iter()
            .any(|r| r.contact == "vw-b"))
        .await,
        "the new contact gets the step"
    );
    let vw: Vec<_> = rx
        .received()
        .into_iter()
        .filter(|r| r.contact == "vw-b")
        .collect();
    assert_eq!(vw.len(), 1);
    assert_eq!(vw[0].body["data"]["rule"], "R3b");
    assert!(
        eventually(Duration::from_secs(10), || unroutable(&env)
            .is_some_and(|(_, s)| s == DeliveryState::Rerouted))
        .await
    );

    // jt-a leaves the directory: it gets nothing new, and its role is unroutable from now on
    let jt_before = rx.received().iter().filter(|r| r.contact == "jt-a").count();
    let without = format!(
        r#"
[[institution]]
id = "gemeente:0392"
name = "Gemeente Haarlem"

[[contact]]
id = "beheer"
name = "Functioneel beheer Haarlem"
institution = "gemeente:0392"
roles = ["beheer"]
webhook = {{ url = "{}", secret = "{SECRET_C}" }}

[[contact]]
id = "vw-b"
name = "Loket Wmo Haarlem"
institution = "gemeente:0392"
roles = ["volwassenen"]
webhook = {{ url = "{}", secret = "{SECRET_B}" }}
"#,
        rx.contact("beheer", SECRET_C),
        rx.contact("vw-b", SECRET_B)
    );
    env.apply_directory(&without);
    // a second youth, 17y6m on 2026-01-20
    let bsn2 = &bsns(1, 64)[0];
    let (s, b) = env
        .post_batch(
            JEUGDHULP_TOKEN,
            &vec![assignment_event("u-2", bsn2, "2008-07-20", "T401")].into(),
        )
        .await;
    assert_eq!(s, 202, "{b}");
    env.await_rules_read(Topic::JEUGDHULP, 2).await;
    env.tick_days(date(2026, 1, 13), date(2026, 1, 20));
    assert!(
        eventually(Duration::from_secs(30), || rx
            .received()
            .iter()
            .filter(|r| r.contact == "vw-b")
            .count()
            == 2)
        .await,
        "vw-b gets the second youth's R3b"
    );
    assert!(
        eventually(Duration::from_secs(30), || ledger(&env)
            .values()
            .any(|e| e[0].contact == "role:jeugdteam"))
        .await,
        "the jeugdteam role is unroutable now"
    );
    // notify (on the system clock here) has followed the directory change
    env.await_notify_followed(Topic::DIRECTORY).await;
    assert_eq!(
        rx.received().iter().filter(|r| r.contact == "jt-a").count(),
        jt_before,
        "a removed contact gets nothing new"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_endpoint_failing_for_five_days_is_disabled_and_beheer_is_told() {
    const SECRET_C: &str = "whsec_dGVzdC1zZWNyZXQtYmVoZWVyLTAxMjM0NTY3ODk5OTk=";
    let env = Region::new()
        .notify("clock = \"log\"\nretry_schedule = [\"1m\"]\ndisable_after = \"5d\"")
        .start();
    let rx = Receiver::start(Duration::ZERO).await;
    rx.set_down("jt-a", true);
    let directory = |name: &str| {
        format!(
            r#"
[[institution]]
id = "gemeente:0392"
name = "Gemeente Haarlem"

[[contact]]
id = "jt-a"
name = "{name}"
institution = "gemeente:0392"
roles = ["jeugdteam"]
webhook = {{ url = "{}", secret = "{SECRET_A}" }}

[[contact]]
id = "beheer"
name = "Functioneel beheer Haarlem"
institution = "gemeente:0392"
roles = ["beheer", "volwassenen"]
webhook = {{ url = "{}", secret = "{SECRET_C}" }}
"#,
            rx.contact("jt-a", SECRET_A),
            rx.contact("beheer", SECRET_C)
        )
    };
    env.apply_directory(&directory("Wijkteam Haarlem-Noord"));
    // notify's time starts on New Year's Day
    env.schakel(&[
        "clock",
        "tick",
        "--date",
        "2026-01-01",
        "--at",
        "2026-01-01T07:00:00+01:00",
    ]);
    let _ingest = env.spawn_ingest();
    let _rules = env.spawn_rules();
    let _notify = env.spawn_notify();

    let bsn = &bsns(1, 65)[0];
    let (s, b) = env
        .post_batch(
            JEUGDHULP_TOKEN,
            &vec![assignment_event("e-1", bsn, "2008-07-12", "T500")].into(),
        )
        .await;
    assert_eq!(s, 202, "{b}");
    env.await_rules_read(Topic::JEUGDHULP, 1).await;
    // a week goes by with jt-a down: R3a fails on the 5th (notify's clock follows the ticks
    // on its own, so the next days come only once that failure is in the ledger), R3b on the
    // 12th
    env.tick_at("2026-01-05", "2026-01-05T07:00:00+01:00");
    assert!(
        eventually(Duration::from_secs(30), || ledger(&env).values().any(|e| e
            .iter()
            .any(|x| x.contact == "jt-a" && x.status == "failed")))
        .await,
        "R3a's first attempt failed on the 5th"
    );
    for d in 6..=12 {
        env.tick_at(
            &format!("2026-01-{d:02}"),
            &format!("2026-01-{d:02}T07:00:00+01:00"),
        );
    }
    env.tick_at("2026-01-12", "2026-01-12T07:05:00+01:00");

    let disabled = |env: &Env| {
        ledger(env)
            .get("endpoint:jt-a:webhook")
            .map(|e| e.iter().filter(|x| x.status == "endpoint-disabled").count())
            .unwrap_or(0)
    };
    assert!(
        eventually(Duration::from_secs(30), || disabled(&env) == 1).await,
        "jt-a's webhook is disabled: {:?}",
        ledger(&env).keys().collect::<Vec<_>>()
    );
    assert!(
        eventually(Duration::from_secs(30), || rx
            .received()
            .iter()
            .any(|r| r.contact == "beheer" && r.body["data"]["rule"] == "C2"))
        .await,
        "beheer is told"
    );
    let c2: Vec<_> = rx
        .received()
        .into_iter()
        .filter(|r| r.body["data"]["rule"] == "C2")
        .collect();
    assert_eq!(c2.len(), 1, "told once");
    assert_eq!(c2[0].body["data"]["disabledEndpoint"], "jt-a (webhook)");
    assert!(c2[0].body["data"]["title"]
        .as_str()
        .unwrap()
        .contains("eindpunt"));

    // the jt-a deliveries end as dead letters (a retry still waiting fires at 07:10 and finds
    // the endpoint disabled); once disabled, jt-a is not called any more
    env.tick_at("2026-01-12", "2026-01-12T07:10:00+01:00");
    let jt_r3b = |env: &Env| {
        ledger(env)
            .into_iter()
            .filter(|(id, e)| !id.starts_with("endpoint:") && e[0].contact == "jt-a")
            .map(|(id, e)| (id, state(&e), e.last().unwrap().error.clone()))
            .collect::<Vec<_>>()
    };
    assert!(
        eventually(Duration::from_secs(30), || jt_r3b(&env)
            .iter()
            .all(|(_, s, _)| matches!(s, DeliveryState::DeadLettered { .. })))
        .await,
        "{:?}",
        jt_r3b(&env)
    );
    assert!(
        jt_r3b(&env)
            .iter()
            .any(|(_, _, e)| e.as_deref().unwrap_or("").contains("endpoint disabled")),
        "a delivery after the disabling is not attempted: {:?}",
        jt_r3b(&env)
    );
    let calls = rx.refused("jt-a");
    env.tick_at("2026-01-13", "2026-01-13T07:00:00+01:00");
    // the tick folded, read by notify, and every delivery of every signal final
    env.await_committed("rules", Topic::CLOCK).await;
    env.await_notify_followed(Topic::CLOCK).await;
    env.await_committed("notify", Topic::SIGNALS).await;
    assert_eq!(rx.refused("jt-a"), calls, "no calls to a disabled endpoint");

    // fixed: the directory entry changes, the endpoint is enabled, the dead letters retried
    rx.set_down("jt-a", false);
    env.apply_directory(&directory("Wijkteam Haarlem-Noord (nieuw adres)"));
    assert!(
        eventually(Duration::from_secs(30), || ledger(&env)
            .get("endpoint:jt-a:webhook")
            .is_some_and(|e| e.last().unwrap().status == "endpoint-enabled"))
        .await,
        "enabled again"
    );
    for (id, _, _) in jt_r3b(&env) {
        env.schakel(&["deliveries", "retry", &id]);
    }
    let n = jt_r3b(&env).len();
    assert!(
        eventually(Duration::from_secs(30), || rx
            .received()
            .iter()
            .filter(|r| r.contact == "jt-a")
            .count()
            == n)
        .await,
        "every dead letter of jt-a arrives after the fix"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_contact_removed_while_its_delivery_waits_for_a_retry_gets_nothing_more() {
    let env = Region::new()
        .notify("clock = \"log\"\nretry_schedule = [\"5m\", \"5m\"]")
        .start();
    let rx = Receiver::start(Duration::ZERO).await;
    rx.set_down("vw-b", true);
    env.apply_directory(&directory(&rx));
    env.schakel(&[
        "clock",
        "tick",
        "--date",
        "2026-01-01",
        "--at",
        "2026-01-12T07:00:00+01:00",
    ]);
    let _ingest = env.spawn_ingest();
    let _rules = env.spawn_rules();
    let _notify = env.spawn_notify();
    let bsn = &bsns(1, 67)[0];
    let (s, b) = env
        .post_batch(
            JEUGDHULP_TOKEN,
            &vec![assignment_event("r-1", bsn, "2008-07-12", "T600")].into(),
        )
        .await;
    assert_eq!(s, 202, "{b}");
    env.await_rules_read(Topic::JEUGDHULP, 1).await;
    for d in 5..=12 {
        env.tick_at(&format!("2026-01-{d:02}"), "2026-01-12T07:00:00+01:00");
    }
    let vw = |env: &Env| {
        ledger(env)
            .into_iter()
            .find(|(_, e)| e[0].contact == "vw-b")
            .map(|(_, e)| (state(&e), e.last().unwrap().error.clone()))
    };
    assert!(
        eventually(Duration::from_secs(30), || matches!(
            vw(&env),
            Some((DeliveryState::RetryScheduled { .. }, _))
        ))
        .await,
        "vw-b's delivery waits for its retry: {:?}",
        vw(&env)
    );
    let calls = rx.refused("vw-b");
    // vw-b leaves the directory before the retry is due
    let only_jt = directory(&rx)
        .split("[[contact]]")
        .filter(|part| !part.contains("vw-b"))
        .collect::<Vec<_>>()
        .join("[[contact]]");
    env.apply_directory(&only_jt);
    env.await_notify_followed(Topic::DIRECTORY).await;
    env.tick_at("2026-01-12", "2026-01-12T07:20:00+01:00");
    assert!(
        eventually(Duration::from_secs(30), || matches!(
            vw(&env),
            Some((DeliveryState::DeadLettered { .. }, Some(ref e))) if e.contains("removed")
        ))
        .await,
        "dead-lettered as removed: {:?}",
        vw(&env)
    );
    assert_eq!(rx.refused("vw-b"), calls, "no call after the removal");
    assert!(rx.received().iter().all(|r| r.contact != "vw-b"));
}
