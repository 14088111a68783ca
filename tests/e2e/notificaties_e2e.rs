//! The Notificaties API channel: a signal step reaches the region's Notificaties API as one
//! notificatie per role on the kanaal `schakel-signalen` (registered first), signed with a ZGW
//! JWT, every request valid against Open Notificaties' own OpenAPI document; a refused call is
//! retried under the same delivery id through the ledger, like any other channel; and no
//! notificatie names the child.

use std::collections::BTreeSet;
use std::time::Duration;

use jiff::civil::date;
use schakel_core::domain::events::DeliveryStatus;
use schakel_e2e::notificaties::NotificatiesApi;
use schakel_e2e::receiver::Receiver;
use schakel_e2e::{
    assignment_event, bsns, eventually_async, handoff_desks, Env, Region, JEUGDHULP_TOKEN,
};

const SECRET: &str = "whsec_dGVzdC1zZWNyZXQtbm90aWZpY2F0aWVzLTAxMjM0NTY=";
const API_SECRET: &str = "een-geheim-van-de-notificaties-api";

#[tokio::test(flavor = "multi_thread")]
async fn a_signal_step_reaches_the_notificaties_api_as_valid_notificaties_with_retries() {
    let scratch = std::env::temp_dir().join(format!(
        "schakel-notificaties-{}",
        schakel_core::log::trace::random_hex(4)
    ));
    std::fs::create_dir_all(&scratch).unwrap();
    let api = NotificatiesApi::start(&scratch, "schakel", API_SECRET);
    let env = Region::new()
        .notify("retry_schedule = [\"1s\", \"2s\"]")
        .config(&format!(
            "[notify.notificaties]\nurl = \"{}\"\nclient_id = \"schakel\"\nsecret = \"{API_SECRET}\"\n",
            api.url()
        ))
        .start();
    let rx = Receiver::start(Duration::ZERO).await;
    env.apply_directory(&handoff_desks(&rx, SECRET));
    // the first notificatie is refused: it is retried
    api.fail_next(503, 1).await;
    let _ingest = env.spawn_ingest();
    let _rules = env.spawn_rules();
    let _notify = env.spawn_notify();
    Env::await_ready(env.notify_port, Duration::from_secs(60)).await;

    // turns 17y6m on 2026-01-12: the handoff goes to the jeugdteam and the Wmo desk
    let bsn = &bsns(1, 91)[0];
    let (status, body) = env
        .post_batch(
            JEUGDHULP_TOKEN,
            &vec![assignment_event("n-1", bsn, "2008-07-12", "T910")].into(),
        )
        .await;
    assert_eq!(status, 202, "{body}");
    env.tick_days(date(2026, 1, 5), date(2026, 1, 12));
    // every role of every signal step: one notificatie each
    let expected = || {
        env.signals()
            .iter()
            .flat_map(|s| {
                s.recipients
                    .iter()
                    .map(|r| (s.signal_id.clone(), s.step.clone(), r.clone()))
                    .collect::<Vec<_>>()
            })
            .collect::<BTreeSet<_>>()
    };
    let accepted = |reqs: &[serde_json::Value]| {
        reqs.iter()
            .filter(|r| r["path"] == "/api/v1/notificaties" && r["status"] == 201)
            .map(|r| {
                let b = &r["body"];
                let url = b["hoofdObject"].as_str().unwrap_or_default();
                (
                    url.rsplit('/').next().unwrap_or_default().to_owned(),
                    b["actie"].as_str().unwrap_or_default().to_owned(),
                    b["kenmerken"]["rol"]
                        .as_str()
                        .unwrap_or_default()
                        .to_owned(),
                )
            })
            .collect::<Vec<_>>()
    };
    assert!(
        eventually_async(
            Duration::from_secs(60),
            Duration::from_millis(200),
            || async {
                let want = expected();
                let got = accepted(&api.requests().await);
                want.len() >= 2 && got.len() >= want.len()
            }
        )
        .await,
        "every role of every step is notified; got {:#?}",
        api.requests().await
    );
    assert!(
        eventually_async(
            Duration::from_secs(30),
            Duration::from_millis(200),
            || async { rx.received().len() >= 2 }
        )
        .await,
        "the webhooks arrive as before"
    );
    let want = expected();
    let got = accepted(&api.requests().await);
    assert_eq!(
        got.len(),
        want.len(),
        "each notificatie accepted once: {got:?}"
    );
    assert_eq!(got.into_iter().collect::<BTreeSet<_>>(), want);

    let reqs = api.requests().await;
    for r in &reqs {
        assert_eq!(
            r["errors"],
            serde_json::json!([]),
            "a request the document does not allow: {r:#}"
        );
        assert_eq!(r["response_errors"], serde_json::json!([]), "{r:#}");
        let text = r["body"].to_string();
        for hidden in [
            bsn.as_str(),
            "Testachternaam",
            "Testvoornaam",
            "45A12",
            "2008-07-12",
        ] {
            assert!(
                !text.contains(hidden),
                "a notificatie names the child: {text}"
            );
        }
        assert!(
            r["headers"]["Traceparent"]
                .as_str()
                .is_some_and(|t| t.starts_with("00-")),
            "each call carries its trace: {r:#}"
        );
    }
    // the kanaal is looked up, registered once, then used
    assert_eq!(reqs[0]["method"], "GET");
    assert_eq!(reqs[0]["path"], "/api/v1/kanaal");
    assert_eq!(reqs[0]["query"]["naam"], "schakel-signalen");
    let kanalen: Vec<&serde_json::Value> = reqs
        .iter()
        .filter(|r| r["method"] == "POST" && r["path"] == "/api/v1/kanaal")
        .collect();
    assert_eq!(kanalen.len(), 1, "the kanaal is registered once");
    assert_eq!(kanalen[0]["status"], 201);
    assert_eq!(kanalen[0]["body"]["naam"], "schakel-signalen");
    assert_eq!(
        kanalen[0]["body"]["filters"],
        serde_json::json!(["regel", "gemeente", "instelling", "rol", "taak"])
    );

    // the refused one was sent again, the same
    let posts: Vec<&serde_json::Value> = reqs
        .iter()
        .filter(|r| r["path"] == "/api/v1/notificaties")
        .collect();
    assert_eq!(
        posts.len(),
        want.len() + 1,
        "one notificatie sent twice: {posts:#?}"
    );
    assert_eq!(posts.iter().filter(|r| r["injected"] == true).count(), 1);
    let signals = env.signals();
    for p in &posts {
        let b = &p["body"];
        let url = b["hoofdObject"].as_str().unwrap();
        let signal = signals
            .iter()
            .find(|s| url == format!("{}/v1/signals/{}", env.monitor_url(), s.signal_id))
            .expect("hoofdObject is the signal's page");
        assert_eq!(b["kanaal"], "schakel-signalen");
        assert_eq!(b["resource"], "signaal");
        assert_eq!(b["actie"], signal.step.as_str());
        assert_eq!(b["resourceUrl"], b["hoofdObject"]);
        assert_eq!(b["kenmerken"]["regel"], signal.rule.as_str());
        assert_eq!(b["kenmerken"]["gemeente"], "0392");
        assert_eq!(b["kenmerken"]["instelling"], "gemeente:0392");
        assert_eq!(
            b["kenmerken"]["taak"],
            if signal.task { "ja" } else { "nee" }
        );
        assert_eq!(p["jwt"]["payload"]["client_id"], "schakel");
    }
    let injected = posts.iter().find(|r| r["injected"] == true).unwrap();
    let again = posts
        .iter()
        .filter(|r| r["injected"] != true)
        .find(|r| r["body"] == injected["body"])
        .expect("the refused notificatie is sent again");
    assert_eq!(again["status"], 201);

    // the ledger has them as deliveries of the channel `notificaties`, the retry under the
    // same id
    assert!(
        eventually_async(
            Duration::from_secs(30),
            Duration::from_millis(200),
            || async {
                env.deliveries()
                    .iter()
                    .filter(|d| {
                        d.channel == "notificaties" && d.status == DeliveryStatus::Succeeded
                    })
                    .count()
                    == want.len()
            }
        )
        .await,
        "every notificatie is recorded as delivered: {:#?}",
        env.deliveries()
            .iter()
            .map(|d| (&d.channel, &d.contact, d.status, d.attempt))
            .collect::<Vec<_>>()
    );
    let ledger = env.deliveries();
    let failed: Vec<_> = ledger
        .iter()
        .filter(|d| d.channel == "notificaties" && d.status == DeliveryStatus::Failed)
        .collect();
    assert_eq!(failed.len(), 1, "the refusal is recorded");
    assert!(failed[0].error.as_deref().unwrap_or("").contains("503"));
    assert!(ledger
        .iter()
        .any(|d| d.id == failed[0].id && d.status == DeliveryStatus::Succeeded && d.attempt == 2));
    assert!(failed[0].contact.starts_with("notificaties:"));
    let _ = std::fs::remove_dir_all(&scratch);
}
