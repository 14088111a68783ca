//! iJw messages end to end: a JW301 for a youth of 17½ posted at /v1/ijw leads to the 18+
//! handoff signal; the answer is a retour per product; the identity goes to the vault only.

use std::time::Duration;

use schakel_core::domain::catalogue::Topic;
use schakel_core::domain::events::{JeugdhulpEvent, SignalEvent};
use schakel_e2e::{eventually, Env, Region, JEUGDHULP_TOKEN, LAS_TOKEN};
use serde_json::Value;

fn fixture(name: &str) -> String {
    let path = format!("{}/fixtures/ijw/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

async fn post_xml(env: &Env, token: &str, ct: &str, body: String) -> (u16, Value) {
    let resp = reqwest::Client::new()
        .post(format!("http://127.0.0.1:{}/v1/ijw", env.ingest_port))
        .bearer_auth(token)
        .header("content-type", ct)
        .body(body)
        .send()
        .await
        .expect("post iJw");
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

fn codes(retour: &Value) -> Vec<Vec<String>> {
    retour["producten"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            p["retourcodes"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["code"].as_str().unwrap().to_owned())
                .collect()
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_jw301_for_a_youth_of_17_and_a_half_opens_the_adulthood_handoff() {
    let env = Region::new().start();
    let _ingest = env.spawn_ingest();
    let _rules = env.spawn_rules();

    // refused whole: wrong content type, broken XML, unknown message, a school token
    let xml = fixture("jw301-toewijzing.xml");
    assert_eq!(
        post_xml(&env, JEUGDHULP_TOKEN, "text/plain", xml.clone())
            .await
            .0,
        415
    );
    let (s, p) = post_xml(
        &env,
        JEUGDHULP_TOKEN,
        "application/xml",
        fixture("broken.xml"),
    )
    .await;
    assert_eq!(s, 400, "{p}");
    assert_eq!(p["type"], "urn:nl:schakel:problem:malformed-body");
    let (s, p) = post_xml(
        &env,
        JEUGDHULP_TOKEN,
        "application/xml",
        fixture("jw399-unknown.xml"),
    )
    .await;
    assert_eq!(s, 400);
    assert!(p["detail"].as_str().unwrap().contains("jw399"), "{p}");
    assert_eq!(
        post_xml(&env, LAS_TOKEN, "application/xml", xml.clone())
            .await
            .0,
        403
    );
    assert!(
        env.read(Topic::JEUGDHULP).is_empty(),
        "nothing written so far"
    );

    // per product: one accepted, one refused with the failed checks
    let (s, r) = post_xml(
        &env,
        JEUGDHULP_TOKEN,
        "application/xml",
        fixture("jw301-two-products-one-bad.xml"),
    )
    .await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(
        (r["accepted"].as_u64(), r["rejected"].as_u64()),
        (Some(1), Some(1))
    );
    let c = codes(&r);
    assert_eq!(c[0], ["0200"]);
    assert!(
        c[1].contains(&"8004".to_owned()) && c[1].contains(&"8006".to_owned()),
        "{c:?}"
    );

    // the toewijzing of a youth born 2008-07-12, sent twice (a re-send keeps its stamp)
    for _ in 0..2 {
        let (s, r) = post_xml(&env, JEUGDHULP_TOKEN, "application/xml", xml.clone()).await;
        assert_eq!(s, 200, "{r}");
        assert_eq!(r["bericht"], "JW301");
        assert_eq!(r["versie"], "3.2");
        assert_eq!(r["identificatie"], "T2026-0001");
        assert_eq!(codes(&r), [["0200"]]);
    }
    let reg = schakel_core::log::schemas::registry();
    let facts: Vec<JeugdhulpEvent> = env
        .read(Topic::JEUGDHULP)
        .into_iter()
        .map(|r| reg.decode(Topic::JEUGDHULP, &r.value.unwrap()).unwrap())
        .collect();
    assert_eq!(facts.len(), 3);
    // (partitions are read in no fixed order: find the re-sent pair by its id)
    let twice: Vec<&JeugdhulpEvent> = facts
        .iter()
        .filter(|f| facts.iter().filter(|g| g.id == f.id).count() == 2)
        .collect();
    assert_eq!(twice.len(), 2, "the re-send carries the same event id");
    env.await_rules_read(Topic::JEUGDHULP, 3).await;
    env.tick("2026-01-12");

    let child = twice[0].child.child_key.clone();
    let r3b = || {
        env.read(Topic::SIGNALS)
            .into_iter()
            .filter_map(|r| reg.decode::<SignalEvent>(Topic::SIGNALS, &r.value?).ok())
            .filter(|s| s.child_key == child && s.rule == "R3b")
            .collect::<Vec<_>>()
    };
    assert!(
        eventually(Duration::from_secs(30), || !r3b().is_empty()).await,
        "the 18+ handoff opens"
    );
    let signals = r3b();
    assert_eq!(signals.len(), 1, "once, though the message came twice");
    assert_eq!(signals[0].step, "opened");
    assert_eq!(signals[0].due_date, Some(jiff::civil::date(2026, 7, 12)));
    assert_eq!(signals[0].municipality.as_deref(), Some("0392"));

    // the BSN and the name reached the vault only, sealed
    for topic in [Topic::JEUGDHULP, Topic::SIGNALS, Topic::IDENTITIES] {
        for rec in env.read(topic) {
            let text = String::from_utf8_lossy(&rec.value.unwrap_or_default()).into_owned();
            assert!(
                !text.contains("999993653") && !text.contains("Fixtureachternaam"),
                "{topic}"
            );
        }
    }
    assert_eq!(
        env.read(Topic::IDENTITIES).len(),
        2,
        "one sealed identity per child"
    );
}
