//! `schakel whatif` on the real log: the facts of six youths in care, folded under the
//! region's policy and under one whose handoff starts a month earlier, give exactly six R3b
//! openings a month earlier, shown as small counts; and the replay wrote nothing to any topic
//! and left no consumer group behind. Saved, the report is on the monitor's what-if page for
//! the region's policy staff, and for nobody else.

use std::collections::BTreeMap;

use rdkafka::consumer::{BaseConsumer, Consumer};
use schakel_core::domain::catalogue::Topic;
use schakel_e2e::{assignment_event, bsns, Env, Region, Session, JEUGDHULP_TOKEN};

const PASSWORD: &str = "een-lang-testwachtwoord";

/// The end of every partition of every topic of the region.
fn ends(env: &Env) -> BTreeMap<(String, i32), i64> {
    let probe: BaseConsumer = schakel_core::log::kafka::client_config(&env.config)
        .create()
        .unwrap();
    let mut out = BTreeMap::new();
    for t in Topic::ALL.iter() {
        let name = env.config.topic(*t);
        let md = probe
            .fetch_metadata(Some(&name), std::time::Duration::from_secs(10))
            .unwrap();
        for p in md.topics()[0].partitions() {
            let (_, high) = probe
                .fetch_watermarks(&name, p.id(), std::time::Duration::from_secs(10))
                .unwrap();
            out.insert((name.clone(), p.id()), high);
        }
    }
    out
}

fn groups(env: &Env) -> Vec<String> {
    let probe: BaseConsumer = schakel_core::log::kafka::client_config(&env.config)
        .create()
        .unwrap();
    let list = probe
        .fetch_group_list(None, std::time::Duration::from_secs(10))
        .unwrap();
    let mut names: Vec<String> = list.groups().iter().map(|g| g.name().to_owned()).collect();
    names.sort();
    names
}

#[tokio::test(flavor = "multi_thread")]
async fn a_replay_under_another_policy_reports_counts_and_writes_nothing() {
    let reports = std::env::temp_dir().join(format!(
        "schakel-whatif-e2e-{}",
        schakel_core::log::trace::random_hex(4)
    ));
    let env = Region::new()
        .directory(schakel_e2e::DASHBOARD_DIRECTORY)
        .monitor(&format!("whatif_dir = \"{}\"", reports.display()))
        .start();
    for who in ["beleid-haarlem", "jeugdteam-haarlem"] {
        env.add_account(who, PASSWORD);
    }
    let _ingest = env.spawn_ingest();
    let _monitor = env.spawn_monitor();
    Env::await_ready(env.ingest_port, std::time::Duration::from_secs(60)).await;
    Env::await_ready(env.monitor_port, std::time::Duration::from_secs(60)).await;
    let beleid = Session::login(&env, PASSWORD, "beleid-haarlem").await;
    let (status, page) = beleid.get("/whatif").await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("nog geen wat-als-rapport"), "{page}");
    // facts arrive today (the log keeps the time it received them): six youths whose 17y6m
    // falls in the coming months, one a month
    let today = jiff::Zoned::now()
        .with_time_zone(jiff::tz::TimeZone::get("Europe/Amsterdam").unwrap())
        .date();
    let people = bsns(6, 97);
    let events: Vec<serde_json::Value> = people
        .iter()
        .enumerate()
        .map(|(i, bsn)| {
            let birth = today
                .checked_add(jiff::Span::new().months(i as i64 + 2))
                .unwrap()
                .checked_sub(jiff::Span::new().years(17).months(6))
                .unwrap()
                .first_of_month()
                .checked_add(jiff::Span::new().days(9))
                .unwrap();
            assignment_event(&format!("w-{i}"), bsn, &birth.to_string(), &format!("W{i}"))
        })
        .collect();
    let from = today.to_string();
    let to = today
        .checked_add(jiff::Span::new().years(1))
        .unwrap()
        .to_string();
    let (status, body) = env.post_batch(JEUGDHULP_TOKEN, &events.into()).await;
    assert_eq!(status, 202, "{body}");

    let other = env.dir.join("other-policy.toml");
    std::fs::write(&other, "[policy.adulthood]\nhandoff_age = \"17y5m\"\n").unwrap();
    let before = (ends(&env), groups(&env));
    let out = env.schakel(&[
        "whatif",
        "--policy",
        other.to_str().unwrap(),
        "--from",
        &from,
        "--to",
        &to,
        "--format",
        "json",
        "--save",
    ]);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!("folded up to {to}")),
        "progress: {stderr}"
    );
    let changes = report["changes"].as_array().unwrap();
    assert_eq!(changes.len(), 6, "{report:#}");
    for c in changes {
        assert_eq!(c["rule"], "R3b");
        assert_eq!(c["step"], "opened");
        assert_eq!(c["change"], "moved-earlier");
        assert_eq!(c["municipality"], "0392");
        assert_eq!(c["count"], "<5", "one youth a month is a small count");
    }
    let text = String::from_utf8_lossy(&out.stdout);
    for bsn in &people {
        assert!(!text.contains(bsn.as_str()), "no child in the report");
    }
    assert!(!text.contains("Testachternaam"));
    // nothing written, no group left behind
    assert_eq!((ends(&env), groups(&env)), before);

    // saved: the policy staff read it on the monitor, in Dutch, counts only
    let (status, page) = beleid.get("/whatif").await;
    assert_eq!(status, 200, "{page}");
    for words in [
        "other-policy.toml",
        "adulthood.handoff_age",
        "17y5m",
        "Warme overdracht 18-/18+: van jeugdteam naar volwassenenzorg (R3b)",
        ">eerder<",
        ">&lt;5<",
    ] {
        assert!(page.contains(words), "{words}: {page}");
    }
    assert!(!page.contains("Testachternaam"));
    for bsn in &people {
        assert!(!page.contains(bsn.as_str()), "no child on the page");
    }
    // a youth team sees its children, not the region's policy
    let jeugdteam = Session::login(&env, PASSWORD, "jeugdteam-haarlem").await;
    assert_eq!(jeugdteam.get("/whatif").await.0, 403);

    // the same policy: no difference
    let same = env.dir.join("same-policy.toml");
    std::fs::write(&same, "").unwrap();
    let out = env.schakel(&[
        "whatif",
        "--policy",
        same.to_str().unwrap(),
        "--from",
        "2025-01-01",
        "--to",
        "2026-12-31",
    ]);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("no difference"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let _ = std::fs::remove_dir_all(&reports);
}
