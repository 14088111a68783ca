//! Answers to handoff tasks through `POST /v1/events`, given in quick succession: ingest judges
//! each answer against the task including the answers it accepted a moment ago (that rules
//! has not folded yet), so ingest and rules decide the same way whatever the timing. Also: a
//! contact token that posts a source event is refused as out of scope (403).

use jiff::civil::date;
use std::collections::HashMap;
use std::time::Duration;

use schakel_core::domain::catalogue::Topic;
use schakel_e2e::{bsns, eventually, Env, Region, LAS_TOKEN};
use serde_json::{json, Value};

const LAS_VO_TOKEN: &str = "test-las-34CD";
const IB_TOKEN: &str = "test-contact-ib-12ab";
const ZC_TOKEN: &str = "test-contact-zc-34cd";

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
"#;

const DIRECTORY: &str = r#"
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
email = "ib@schakel.example"

[[contact]]
id = "zc-34cd"
name = "Zorgcoördinator Het Lyceum"
institution = "school:34CD"
roles = ["zorgcoordinator"]
email = "zc@lyceum.example"
"#;

fn school_event(id: &str, brin: &str, ty: &str, bsn: &str, mut data: Value) -> Value {
    data["child"] = json!({"bsn": bsn, "birthDate": "2013-09-01", "residenceMunicipality": "0392"});
    json!({
        "specversion": "1.0", "id": id,
        "source": format!("urn:nld:brin:{brin}:systeem:las"),
        "type": format!("nl.schakel.school.{ty}.v1"),
        "time": "2026-05-10T09:00:00+02:00",
        "datacontenttype": "application/json",
        "data": data
    })
}

/// The facts that open an R2b task (PO pupil with an OPP, admitted to VO) for `bsn`; the
/// event ids start with `tag`, so the task's signal can be told apart by its facts.
async fn open_r2b(env: &Env, tag: &str, bsn: &str) {
    let school = |brin: &str| json!({"brin": brin, "vestiging": "00"});
    let po = json!([
        school_event(
            &format!("{tag}-po-1"),
            "12AB",
            "enrolment-registered",
            bsn,
            json!({"school": school("12AB"), "sector": "po", "grade": 5, "startDate": "2022-08-20"})
        ),
        school_event(
            &format!("{tag}-po-2"),
            "12AB",
            "support-started",
            bsn,
            json!({"school": school("12AB"), "support": "opp", "date": "2024-01-10"})
        ),
    ]);
    let (s, p) = env.post_batch(LAS_TOKEN, &po).await;
    assert_eq!(s, 202, "{p}");
    let vo = json!([
        school_event(
            &format!("{tag}-vo-1"),
            "34CD",
            "application-registered",
            bsn,
            json!({"school": school("34CD"), "date": "2026-03-28"})
        ),
        school_event(
            &format!("{tag}-vo-2"),
            "34CD",
            "admission-decided",
            bsn,
            json!({"school": school("34CD"), "date": "2026-05-10", "decision": "toegelaten"})
        ),
    ]);
    let (s, p) = env.post_batch(LAS_VO_TOKEN, &vo).await;
    assert_eq!(s, 202, "{p}");
}

fn answer(id: &str, kind: &str, signal_id: &str) -> Value {
    json!({
        "specversion": "1.0", "id": id,
        "source": "urn:nld:brin:34CD:systeem:inbox",
        "type": format!("nl.schakel.hub.handoff-{kind}.v1"),
        "time": "2026-05-12T09:00:00+02:00",
        "datacontenttype": "application/json",
        "data": {"signalId": signal_id, "at": "2026-05-12T09:00:00+02:00"}
    })
}

/// Posts one answer; its status and the first error message, if any.
async fn say(env: &Env, token: &str, id: &str, kind: &str, signal_id: &str) -> (u16, String) {
    let (s, p) = env
        .post_batch(token, &json!([answer(id, kind, signal_id)]))
        .await;
    let message = p["errors"][0]["message"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    (s, message)
}

/// The steps of each R2b task in `hub.signals.v1`, by signal id.
fn steps(env: &Env) -> HashMap<String, Vec<String>> {
    let mut out: HashMap<String, Vec<String>> = HashMap::new();
    for s in env.signals().into_iter().filter(|s| s.rule == "R2b") {
        out.entry(s.signal_id).or_default().push(s.step);
    }
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn answers_in_quick_succession_are_judged_as_rules_judges_them() {
    let env = Region::new().config(TOKENS).start();
    env.apply_directory(DIRECTORY);
    let _ingest = env.spawn_ingest();
    let _rules = env.spawn_rules();

    let tags = ["twice", "complete", "cancel", "confirm", "race"];
    let children = bsns(tags.len(), 171);
    for (tag, bsn) in tags.iter().zip(&children) {
        open_r2b(&env, tag, bsn).await;
    }
    env.await_rules_read(Topic::SCHOOL, 4 * tags.len() as u64)
        .await;
    env.tick_days(date(2026, 5, 9), date(2026, 5, 11));
    let mut task: HashMap<&str, String> = HashMap::new();
    assert!(
        eventually(Duration::from_secs(30), || {
            for s in env.signals() {
                if s.rule == "R2b" && s.step == "opened" {
                    if let Some(tag) = tags
                        .iter()
                        .find(|t| s.facts.iter().any(|f| f.starts_with(&format!("{t}-"))))
                    {
                        task.insert(tag, s.signal_id.clone());
                    }
                }
            }
            task.len() == tags.len()
        })
        .await,
        "an R2b task for every child: {task:?}"
    );

    // ack + ack: the second is refused; re-sending the first is harmless
    let t = &task["twice"];
    assert_eq!(say(&env, ZC_TOKEN, "a1", "acknowledged", t).await.0, 202);
    let (s, m) = say(&env, ZC_TOKEN, "a2", "acknowledged", t).await;
    assert_eq!(s, 409, "a second acknowledgement at once: {m}");
    assert!(m.contains("already acknowledged"), "{m}");
    assert_eq!(
        say(&env, ZC_TOKEN, "a1", "acknowledged", t).await.0,
        202,
        "the same answer sent again is a re-send, not a second answer"
    );

    // ack + complete + complete: both sides confirm at once after the acknowledgement
    let t = &task["complete"];
    assert_eq!(say(&env, ZC_TOKEN, "b1", "acknowledged", t).await.0, 202);
    let (s, m) = say(&env, IB_TOKEN, "b2", "completed", t).await;
    assert_eq!(
        s, 202,
        "the sender confirms right after the acknowledgement: {m}"
    );
    let (s, m) = say(&env, ZC_TOKEN, "b3", "completed", t).await;
    assert_eq!(s, 202, "the receiver confirms: {m}");
    let (s, m) = say(&env, IB_TOKEN, "b4", "cancelled", t).await;
    assert_eq!(s, 409, "nothing after completion: {m}");

    // ack + cancel, then nothing more
    let t = &task["cancel"];
    assert_eq!(say(&env, ZC_TOKEN, "c1", "acknowledged", t).await.0, 202);
    assert_eq!(say(&env, IB_TOKEN, "c2", "cancelled", t).await.0, 202);
    let (s, m) = say(&env, ZC_TOKEN, "c3", "completed", t).await;
    assert_eq!(s, 409, "nothing after cancellation: {m}");
    assert!(m.contains("already cancelled"), "{m}");

    // one side confirming twice (no signal step in between tells the view)
    let t = &task["confirm"];
    assert_eq!(say(&env, ZC_TOKEN, "d1", "acknowledged", t).await.0, 202);
    assert_eq!(say(&env, IB_TOKEN, "d2", "completed", t).await.0, 202);
    let (s, m) = say(&env, IB_TOKEN, "d3", "completed", t).await;
    assert_eq!(s, 409, "the sender already confirmed: {m}");
    assert!(m.contains("already confirmed"), "{m}");

    // two acknowledgements at the same moment: exactly one is accepted
    let t = &task["race"];
    let (x, y) = tokio::join!(
        say(&env, ZC_TOKEN, "e1", "acknowledged", t),
        say(&env, ZC_TOKEN, "e2", "acknowledged", t)
    );
    let mut both = [x.0, y.0];
    both.sort_unstable();
    assert_eq!(
        both,
        [202, 409],
        "one of two simultaneous acks: {x:?} {y:?}"
    );

    // rules folds every accepted answer and refuses none of them
    let logged = env.read(Topic::RESPONSES).len() as u64;
    env.await_rules_read(Topic::RESPONSES, logged).await;
    let want: [(&str, &[&str]); 5] = [
        ("twice", &["opened", "acknowledged"]),
        ("complete", &["opened", "acknowledged", "completed"]),
        ("cancel", &["opened", "acknowledged", "cancelled"]),
        ("confirm", &["opened", "acknowledged"]),
        ("race", &["opened", "acknowledged"]),
    ];
    let of = |got: &HashMap<String, Vec<String>>, tag: &str| -> Vec<String> {
        got.get(&task[tag]).cloned().unwrap_or_default()
    };
    eventually(Duration::from_secs(30), || {
        let got = steps(&env);
        want.iter().all(|(tag, w)| of(&got, tag) == *w)
    })
    .await;
    let got = steps(&env);
    for (tag, w) in want {
        assert_eq!(of(&got, tag), w, "steps of {tag}");
    }
    let refused = env.read(Topic::DEADLETTER);
    assert!(
        refused.is_empty(),
        "rules refused {} answer(s) that ingest accepted",
        refused.len()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_contact_token_posting_a_source_event_is_out_of_scope() {
    let env = Region::new().config(TOKENS).start();
    let _ingest = env.spawn_ingest();
    let bsn = &bsns(1, 172)[0];
    let event = school_event(
        "src-1",
        "34CD",
        "enrolment-registered",
        bsn,
        json!({"school": {"brin": "34CD", "vestiging": "00"}, "sector": "vo", "grade": 1,
               "startDate": "2026-08-20"}),
    );
    let (s, p) = env.post_batch(ZC_TOKEN, &json!([event])).await;
    assert_eq!(s, 403, "a contact token writes no source facts: {p}");
    assert_eq!(p["type"], "urn:nl:schakel:problem:out-of-scope", "{p}");
    assert_eq!(p["errors"][0]["index"], 0, "{p}");
    assert_eq!(p["errors"][0]["field"], "type", "{p}");
    assert!(
        env.read(Topic::SCHOOL).is_empty() && env.read(Topic::RESPONSES).is_empty(),
        "nothing is written"
    );
}
