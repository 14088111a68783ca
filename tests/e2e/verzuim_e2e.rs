//! The DUO verzuim melding lifecycle at the API, against the real broker: impossible status
//! changes get 409 naming the field and write nothing, a re-sent change is not a change, the
//! view survives a crash of ingest, a batch lands in the log in the order it was sent, and a
//! CSV import rejects the row with the impossible status by line and column.

use schakel_core::domain::catalogue::Topic;
use schakel_e2e::{bsns, Env, Region, LEERPLICHT_TOKEN};
use serde_json::{json, Value};

fn event(id: &str, kind: &str, data: Value) -> Value {
    json!({
        "specversion": "1.0",
        "id": id,
        "source": "urn:nld:gemeente:0392:systeem:leerplicht",
        "type": format!("nl.schakel.leerplicht.{kind}.v1"),
        "time": "2026-02-02T09:00:00+01:00",
        "datacontenttype": "application/json",
        "data": data,
    })
}

fn child(bsn: &str) -> Value {
    json!({"bsn": bsn, "birthDate": "2012-05-05", "residenceMunicipality": "0392"})
}

fn reported(id: &str, bsn: &str, nummer: &str) -> Value {
    event(
        id,
        "verzuim-reported",
        json!({"child": child(bsn), "school": {"brin": "12AB", "vestiging": "00"},
               "meldingsnummer": nummer, "kind": "16-uur", "firstAbsenceDate": "2026-01-20"}),
    )
}

fn status(id: &str, bsn: &str, nummer: &str, status: &str) -> Value {
    event(
        id,
        "verzuim-status-changed",
        json!({"child": child(bsn), "meldingsnummer": nummer, "status": status}),
    )
}

/// (index, field, message) of each error of a problem document.
fn errors(problem: &Value) -> Vec<(u64, String, String)> {
    problem["errors"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| {
            (
                e["index"].as_u64().unwrap(),
                e["field"].as_str().unwrap().to_owned(),
                e["message"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn ids(env: &Env) -> Vec<String> {
    env.read(Topic::LEERPLICHT)
        .iter()
        .map(|r| {
            let v = r.value.as_deref().expect("a fact");
            let ev: schakel_core::domain::events::LeerplichtEvent =
                schakel_core::log::schemas::registry()
                    .decode(Topic::LEERPLICHT, v)
                    .expect("decodes");
            ev.id
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn impossible_status_changes_are_refused_by_field_and_a_batch_keeps_its_order() {
    let env = Region::new().start();
    let mut ingest = env.spawn_ingest();
    let b = bsns(2, 41);
    let post = |events: Value| {
        let env = &env;
        async move { env.post_batch(LEERPLICHT_TOKEN, &events).await }
    };

    // reported and taken in behandeling in one batch
    let (s, p) = post(json!([
        reported("v-1", &b[0], "V1"),
        status("v-2", &b[0], "V1", "in-behandeling")
    ]))
    .await;
    assert_eq!(s, 202, "{p}");

    // back to geregistreerd: impossible, and the answer says what is possible
    let (s, p) = post(json!([status("v-3", &b[0], "V1", "geregistreerd")])).await;
    assert_eq!(s, 409, "{p}");
    let e = errors(&p);
    assert_eq!(e.len(), 1, "{p}");
    assert_eq!((e[0].0, e[0].1.as_str()), (0, "data.status"));
    assert!(
        e[0].2
            .contains("in-behandeling cannot become geregistreerd")
            && e[0].2.contains("afgesloten, ingetrokken"),
        "{p}"
    );

    // the same number for another child is another melding, which was never reported
    let (s, p) = post(json!([status("v-4", &b[1], "V1", "afgesloten")])).await;
    assert_eq!(s, 409, "{p}");
    let e = errors(&p);
    assert_eq!((e[0].0, e[0].1.as_str()), (0, "data.meldingsnummer"), "{p}");

    // a batch is accepted whole or not at all: a closing followed by a reopening
    let (s, p) = post(json!([
        status("v-5", &b[0], "V1", "afgesloten"),
        status("v-6", &b[0], "V1", "in-behandeling")
    ]))
    .await;
    assert_eq!(s, 409, "{p}");
    let e = errors(&p);
    assert_eq!(e.len(), 1, "{p}");
    assert_eq!((e[0].0, e[0].1.as_str()), (1, "data.status"));
    assert!(e[0].2.contains("afgesloten, a final status"), "{p}");
    assert_eq!(
        ids(&env),
        ["v-1", "v-2"],
        "nothing of a refused request is written"
    );

    // closed; sending the same event again is a re-send, not a change
    for _ in 0..2 {
        let (s, p) = post(json!([status("v-5", &b[0], "V1", "afgesloten")])).await;
        assert_eq!(s, 202, "{p}");
    }

    // after a crash ingest reads the meldingen back from the log
    ingest.kill9();
    let _ingest = env.spawn_ingest();
    let (s, p) = post(json!([status("v-7", &b[0], "V1", "in-behandeling")])).await;
    assert_eq!(
        s, 409,
        "the closed melding stays closed after a restart: {p}"
    );
    let (s, p) = post(json!([status("v-5", &b[0], "V1", "afgesloten")])).await;
    assert_eq!(s, 202, "still a re-send after a restart: {p}");

    // 40 meldingen for one child, each reported and then closed, in one batch of 80: the log
    // holds them in the order sent, so no status ever arrives before its melding
    let mut batch = Vec::new();
    for i in 0..40 {
        batch.push(reported(&format!("o-{i}-r"), &b[1], &format!("W{i}")));
        batch.push(status(
            &format!("o-{i}-s"),
            &b[1],
            &format!("W{i}"),
            "ter-kennisgeving-aangenomen",
        ));
    }
    let sent: Vec<String> = batch
        .iter()
        .map(|e| e["id"].as_str().unwrap().to_owned())
        .collect();
    let (s, p) = post(Value::Array(batch)).await;
    assert_eq!(s, 202, "{p}");
    let all = ids(&env);
    let (batch, before): (Vec<String>, Vec<String>) =
        all.into_iter().partition(|i| i.starts_with("o-"));
    assert_eq!(before, ["v-1", "v-2", "v-5", "v-5", "v-5"]);
    assert_eq!(batch, sent, "the batch in the order sent");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_csv_import_rejects_the_row_with_an_impossible_status_by_line_and_column() {
    let env = Region::new().start();
    let _ingest = env.spawn_ingest();
    let b = bsns(1, 43);
    let csv = format!(
        "meldingsnummer;bsn;geboortedatum;brin;vestiging;soort;eerste_verzuimdag;status;gemeente\r\n\
         M-1;{b};01-01-2012;12AB;00;LRV;01-10-2025;in behandeling;0392\r\n\
         M-1;{b};01-01-2012;12AB;00;LRV;01-10-2025;geregistreerd;0392\r\n\
         M-2;{b};01-01-2012;12AB;00;16 uur;01-10-2025;afgesloten;0392\r\n\
         M-1;{b};01-01-2012;12AB;00;LRV;01-10-2025;afgesloten;0392\r\n",
        b = b[0]
    );
    let resp = reqwest::Client::new()
        .post(format!(
            "http://127.0.0.1:{}/v1/imports/verzuim",
            env.ingest_port
        ))
        .bearer_auth(LEERPLICHT_TOKEN)
        .header("content-type", "text/csv")
        .body(csv)
        .send()
        .await
        .expect("import");
    assert_eq!(resp.status().as_u16(), 200);
    let s: Value = resp.json().await.unwrap();
    assert_eq!(
        (s["rows"].as_u64(), s["accepted"].as_u64()),
        (Some(4), Some(3)),
        "{s}"
    );
    assert_eq!(
        s["rejected"],
        json!([{"line": 3, "errors": [{"column": "status", "message":
            "a melding that is in-behandeling cannot become geregistreerd; it can become afgesloten, ingetrokken"}]}]),
        "{s}"
    );
    // two meldingen reported (M-1 twice), three status changes
    assert_eq!(ids(&env).len(), 6);
}
