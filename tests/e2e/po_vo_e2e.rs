//! End to end on the real broker: one pupil through the whole PO → VO path. School facts posted
//! by two LAS systems open the R2b warm-handoff task; both schools get a signed webhook; the VO
//! zorgcoördinator acknowledges and both sides complete through `POST /v1/events` with their
//! contact tokens; wrong answers are refused with a clear status; after completion the task
//! stays quiet past its due date.

use jiff::civil::date;
use std::time::Duration;

use schakel_core::domain::catalogue::Topic;
use schakel_core::domain::events::SignalEvent;
use schakel_e2e::receiver::Receiver;
use schakel_e2e::{bsns, eventually, Env, Region, LAS_TOKEN};
use serde_json::{json, Value};

const SECRET_IB: &str = "whsec_dGVzdC1zZWNyZXQtaWItMTJhYi0wMTIzNDU2Nzg5YWI=";
const SECRET_ZC: &str = "whsec_dGVzdC1zZWNyZXQtemMtMzRjZC0wMTIzNDU2Nzg5YWI=";
const LAS_VO_TOKEN: &str = "test-las-34CD";
const IB_TOKEN: &str = "test-contact-ib-12ab";
const ZC_TOKEN: &str = "test-contact-zc-34cd";
const LP_TOKEN: &str = "test-contact-leerplicht";

const TOKENS: &str = r#"
[[ingest.tokens]]
name = "las-34CD"
token = "test-las-34CD"
kinds = ["school"]
institutions = ["school:34CD"]

[[ingest.tokens]]
name = "ib-12ab"
token = "test-contact-ib-12ab"
contact = "ib-12ab"

[[ingest.tokens]]
name = "zc-34cd"
token = "test-contact-zc-34cd"
contact = "zc-34cd"

[[ingest.tokens]]
name = "leerplicht-0392"
token = "test-contact-leerplicht"
contact = "leerplicht-0392"
"#;

fn directory(rx: &Receiver) -> String {
    format!(
        r#"
[[institution]]
id = "gemeente:0392"
name = "Gemeente Haarlem"

[[institution]]
id = "school:12AB"
name = "Basisschool De Schakel"

[[institution]]
id = "school:34CD"
name = "Het Lyceum"

[[contact]]
id = "ib-12ab"
name = "Intern begeleider De Schakel"
institution = "school:12AB"
roles = ["ib"]
webhook = {{ url = "{}", secret = "{SECRET_IB}" }}

[[contact]]
id = "zc-34cd"
name = "Zorgcoördinator Het Lyceum"
institution = "school:34CD"
roles = ["zorgcoordinator"]
webhook = {{ url = "{}", secret = "{SECRET_ZC}" }}

[[contact]]
id = "leerplicht-0392"
name = "Leerplicht Haarlem"
institution = "gemeente:0392"
roles = ["leerplicht"]
email = "leerplicht@haarlem.example"
"#,
        rx.contact("ib-12ab", SECRET_IB),
        rx.contact("zc-34cd", SECRET_ZC),
    )
}

fn child(bsn: &str) -> Value {
    json!({"bsn": bsn, "birthDate": "2013-09-01", "residenceMunicipality": "0392",
           "name": {"given": "Testvoornaam", "family": "Testachternaam"}})
}

fn school_event(id: &str, brin: &str, ty: &str, bsn: &str, mut data: Value) -> Value {
    data["child"] = child(bsn);
    json!({
        "specversion": "1.0", "id": id,
        "source": format!("urn:nld:brin:{brin}:systeem:las"),
        "type": format!("nl.schakel.school.{ty}.v1"),
        "time": "2026-05-10T09:00:00+02:00",
        "datacontenttype": "application/json",
        "data": data
    })
}

fn answer(id: &str, kind: &str, signal_id: &str, at: &str) -> Value {
    json!({
        "specversion": "1.0", "id": id,
        "source": "urn:nld:gemeente:0392:systeem:inbox",
        "type": format!("nl.schakel.hub.handoff-{kind}.v1"),
        "time": at,
        "datacontenttype": "application/json",
        "data": {"signalId": signal_id, "at": at, "note": "gesprek gepland"}
    })
}

async fn post(env: &Env, token: &str, events: Value) -> (u16, Value) {
    env.post_batch(token, &events).await
}

fn r2b_steps(env: &Env) -> Vec<String> {
    let reg = schakel_core::log::schemas::registry();
    env.read(Topic::SIGNALS)
        .iter()
        .filter_map(|r| {
            reg.decode::<SignalEvent>(Topic::SIGNALS, r.value.as_deref()?)
                .ok()
        })
        .filter(|s| s.rule == "R2b")
        .map(|s| s.step)
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_pupil_goes_from_po_to_vo_with_an_acknowledged_and_completed_handoff() {
    let env = Region::new().config(TOKENS).start();
    let rx = Receiver::start(Duration::ZERO).await;
    env.apply_directory(&directory(&rx));
    let _ingest = env.spawn_ingest();
    let _rules = env.spawn_rules();
    let _notify = env.spawn_notify();

    let bsn = &bsns(1, 42)[0];
    let school = |brin: &str| json!({"brin": brin, "vestiging": "00"});
    let po = json!([
        school_event(
            "po-1",
            "12AB",
            "enrolment-registered",
            bsn,
            json!({"school": school("12AB"), "sector": "po", "grade": 5, "startDate": "2022-08-20"})
        ),
        school_event(
            "po-2",
            "12AB",
            "support-started",
            bsn,
            json!({"school": school("12AB"), "support": "opp", "date": "2024-01-10"})
        ),
    ]);
    assert_eq!(post(&env, LAS_TOKEN, po).await.0, 202);
    let vo = json!([
        school_event(
            "vo-1",
            "34CD",
            "application-registered",
            bsn,
            json!({"school": school("34CD"), "date": "2026-03-28"})
        ),
        school_event(
            "vo-2",
            "34CD",
            "admission-decided",
            bsn,
            json!({"school": school("34CD"), "date": "2026-05-10", "decision": "toegelaten"})
        ),
    ]);
    assert_eq!(post(&env, LAS_VO_TOKEN, vo).await.0, 202);
    env.tick_days(date(2026, 5, 9), date(2026, 5, 11));

    // the task reaches both schools, signed
    assert!(
        eventually(Duration::from_secs(30), || rx.received().len() >= 2).await,
        "opened webhooks: {:?}",
        rx.received()
    );
    let opened = rx.received();
    let mut who: Vec<&str> = opened.iter().map(|r| r.contact.as_str()).collect();
    who.sort();
    assert_eq!(who, ["ib-12ab", "zc-34cd"]);
    assert!(opened.iter().all(|r| r.signal_is_valid()));
    let data = &opened[0].body["data"];
    assert_eq!(data["rule"], "R2b");
    assert_eq!(data["dueDate"], "2026-07-01");
    assert!(
        !opened.iter().any(|r| r.raw.contains(bsn.as_str())),
        "no BSN in a webhook"
    );
    let sid = data["signalId"].as_str().expect("signalId").to_owned();

    // wrong answers get a clear refusal and write nothing
    let (s, p) = post(
        &env,
        IB_TOKEN,
        json!([answer(
            "x-1",
            "acknowledged",
            &sid,
            "2026-05-11T10:00:00+02:00"
        )]),
    )
    .await;
    assert_eq!(s, 409, "the sender does not acknowledge: {p}");
    assert!(
        p["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("receiving side"),
        "{p}"
    );
    let (s, p) = post(
        &env,
        ZC_TOKEN,
        json!([answer(
            "x-2",
            "completed",
            &sid,
            "2026-05-11T10:00:00+02:00"
        )]),
    )
    .await;
    assert_eq!(s, 409, "complete before acknowledge: {p}");
    let (s, p) = post(
        &env,
        LP_TOKEN,
        json!([answer(
            "x-3",
            "acknowledged",
            &sid,
            "2026-05-11T10:00:00+02:00"
        )]),
    )
    .await;
    assert_eq!(s, 403, "a contact the task is not addressed to: {p}");
    assert_eq!(p["errors"][0]["field"], "data.signalId");
    let (s, p) = post(
        &env,
        ZC_TOKEN,
        json!([answer(
            "x-4",
            "acknowledged",
            "0123456789abcdef0123456789abcdef",
            "2026-05-11T10:00:00+02:00"
        )]),
    )
    .await;
    assert_eq!(s, 422, "an unknown task: {p}");
    let (s, _) = post(
        &env,
        LAS_TOKEN,
        json!([answer(
            "x-5",
            "acknowledged",
            &sid,
            "2026-05-11T10:00:00+02:00"
        )]),
    )
    .await;
    assert_eq!(s, 422, "a source token cannot answer tasks");
    assert!(
        env.read(Topic::RESPONSES).is_empty(),
        "refused answers are not logged"
    );

    // the receiver acknowledges; the sender hears of it
    let (s, p) = post(
        &env,
        ZC_TOKEN,
        json!([answer(
            "ack-1",
            "acknowledged",
            &sid,
            "2026-05-12T09:00:00+02:00"
        )]),
    )
    .await;
    assert_eq!(s, 202, "{p}");
    assert!(
        eventually(Duration::from_secs(30), || r2b_steps(&env)
            .contains(&"acknowledged".to_owned()))
        .await,
        "acknowledged step: {:?}",
        r2b_steps(&env)
    );
    assert!(
        eventually(Duration::from_secs(30), || rx
            .received()
            .iter()
            .any(
                |r| r.contact == "ib-12ab" && r.body["data"]["step"] == "acknowledged"
            ))
        .await,
        "the ib is told the task was acknowledged"
    );

    // both sides confirm the conversation took place
    let (s, p) = post(
        &env,
        IB_TOKEN,
        json!([answer(
            "done-1",
            "completed",
            &sid,
            "2026-05-20T16:00:00+02:00"
        )]),
    )
    .await;
    assert_eq!(s, 202, "{p}");
    let (s, p) = post(
        &env,
        ZC_TOKEN,
        json!([answer(
            "done-2",
            "completed",
            &sid,
            "2026-05-20T16:30:00+02:00"
        )]),
    )
    .await;
    assert_eq!(s, 202, "{p}");
    assert!(
        eventually(Duration::from_secs(30), || r2b_steps(&env)
            .contains(&"completed".to_owned()))
        .await,
        "completed step: {:?}",
        r2b_steps(&env)
    );
    let (s, _) = post(
        &env,
        ZC_TOKEN,
        json!([answer(
            "late-1",
            "cancelled",
            &sid,
            "2026-05-21T09:00:00+02:00"
        )]),
    )
    .await;
    assert_eq!(s, 409, "nothing after completion");

    // past the reminder and the due date: a completed task stays quiet
    for d in ["2026-06-27", "2026-06-28", "2026-07-01", "2026-07-16"] {
        env.tick(d);
    }
    // every tick folded (its signals, if any, written before the commit)
    env.await_committed("rules", Topic::CLOCK).await;
    assert_eq!(r2b_steps(&env), ["opened", "acknowledged", "completed"]);
    let responses = env.read(Topic::RESPONSES);
    assert_eq!(responses.len(), 3, "ack and two confirmations are logged");
    for r in &responses {
        let raw = String::from_utf8_lossy(r.value.as_deref().unwrap_or_default()).into_owned();
        assert!(!raw.contains(bsn.as_str()), "no BSN on hub.responses");
    }
    let deadletters = env.read(Topic::DEADLETTER);
    assert!(
        deadletters.is_empty(),
        "rules refused nothing ingest let through"
    );

    // why did it fire? rule, steps, facts and policy values, in Dutch and English, no BSN
    let nl = String::from_utf8_lossy(&env.schakel(&["explain", &sid]).stdout).into_owned();
    for part in [
        "Regel: R2b",
        "warme overdracht van de intern begeleider naar de zorgcoördinator",
        "po-1: nl.schakel.school.enrolment-registered.v1",
        "po-2: nl.schakel.school.support-started.v1",
        "vo-2: nl.schakel.school.admission-decided.v1",
        "policy.school_year.vo_handoff_due = 07-01",
        "acknowledged",
        "completed",
        "zorgcoordinator → school:34CD",
    ] {
        assert!(nl.contains(part), "explain lacks {part:?}:\n{nl}");
    }
    assert!(!nl.contains(bsn.as_str()) && !nl.contains("Testachternaam"));
    let en = String::from_utf8_lossy(&env.schakel(&["explain", &sid, "--lang", "en"]).stdout)
        .into_owned();
    assert!(
        en.contains("Rule: R2b — A pupil with a support context"),
        "{en}"
    );
    assert!(en.contains("Facts (events):"), "{en}");
}
