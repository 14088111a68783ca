//! Ingest and a broker that goes away: `/readyz` says so (503) while `/livez` and `/readyz`
//! keep answering at once, a POST gets 503 with `Retry-After`, and when the broker is back
//! ingest is ready again and accepts facts, without a restart.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use schakel_core::domain::catalogue::Topic;
use schakel_e2e::{
    assignment_event, await_ready_status, bsns, during, eventually_async, ready_status, Region,
    JEUGDHULP_TOKEN,
};
use serde_json::json;

/// A contact token, so ingest also follows the handoff tasks (two views that read the log).
const CONTACT: &str = r#"
[[ingest.tokens]]
name = "zc-34cd"
token = "test-contact-zc-34cd"
contact = "zc-34cd"
"#;

/// The slowest answer to `/livez` and `/readyz`, and the requests that got none in time.
#[derive(Default)]
struct Probe {
    slowest: Duration,
    slowest_path: String,
    unanswered: Vec<String>,
    asked: u32,
}

/// Asks `/livez` and `/readyz` in turn, every 100 ms, until `stop`.
fn watch_health(
    port: u16,
    stop: Arc<AtomicBool>,
) -> (tokio::task::JoinHandle<()>, Arc<Mutex<Probe>>) {
    let probe = Arc::new(Mutex::new(Probe::default()));
    let p = probe.clone();
    let task = tokio::spawn(async move {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(3))
            .build()
            .unwrap();
        let mut beat = tokio::time::interval(Duration::from_millis(100));
        for path in ["livez", "readyz"].iter().cycle() {
            if stop.load(Ordering::SeqCst) {
                return;
            }
            let started = Instant::now();
            let answered = client
                .get(format!("http://127.0.0.1:{port}/{path}"))
                .send()
                .await
                .is_ok();
            let took = started.elapsed();
            {
                let mut p = p.lock().unwrap();
                p.asked += 1;
                if !answered {
                    p.unanswered.push(format!("/{path} after {took:?}"));
                }
                if took > p.slowest {
                    p.slowest = took;
                    p.slowest_path = path.to_string();
                }
            }
            beat.tick().await;
        }
    });
    (task, probe)
}

#[tokio::test(flavor = "multi_thread")]
async fn ingest_tells_the_truth_while_the_broker_is_away_and_resumes_by_itself() {
    let mut env = Region::new().own_broker().config(CONTACT).start();
    let _ingest = env.spawn_ingest();
    let port = env.ingest_port;
    let b = bsns(3, 181);
    await_ready_status(port, 200, Duration::from_secs(30)).await;
    let (s, p) = env
        .post_batch(
            JEUGDHULP_TOKEN,
            &json!([assignment_event("o-1", &b[0], "2009-01-01", "T1")]),
        )
        .await;
    assert_eq!(s, 202, "{p}");

    let stop = Arc::new(AtomicBool::new(false));
    let (watcher, probe) = watch_health(port, stop.clone());
    env.kill_broker();
    let noticed = await_ready_status(port, 503, Duration::from_secs(20)).await;

    // a POST while the broker is away: 503 with Retry-After, a problem document
    let resp = reqwest::Client::new()
        .post(env.ingest_url())
        .bearer_auth(JEUGDHULP_TOKEN)
        .header("content-type", "application/cloudevents-batch+json")
        .json(&json!([assignment_event("o-2", &b[1], "2009-01-01", "T2")]))
        .timeout(Duration::from_secs(30))
        .send()
        .await
        .expect("an answer while the broker is away");
    assert_eq!(resp.status().as_u16(), 503);
    assert!(resp.headers().get("retry-after").is_some(), "Retry-After");
    assert_eq!(
        resp.headers().get("content-type").unwrap(),
        "application/problem+json"
    );

    // the broker stays away a while (the views' reads fail and back off meanwhile); health
    // keeps answering and readiness stays false
    during(
        Duration::from_secs(15),
        Duration::from_millis(500),
        || async {
            assert_eq!(
                ready_status(port).await,
                503,
                "not ready while the broker is away"
            );
        },
    )
    .await;

    env.restart_broker();
    let back = await_ready_status(port, 200, Duration::from_secs(60)).await;
    // accepted again without a restart (the same event may be sent until it is)
    let event = json!([assignment_event("o-3", &b[2], "2009-01-01", "T3")]);
    assert!(
        eventually_async(
            Duration::from_secs(30),
            Duration::from_millis(200),
            || async { env.post_batch(JEUGDHULP_TOKEN, &event).await.0 == 202 }
        )
        .await,
        "not accepted after the broker came back"
    );
    stop.store(true, Ordering::SeqCst);
    watcher.await.unwrap();

    let p = probe.lock().unwrap();
    eprintln!(
        "broker away noticed after {noticed:?}, ready again {back:?} after restart; {} health requests, slowest /{} {:?}",
        p.asked, p.slowest_path, p.slowest
    );
    assert!(
        p.unanswered.is_empty(),
        "health requests without an answer: {:?}",
        p.unanswered
    );
    assert!(
        p.slowest < Duration::from_millis(500),
        "every health request answers within 500 ms; /{} took {:?}",
        p.slowest_path,
        p.slowest
    );
    let ids: Vec<String> = env
        .read(Topic::JEUGDHULP)
        .iter()
        .filter_map(|r| {
            schakel_core::log::schemas::registry()
                .decode::<schakel_core::domain::events::JeugdhulpEvent>(
                    Topic::JEUGDHULP,
                    r.value.as_deref()?,
                )
                .ok()
        })
        .map(|e| e.id)
        .collect();
    assert!(
        ids.contains(&"o-1".to_owned()) && ids.contains(&"o-3".to_owned()),
        "{ids:?}"
    );
}
