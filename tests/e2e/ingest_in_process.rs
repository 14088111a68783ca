//! Ingest in process: its `run` on a listener of port 0, against the run's broker, takes every
//! event type a source system may post (EVENTS.md; the source types of the catalogue) and
//! writes each to its source topic, under its own type and source, without the BSN.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use schakel_core::domain::catalogue::{EventType, Topic};
use schakel_core::runtime::config::Config;
use schakel_core::runtime::shutdown::Shutdown;
use schakel_e2e::{
    assignment_event, bsns, Env, Region, JEUGDHULP_TOKEN, LAS_TOKEN, LEERPLICHT_TOKEN,
};
use serde_json::{json, Value};

const VOORSCHOOL_TOKEN: &str = "test-voorschool-123456789";
const SCHOOL: &str = "urn:nld:brin:12AB:systeem:parnassys";
const VOORSCHOOL: &str = "urn:nld:lrk:123456789:systeem:kinderopvang";
const LEERPLICHT: &str = "urn:nld:gemeente:0392:systeem:leerplicht";
const JEUGDHULP: &str = "urn:nld:gemeente:0392:systeem:jeugdhulp";

/// One source kind: its token, its source URN, its topic and the `data` of each of its types.
type Kind = (
    &'static str,
    &'static str,
    Topic,
    Vec<(&'static str, Value)>,
);

/// The `data` (besides `child`) of every type, by source kind.
fn samples() -> Vec<Kind> {
    let school = json!({"brin": "12AB", "vestiging": "00"});
    let product = json!({"categorie": "45", "code": "45A12"});
    vec![
        (
            LAS_TOKEN,
            SCHOOL,
            Topic::SCHOOL,
            vec![
                (
                    "school.enrolment-registered",
                    json!({"school": school, "sector": "po", "grade": 8, "startDate": "2025-08-25"}),
                ),
                (
                    "school.enrolment-ended",
                    json!({"school": school, "endDate": "2026-07-10", "reason": "andere-school"}),
                ),
                (
                    "school.application-registered",
                    json!({"school": school, "date": "2026-03-01"}),
                ),
                (
                    "school.admission-decided",
                    json!({"school": school, "date": "2026-04-01", "decision": "toegelaten"}),
                ),
                (
                    "school.advice-given",
                    json!({"kind": "definitief", "level": "havo", "date": "2026-02-01"}),
                ),
                (
                    "school.support-started",
                    json!({"school": school, "support": "opp", "date": "2025-10-01"}),
                ),
                (
                    "school.support-ended",
                    json!({"school": school, "support": "opp", "date": "2026-06-01"}),
                ),
            ],
        ),
        (
            VOORSCHOOL_TOKEN,
            VOORSCHOOL,
            Topic::VOORSCHOOL,
            vec![
                (
                    "voorschool.placement-started",
                    json!({"location": {"lrk": "123456789"}, "vveIndication": true, "date": "2024-09-01"}),
                ),
                (
                    "voorschool.placement-ended",
                    json!({"location": {"lrk": "123456789"}, "vveIndication": true, "date": "2026-03-01"}),
                ),
            ],
        ),
        (
            LEERPLICHT_TOKEN,
            LEERPLICHT,
            Topic::LEERPLICHT,
            vec![
                (
                    "leerplicht.verzuim-reported",
                    json!({"school": school, "meldingsnummer": "M-2026-1", "kind": "16-uur", "firstAbsenceDate": "2026-11-02"}),
                ),
                (
                    "leerplicht.verzuim-status-changed",
                    json!({"meldingsnummer": "M-2026-1", "status": "in-behandeling"}),
                ),
                (
                    "leerplicht.vrijstelling-granted",
                    json!({"kind": "5-onder-a", "from": "2026-01-01", "until": "2026-12-31"}),
                ),
                (
                    "leerplicht.vrijstelling-ended",
                    json!({"kind": "5-onder-a", "from": "2026-01-01"}),
                ),
                (
                    "leerplicht.thuiszitter-registered",
                    json!({"since": "2026-09-01", "school": school}),
                ),
                (
                    "leerplicht.thuiszitter-resolved",
                    json!({"date": "2026-11-01", "offer": "onderwijs"}),
                ),
            ],
        ),
        (
            JEUGDHULP_TOKEN,
            JEUGDHULP,
            Topic::JEUGDHULP,
            vec![
                (
                    "jeugdhulp.assignment-issued",
                    assignment_event("-", "-", "-", "T1")["data"].clone(),
                ),
                (
                    "jeugdhulp.assignment-withdrawn",
                    json!({"toewijzingNummer": "T1", "date": "2026-02-01"}),
                ),
                (
                    "jeugdhulp.care-started",
                    json!({"toewijzingNummer": "T1", "begindatum": "2025-06-02"}),
                ),
                (
                    "jeugdhulp.care-stopped",
                    json!({"toewijzingNummer": "T1", "begindatum": "2025-06-02", "einddatum": "2026-01-31", "redenBeeindiging": "01"}),
                ),
                (
                    "jeugdhulp.care-withdrawn",
                    json!({"toewijzingNummer": "T1", "record": "start", "begindatum": "2025-06-02"}),
                ),
                (
                    "jeugdhulp.assignment-requested",
                    json!({"referentieAanbieder": "REF-1", "product": product, "ingangsdatum": "2025-06-01", "gemeente": "0392"}),
                ),
            ],
        ),
    ]
}

fn event(id: &str, source: &str, kind: &str, bsn: &str, mut data: Value) -> Value {
    data["child"] = json!({"bsn": bsn, "birthDate": "2012-05-01", "residenceMunicipality": "0392",
                           "name": {"given": "Testvoornaam", "family": "Testachternaam"}});
    json!({"specversion": "1.0", "id": id, "source": source, "type": format!("nl.schakel.{kind}.v1"),
           "time": "2026-11-02T09:00:00+01:00", "datacontenttype": "application/json", "data": data})
}

#[tokio::test(flavor = "multi_thread")]
async fn every_event_type_goes_through_ingest_run_in_process() {
    let env = Region::new().start();
    // the test region with a token for a voorschool location as well
    let text = std::fs::read_to_string(&env.config_path).expect("test config");
    let voorschool = format!(
        "[[ingest.tokens]]\nname = \"voorschool-123456789\"\ntoken = \"{VOORSCHOOL_TOKEN}\"\n\
         kinds = [\"voorschool\"]\ninstitutions = [\"lrk:123456789\"]\n\n[rules]"
    );
    let path = env.write("in-process.toml", &text.replacen("[rules]", &voorschool, 1));
    let cfg = Config::load_from(&path, []).expect("config with a voorschool token");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let shutdown = Shutdown::new();
    let ingest = tokio::spawn(schakel_ingest::run(cfg, listener, shutdown.clone()));
    Env::await_ready(port, Duration::from_secs(60)).await;

    let samples = samples();
    let posted: BTreeSet<String> = samples
        .iter()
        .flat_map(|(_, _, _, types)| types.iter().map(|(k, _)| format!("nl.schakel.{k}.v1")))
        .collect();
    let catalogue: BTreeSet<String> = EventType::sourced().map(|t| t.to_string()).collect();
    assert_eq!(
        posted, catalogue,
        "one sample for every type a source may post"
    );

    let client = reqwest::Client::new();
    let bsn = bsns(1, 11).remove(0);
    let mut want: BTreeMap<Topic, BTreeSet<(String, String)>> = BTreeMap::new();
    for (token, source, topic, types) in &samples {
        let batch: Vec<Value> = types
            .iter()
            .map(|(kind, data)| event(&format!("ip-{kind}"), source, kind, &bsn, data.clone()))
            .collect();
        let resp = client
            .post(format!("http://127.0.0.1:{port}/v1/events"))
            .bearer_auth(token)
            .header("content-type", "application/cloudevents-batch+json")
            .body(serde_json::to_vec(&batch).unwrap())
            .send()
            .await
            .expect("ingest answers");
        let status = resp.status().as_u16();
        let body: Value = resp.json().await.expect("a JSON answer");
        assert_eq!(status, 202, "{topic}: {body}");
        assert_eq!(body, json!({"accepted": types.len()}), "{topic}");
        want.entry(*topic).or_default().extend(
            types
                .iter()
                .map(|(kind, _)| (format!("nl.schakel.{kind}.v1"), source.to_string())),
        );
    }

    // acknowledged means on the topic: every type once, under its source, no BSN, no name
    let reg = schakel_core::log::schemas::registry();
    for (topic, types) in want {
        let mut got = BTreeSet::new();
        for r in env.read(topic) {
            let bytes = r.value.expect("a value");
            let text = String::from_utf8_lossy(&bytes);
            assert!(
                !text.contains(&bsn) && !text.contains("Testachternaam"),
                "{topic}: identity in the log"
            );
            let v = reg
                .decode_json(topic, &bytes)
                .expect("decodes with the topic's schema");
            got.insert((
                v["type"].as_str().unwrap().to_owned(),
                v["source"].as_str().unwrap().to_owned(),
            ));
        }
        assert_eq!(got, types, "{topic}");
    }

    shutdown.trigger();
    tokio::time::timeout(Duration::from_secs(30), ingest)
        .await
        .expect("ingest stops on shutdown")
        .expect("the ingest task")
        .expect("ingest ran without error");
}
