//! Black-box tests of `POST /v1/events` against the real broker: each bad request gets its
//! documented status and a problem document naming every wrong field, and nothing reaches
//! Kafka; a good batch is written with CloudEvents headers and without the BSN.

use schakel_core::domain::catalogue::Topic;
use schakel_e2e::{assignment_event, bsns, Env, Region, JEUGDHULP_TOKEN, LAS_TOKEN};
use serde_json::{json, Value};

const SOURCE_TOPICS: &[Topic] = &[
    Topic::SCHOOL,
    Topic::VOORSCHOOL,
    Topic::LEERPLICHT,
    Topic::JEUGDHULP,
];

struct Api {
    url: String,
    client: reqwest::Client,
}

impl Api {
    async fn post(
        &self,
        token: Option<&str>,
        content_type: &str,
        body: Vec<u8>,
    ) -> (u16, Value, reqwest::header::HeaderMap) {
        let mut req = self
            .client
            .post(&self.url)
            .header("content-type", content_type)
            .body(body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let resp = req.send().await.expect("request");
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        if status >= 400 {
            assert_eq!(
                headers.get("content-type").and_then(|v| v.to_str().ok()),
                Some("application/problem+json"),
                "status {status} must come with a problem document"
            );
        }
        let body = resp.json::<Value>().await.unwrap_or(Value::Null);
        (status, body, headers)
    }

    async fn batch(&self, token: &str, events: &Value) -> (u16, Value) {
        let (s, b, _) = self
            .post(
                Some(token),
                "application/cloudevents-batch+json",
                serde_json::to_vec(events).unwrap(),
            )
            .await;
        (s, b)
    }
}

fn fields(problem: &Value) -> Vec<(u64, String)> {
    problem["errors"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|e| {
                    (
                        e["index"].as_u64().unwrap(),
                        e["field"].as_str().unwrap().to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

fn setup() -> (Env, schakel_e2e::Proc, Api) {
    setup_on(Region::new().start())
}

fn setup_on(env: Env) -> (Env, schakel_e2e::Proc, Api) {
    let ingest = env.spawn_ingest();
    let api = Api {
        url: env.ingest_url(),
        client: reqwest::Client::new(),
    };
    (env, ingest, api)
}

fn assert_nothing_written(env: &Env) {
    for t in SOURCE_TOPICS {
        assert!(env.read(*t).is_empty(), "{t} must stay empty");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_requests_get_their_status_and_problem_and_write_nothing() {
    let (env, _ingest, api) = setup();
    let b = bsns(2, 3);

    // malformed JSON → 400
    let (s, p, _) = api
        .post(
            Some(JEUGDHULP_TOKEN),
            "application/cloudevents+json",
            b"{\"specversion\": ".to_vec(),
        )
        .await;
    assert_eq!(s, 400);
    assert_eq!(p["type"], "urn:nl:schakel:problem:malformed-json");

    // no token / unknown token → 401
    let (s, _, h) = api
        .post(None, "application/cloudevents+json", b"{}".to_vec())
        .await;
    assert_eq!(s, 401);
    assert_eq!(h.get("www-authenticate").unwrap(), "Bearer");
    let (s, _, _) = api
        .post(Some("nope"), "application/cloudevents+json", b"{}".to_vec())
        .await;
    assert_eq!(s, 401);

    // wrong content type → 415
    let (s, _, _) = api
        .post(Some(JEUGDHULP_TOKEN), "text/plain", b"{}".to_vec())
        .await;
    assert_eq!(s, 415);

    // invalid BSN, unknown type and several wrong fields: 422 names each, by index
    let mut bad_bsn = assignment_event("x-1", "123456789", "2008-07-12", "T1");
    bad_bsn["data"]["einddatum"] = json!("2025-01-01"); // before ingangsdatum
    let mut unknown_type = assignment_event("x-2", &b[0], "2008-07-12", "T2");
    unknown_type["type"] = json!("nl.schakel.jeugdhulp.assignment-guessed.v1");
    let mut many = assignment_event("x-3", &b[1], "2008-13-40", "T3");
    many["data"]["gemeente"] = json!("392");
    many["data"]["product"] = json!({"categorie": "vijf"});
    many["data"]["toewijzingTijdstip"] = json!("gisteren");
    many["data"]["child"]["residenceMunicipality"] = json!(392);
    many["data"]["ploduct"] = json!(1);
    many["specversion"] = json!("0.3");
    let ok = assignment_event("x-4", &b[0], "2008-07-12", "T4");
    let (s, p) = api
        .batch(JEUGDHULP_TOKEN, &json!([bad_bsn, unknown_type, many, ok]))
        .await;
    assert_eq!(s, 422, "{p}");
    assert_eq!(p["type"], "urn:nl:schakel:problem:invalid-events");
    let f = fields(&p);
    for want in [
        (0, "data.child.bsn"),
        (0, "data.einddatum"),
        (1, "type"),
        (2, "specversion"),
        (2, "data.child.birthDate"),
        (2, "data.child.residenceMunicipality"),
        (2, "data.gemeente"),
        (2, "data.product.categorie"),
        (2, "data.toewijzingTijdstip"),
        (2, "data.ploduct"),
    ] {
        assert!(
            f.contains(&(want.0, want.1.to_owned())),
            "missing {want:?} in {f:?}"
        );
    }
    assert!(
        f.iter().all(|(i, _)| *i != 3),
        "the valid event has no errors: {f:?}"
    );
    let body = p.to_string();
    assert!(
        !body.contains("123456789"),
        "a problem document never echoes a BSN"
    );

    // a school token cannot write jeugdhulp facts; a gemeente token not for another gemeente → 403
    let (s, p) = api
        .batch(
            LAS_TOKEN,
            &json!([assignment_event("y-1", &b[0], "2008-07-12", "T5")]),
        )
        .await;
    assert_eq!(s, 403, "{p}");
    assert!(fields(&p).contains(&(0, "type".to_owned())));
    let mut other = assignment_event("y-2", &b[0], "2008-07-12", "T6");
    other["data"]["gemeente"] = json!("0363");
    let (s, p) = api
        .batch(
            JEUGDHULP_TOKEN,
            &json!([assignment_event("y-3", &b[1], "2008-07-12", "T7"), other]),
        )
        .await;
    assert_eq!(s, 403, "{p}");
    assert_eq!(fields(&p), vec![(1, "data.gemeente".to_owned())]);

    // oversized: more than 1000 events, and more than 4 MiB → 413
    let big: Vec<Value> = (0..1001)
        .map(|i| assignment_event(&format!("z-{i}"), &b[0], "2008-07-12", "T8"))
        .collect();
    let (s, p) = api.batch(JEUGDHULP_TOKEN, &Value::Array(big)).await;
    assert_eq!(s, 413, "{p}");
    let huge = format!("[{}]", " ".repeat(5 * 1024 * 1024));
    let (s, _, _) = api
        .post(
            Some(JEUGDHULP_TOKEN),
            "application/cloudevents-batch+json",
            huge.into_bytes(),
        )
        .await;
    assert_eq!(s, 413);

    assert_nothing_written(&env);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_good_batch_is_acknowledged_after_the_broker_has_it() {
    let (env, _ingest, api) = setup();
    let b = bsns(2, 5);
    let events = json!([
        assignment_event("g-1", &b[0], "2008-07-12", "T1"),
        assignment_event("g-2", &b[1], "2009-03-01", "T2"),
    ]);
    let (s, p) = api.batch(JEUGDHULP_TOKEN, &events).await;
    assert_eq!(s, 202, "{p}");
    assert_eq!(p, json!({"accepted": 2}));
    let recs = env.read(Topic::JEUGDHULP);
    assert_eq!(recs.len(), 2);
    for r in &recs {
        let v = r.value.as_deref().unwrap();
        assert_eq!(&v[..2], &[0xC3, 0x01], "Avro single-object encoding");
        let text = String::from_utf8_lossy(v);
        assert!(
            !text.contains(&b[0]) && !text.contains(&b[1]),
            "no BSN in the log"
        );
        assert!(!text.contains("Testachternaam"), "no name in the log");
        assert_eq!(
            r.key.as_deref().map(str::len),
            Some(64),
            "keyed by ChildKey"
        );
    }
    // re-sending the same batch is accepted; downstream folds deduplicate by (source, id)
    let (s, _) = api.batch(JEUGDHULP_TOKEN, &events).await;
    assert_eq!(s, 202);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unreachable_broker_gives_503_with_retry_after() {
    let (mut env, _ingest, api) = setup_on(Region::new().own_broker().start());
    env.kill_broker();
    let b = bsns(1, 9);
    let (s, b2, h) = api
        .post(
            Some(JEUGDHULP_TOKEN),
            "application/cloudevents+json",
            serde_json::to_vec(&assignment_event("u-1", &b[0], "2008-07-12", "T1")).unwrap(),
        )
        .await;
    assert_eq!(s, 503, "{b2}");
    assert!(h.get("retry-after").is_some());
}
