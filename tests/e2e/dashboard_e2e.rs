//! The Leerplein dashboard over HTTP: `beleid` sees the region's figures protected (small
//! counts as "<5", also in the CSV and JSON), the `leerplicht` of a municipality sees its own
//! residents exactly and may open the list of children behind a figure (each child on it
//! audited), and other roles see nothing.

use std::time::Duration;

use reqwest::header::LOCATION;
use schakel_core::domain::catalogue::{EventType, Topic};
use schakel_core::domain::events::AuditEvent;
use schakel_e2e::{bsns, eventually_async, Env, Region, Session, LEERPLICHT_TOKEN};
use serde_json::{json, Value};

const PASSWORD: &str = "een-lang-testwachtwoord";
const PEIL: &str = "peildatum=2026-04-01&bekend=nu";

fn reads(env: &Env) -> Vec<AuditEvent> {
    let reg = schakel_core::log::schemas::registry();
    env.read(Topic::AUDIT)
        .iter()
        .filter_map(|r| {
            reg.decode::<AuditEvent>(Topic::AUDIT, r.value.as_deref()?)
                .ok()
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn each_role_sees_the_figures_it_may_and_the_list_of_children_is_audited() {
    let env = Region::new()
        .directory(schakel_e2e::DASHBOARD_DIRECTORY)
        .start();
    for who in ["leerplicht-haarlem", "beleid-haarlem", "jeugdteam-haarlem"] {
        env.add_account(who, PASSWORD);
    }
    let _ingest = env.spawn_ingest();
    let _monitor = env.spawn_monitor();
    // seven Haarlem residents out of school since 5 January, three of Bloemendaal since
    // 1 December: on 1 April 7 in "4 weken tot 3 maanden" and 3 in "3 tot 6 maanden"
    let children = bsns(10, 231);
    let events: Vec<Value> = children
        .iter()
        .enumerate()
        .map(|(i, b)| {
            if i < 7 {
                schakel_e2e::thuiszitter_event(&format!("d-{i}"), i, b, "0392", "2026-01-05")
            } else {
                schakel_e2e::thuiszitter_event(&format!("d-{i}"), i, b, "0377", "2025-12-01")
            }
        })
        .collect();
    let (s, body) = env.post_batch(LEERPLICHT_TOKEN, &json!(events)).await;
    assert_eq!(s, 202, "{body}");
    Env::await_ready(env.monitor_port, Duration::from_secs(60)).await;

    // beleid: the whole region, protected
    let beleid = Session::login(&env, PASSWORD, "beleid-haarlem").await;
    let region = format!("/dashboard?{PEIL}");
    assert!(
        eventually_async(
            Duration::from_secs(30),
            Duration::from_millis(200),
            || async {
                beleid
                    .get(&region)
                    .await
                    .1
                    .contains("<th class=\"utrecht-table__header-cell\" scope=\"row\">0377</th>")
            }
        )
        .await,
        "the figures arrive"
    );
    let (status, page) = beleid.get(&region).await;
    assert_eq!(status, 200);
    assert!(page.contains("&lt;5"), "three children show as <5");
    assert!(!page.contains("dashboard/lijst"), "no list for beleid");
    assert!(!page.contains("Testachternaam"));
    let (status, csv) = beleid
        .get(&format!("/v1/stats/thuiszitters-duur.csv?{PEIL}"))
        .await;
    assert_eq!(status, 200);
    let row: Vec<&str> = csv
        .lines()
        .find(|l| l.starts_with("0377"))
        .unwrap()
        .split(';')
        .collect();
    assert_eq!(row[2], "<5", "the CSV protects as the page does: {csv}");
    let (status, j) = beleid
        .get(&format!("/v1/stats/thuiszitters-duur?{PEIL}"))
        .await;
    assert_eq!(status, 200);
    let j: Value = serde_json::from_str(&j).unwrap();
    assert_eq!(j["rows"], json!(["0377", "0392"]));
    assert_eq!(
        j["table"]["cells"][0][1],
        json!({"shown": "below", "value": 5})
    );
    // one municipality is its row of the region's protected table
    let (_, one) = beleid
        .get(&format!("/v1/stats/thuiszitters-duur?{PEIL}&gemeente=0377"))
        .await;
    let one: Value = serde_json::from_str(&one).unwrap();
    assert_eq!(one["table"]["cells"][0], j["table"]["cells"][0]);
    let (status, telling) = beleid
        .get("/v1/stats/leerplichttelling.csv?peildatum=2026-04-01")
        .await;
    assert_eq!(status, 200);
    assert!(telling.contains("LRV bij aanvang schooljaar"));
    // the share with a passend aanbod: over fewer than ten children not shown to beleid
    let (_, flow) = beleid
        .get(&format!("/v1/stats/thuiszitters-stroom?{PEIL}"))
        .await;
    let flow: Value = serde_json::from_str(&flow).unwrap();
    assert_eq!(flow["measures"][0]["rows"], json!(["×", "×"]), "{flow}");
    assert_eq!(flow["measures"][0]["total"], "×");
    // rows by school are for the entitled: beleid gets the municipalities
    let (_, by_school) = beleid
        .get(&format!("/v1/stats/thuiszitters-duur?{PEIL}&rijen=school"))
        .await;
    let by_school: Value = serde_json::from_str(&by_school).unwrap();
    assert_eq!(by_school["rows"], json!(["0377", "0392"]));

    // leerplicht of Haarlem: its own residents exactly, and the list behind a figure, audited
    let lp = Session::login(&env, PASSWORD, "leerplicht-haarlem").await;
    let (status, page) = lp.get(&region).await;
    assert_eq!(status, 200);
    assert!(
        page.contains("Exacte aantallen"),
        "its own municipality, exact"
    );
    let (_, flow) = lp
        .get(&format!(
            "/v1/stats/thuiszitters-stroom?{PEIL}&gemeente=0392"
        ))
        .await;
    let flow: Value = serde_json::from_str(&flow).unwrap();
    assert_eq!(
        flow["table"]["cells"][0][0],
        json!({"shown": "exact", "value": 7})
    );
    assert_eq!(
        flow["measures"][0]["rows"],
        json!(["0%"]),
        "none of the seven has an aanbod yet: {flow}"
    );
    // its own residents by school: no source reported a school for them
    let (_, by_school) = lp
        .get(&format!(
            "/v1/stats/thuiszitters-duur?{PEIL}&gemeente=0392&rijen=school"
        ))
        .await;
    let by_school: Value = serde_json::from_str(&by_school).unwrap();
    assert_eq!(by_school["rows"], json!(["geen school bekend"]));
    assert_eq!(
        by_school["table"]["cells"][0][0],
        json!({"shown": "exact", "value": 7})
    );
    let list = format!(
        "/dashboard/lijst?{}&amp;vanaf=2025-08-01&amp;gemeente=0392&amp;kolom=0",
        PEIL.replace('&', "&amp;")
    );
    assert!(page.contains(&list), "the cell links to its children");
    assert!(reads(&env).is_empty());
    let (status, names) = lp.get(&list.replace("&amp;", "&")).await;
    assert_eq!(status, 200, "{names}");
    for (i, bsn) in children.iter().enumerate().take(7) {
        assert!(
            names.contains(&format!("Testachternaam{i}<")),
            "child {i} listed"
        );
        assert!(names.contains(bsn.as_str()));
    }
    assert!(
        !names.contains("Testachternaam7"),
        "a Bloemendaal child is not Haarlem's"
    );
    let audited = reads(&env);
    assert_eq!(audited.len(), 7, "one record per child shown");
    assert!(audited.iter().all(|a| a.kind == EventType::ChildViewed
        && a.actor == "leerplicht-haarlem"
        && a.role.as_deref() == Some("leerplicht")
        && a.signal_id.is_none()));
    // another municipality's residents: protected, no list
    let (_, other) = lp.get(&format!("/dashboard?{PEIL}&gemeente=0377")).await;
    assert!(!other.contains("dashboard/lijst") && other.contains("&lt;5"));
    let (status, _) = lp
        .get(&format!("/dashboard/lijst?{PEIL}&gemeente=0377&kolom=1"))
        .await;
    assert_eq!(status, 403);
    assert_eq!(reads(&env).len(), 7, "a refused list reads nobody");

    // a role without the figures
    let jt = Session::login(&env, PASSWORD, "jeugdteam-haarlem").await;
    assert_eq!(jt.get(&region).await.0, 403);
    assert_eq!(
        jt.get(&format!("/v1/stats/thuiszitters-duur.csv?{PEIL}"))
            .await
            .0,
        403
    );
    // nobody logged in: to the login
    let anon = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let r = anon
        .get(format!("{}{region}", env.monitor_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert!(r.headers()[LOCATION]
        .to_str()
        .unwrap()
        .starts_with("/login"));
}
