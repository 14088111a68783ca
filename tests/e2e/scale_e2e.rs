//! Scale-out on Apache Kafka: rules and notify instances share the partitions through their
//! consumer groups; instances die with `kill -9` and new ones join mid-run. What a contact
//! person sees must not change: the signals are exactly those of a single instance on the same
//! input, and no (signal step, contact) is delivered under two ids.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use jiff::civil::Date;
use jiff::ToSpan;
use schakel_core::domain::catalogue::Topic;
use schakel_core::domain::events::SignalEvent;
use schakel_e2e::receiver::Receiver;
use schakel_e2e::{assignment_event, bsns, eventually, Env, Proc, Region, JEUGDHULP_TOKEN};

const SECRET_JT: &str = "whsec_dGVzdC1zZWNyZXQtamV1Z2R0ZWFtLTAxMjM0NTY3ODk=";
const SECRET_VW: &str = "whsec_dGVzdC1zZWNyZXQtdm9sd2Fzc2VuLTAxMjM0NTY3ODk=";

/// Children whose 17½th birthdays fall across the run, so most days fire some R3 steps.
const CHILDREN: usize = 90;
const FIRST_DAY: Date = Date::constant(2025, 12, 1);
const DAYS: i32 = 70;

fn directory(rx: &Receiver) -> String {
    format!(
        r#"
[[institution]]
id = "gemeente:0392"
name = "Gemeente Haarlem"

[[contact]]
id = "jeugdteam-haarlem"
name = "Wijkteam Haarlem"
institution = "gemeente:0392"
roles = ["jeugdteam"]
webhook = {{ url = "{}", secret = "{SECRET_JT}" }}

[[contact]]
id = "wmo-haarlem"
name = "Loket Wmo Haarlem"
institution = "gemeente:0392"
roles = ["volwassenen"]
webhook = {{ url = "{}", secret = "{SECRET_VW}" }}
"#,
        rx.contact("jeugdteam-haarlem", SECRET_JT),
        rx.contact("wmo-haarlem", SECRET_VW)
    )
}

/// The input of a run: on day `d`, the assignments of a few children, then the day's tick.
/// Every post and tick waits for the broker, so both runs write the same order to their log.
struct Input {
    bsns: Vec<String>,
}

impl Input {
    fn new() -> Self {
        Self {
            bsns: bsns(CHILDREN, 77),
        }
    }

    fn day(&self, d: i32) -> Date {
        FIRST_DAY.checked_add(d.days()).expect("date")
    }

    /// The children whose assignment arrives on day `d` (all within the first 40 days).
    fn arriving(&self, d: i32) -> Vec<serde_json::Value> {
        (0..CHILDREN)
            .filter(|i| (*i as i32 * 40 / CHILDREN as i32) == d)
            .map(|i| {
                // 17½ on days 20..65 of the run
                let birth = Date::constant(2008, 6, 21)
                    .checked_add(((i * 45 / CHILDREN) as i32).days())
                    .expect("birth");
                assignment_event(
                    &format!("s-{i}"),
                    &self.bsns[i],
                    &birth.to_string(),
                    &format!("S{i}"),
                )
            })
            .collect()
    }

    async fn post_day(&self, env: &Env, d: i32) {
        let events = self.arriving(d);
        if !events.is_empty() {
            let (s, b) = env.post_batch(JEUGDHULP_TOKEN, &events.into()).await;
            assert_eq!(s, 202, "{b}");
        }
        env.tick(&self.day(d).to_string());
    }
}

fn prepare(env: &Env, rx: &Receiver) {
    env.apply_directory(&directory(rx));
}

/// Signal step id → every record of it in hub.signals.v1.
fn signals(env: &Env) -> BTreeMap<String, Vec<SignalEvent>> {
    let mut m: BTreeMap<String, Vec<SignalEvent>> = BTreeMap::new();
    for s in env.signals() {
        m.entry(s.id.clone()).or_default().push(s);
    }
    m
}

/// How many deliveries the steps make: one per recipient role.
fn recipients(steps: &BTreeMap<String, Vec<SignalEvent>>) -> usize {
    steps.values().map(|r| r[0].recipients.len()).sum()
}

/// (signal step id, contact) → the webhook ids it arrived under.
fn deliveries(rx: &Receiver) -> BTreeMap<(String, String), BTreeSet<String>> {
    let mut m: BTreeMap<_, BTreeSet<String>> = BTreeMap::new();
    for r in rx.received() {
        assert!(r.signature_valid, "a webhook with a bad signature");
        let d = &r.body["data"];
        let step_id = format!(
            "{}-{}",
            d["signalId"].as_str().unwrap_or_default(),
            d["step"].as_str().unwrap_or_default()
        );
        m.entry((step_id, r.contact.clone()))
            .or_default()
            .insert(r.webhook_id.clone());
    }
    m
}

/// Waits until the run's log and receiver hold at least what the baseline did.
async fn await_all(
    env: &Env,
    rx: &Receiver,
    want_signals: usize,
    want_deliveries: usize,
    limit: Duration,
) {
    let ok = eventually(limit, || {
        signals(env).len() >= want_signals && deliveries(rx).len() >= want_deliveries
    })
    .await;
    assert!(
        ok,
        "within {limit:?}: {} of {want_signals} signal steps, {} of {want_deliveries} deliveries",
        signals(env).len(),
        deliveries(rx).len()
    );
}

/// These tests each start several brokers or service instances: on two cores they run one
/// at a time, so each measures itself, not the other.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

#[tokio::test(flavor = "multi_thread")]
async fn instances_that_die_and_join_change_no_signal_and_no_delivery_id() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let input = Input::new();

    // the baseline: one rules and one notify instance
    let base = Region::new().start();
    let base_rx = Receiver::start(Duration::ZERO).await;
    prepare(&base, &base_rx);
    let _ingest = base.spawn_ingest();
    let _rules = base.spawn_rules();
    let _notify = base.spawn_notify();
    Env::await_ready(base.rules_port, Duration::from_secs(60)).await;
    for d in 0..DAYS {
        input.post_day(&base, d).await;
    }
    // every tick folded, and every step fired delivered to each of its recipients (each role
    // is held by one contact here)
    base.await_rules_read(Topic::CLOCK, 6 * DAYS as u64).await;
    assert!(
        eventually(Duration::from_secs(60), || {
            let s = signals(&base);
            !s.is_empty() && deliveries(&base_rx).len() == recipients(&s)
        })
        .await,
        "the baseline delivered every step"
    );
    let want = signals(&base);
    let want_deliveries = deliveries(&base_rx);
    assert!(
        want.len() >= 2 * CHILDREN * 9 / 10,
        "R3a and R3b for most children: {}",
        want.len()
    );

    // the same input through three rules and two notify instances
    let env = Region::new().start();
    let rx = Receiver::start(Duration::from_millis(20)).await;
    prepare(&env, &rx);
    let _ingest = env.spawn_ingest();
    let mut rules: Vec<(Proc, u16)> = (0..3)
        .map(|_| env.spawn_instance("schakel-rules"))
        .collect();
    let mut notify: Vec<(Proc, u16)> = (0..2)
        .map(|_| env.spawn_instance("schakel-notify"))
        .collect();
    for (_, port) in rules.iter().chain(&notify) {
        Env::await_ready(*port, Duration::from_secs(90)).await;
    }
    for d in 0..DAYS {
        if d == 25 {
            // mid-run: one of each dies without a chance to drain or commit
            rules[0].0.kill9();
            notify[0].0.kill9();
        }
        if d == 45 {
            // later, one more rules instance joins: partitions move to it
            rules.push(env.spawn_instance("schakel-rules"));
        }
        input.post_day(&env, d).await;
    }
    await_all(
        &env,
        &rx,
        want.len(),
        want_deliveries.len(),
        Duration::from_secs(120),
    )
    .await;
    // and nothing more comes late: every tick folded, every delivery final
    env.await_committed("rules", Topic::CLOCK).await;
    env.await_committed("notify", Topic::SIGNALS).await;

    let got = signals(&env);
    let missing: Vec<&String> = want.keys().filter(|k| !got.contains_key(*k)).collect();
    let extra: Vec<&String> = got.keys().filter(|k| !want.contains_key(*k)).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "missing {missing:?}, extra {extra:?}"
    );
    let mut repeated = 0;
    for (id, records) in &got {
        for r in records {
            assert_eq!(
                r, &want[id][0],
                "the step {id} differs from the single instance's"
            );
        }
        repeated += records.len() - 1;
    }
    let got_deliveries = deliveries(&rx);
    assert_eq!(
        got_deliveries.keys().collect::<Vec<_>>(),
        want_deliveries.keys().collect::<Vec<_>>(),
        "the same (signal step, contact) pairs are delivered"
    );
    for (key, ids) in &got_deliveries {
        assert_eq!(
            ids.len(),
            1,
            "{key:?} was delivered under {} ids",
            ids.len()
        );
        assert_eq!(
            ids, &want_deliveries[key],
            "{key:?} under another id than the baseline's"
        );
    }
    for (p, _) in rules.iter_mut().skip(1).chain(notify.iter_mut().skip(1)) {
        assert!(p.is_running(), "{} exited on its own", p.name);
    }
    eprintln!(
        "scale-out: {} signal steps, {} deliveries as with one instance; {repeated} steps written twice, {} webhooks received",
        got.len(),
        got_deliveries.len(),
        rx.received().len()
    );
}

/// Builds a log with history and committed offsets: everything posted and folded once.
async fn history(env: &Env, input: &Input, days: i32) {
    let mut rules = env.spawn_rules();
    Env::await_ready(env.rules_port, Duration::from_secs(60)).await;
    for d in 0..days {
        input.post_day(env, d).await;
    }
    // every tick read: the offsets are committed within half a second after
    env.await_rules_read(Topic::CLOCK, 6 * days as u64).await;
    env.await_committed("rules", Topic::CLOCK).await;
    rules.stop();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_partition_given_during_a_restore_emits_nothing_before_it_caught_up() {
    let _turn = ONE_AT_A_TIME.lock().await;
    // no snapshots: a restore replays the whole log, which takes a while
    let env = Region::new().start();
    let rx = Receiver::start(Duration::ZERO).await;
    prepare(&env, &rx);
    let _ingest = env.spawn_ingest();
    let input = Input::new();
    history(&env, &input, DAYS).await;
    let before = env.signals().len();
    assert!(before > CHILDREN, "the history fired steps: {before}");

    let vars = [("SCHAKEL_RULES__SNAPSHOTS", "false")];
    let a = env.spawn_with("schakel-rules", env.rules_port, &vars);
    // while A restores, B joins: partitions move to B, whose restore starts while A's runs
    let b_port = schakel_e2e::free_port();
    let b_listen = format!("127.0.0.1:{b_port}");
    let b = env.spawn_with(
        "schakel-rules",
        b_port,
        &[
            ("SCHAKEL_RULES__SNAPSHOTS", "false"),
            ("SCHAKEL_RULES__LISTEN", &b_listen),
        ],
    );
    // cooperative rebalancing gives B its partitions in a second round, once A let them go
    let b_log = b.log.clone();
    assert!(
        eventually(Duration::from_secs(60), || std::fs::read_to_string(&b_log)
            .unwrap_or_default()
            .contains("partition loaded"))
        .await,
        "B was given partitions and restored them: {}",
        std::fs::read_to_string(&b.log).unwrap_or_default()
    );
    Env::await_ready(env.rules_port, Duration::from_secs(120)).await;
    Env::await_ready(b_port, Duration::from_secs(120)).await;
    assert_eq!(
        env.signals().len(),
        before,
        "a restore, however the partitions moved, writes no signal step again"
    );
    // live again: a new child fires on the next days, once
    let late = &bsns(1, 78)[0];
    let (s, body) = env
        .post_batch(
            JEUGDHULP_TOKEN,
            &vec![assignment_event("late-1", late, "2008-08-20", "L1")].into(),
        )
        .await;
    assert_eq!(s, 202, "{body}");
    // no wait for rules to read it first: the ticks come after it in the log, and rules
    // folds each partition in log order (the broker's append time)
    for d in DAYS..DAYS + 20 {
        env.tick(&input.day(d).to_string());
    }
    assert!(
        eventually(Duration::from_secs(60), || env.signals().len() > before).await,
        "the restored instances fire new steps"
    );
    let all = signals(&env);
    let twice: Vec<&String> = all
        .iter()
        .filter(|(_, r)| r.len() > 1)
        .map(|(k, _)| k)
        .collect();
    assert!(twice.is_empty(), "steps written twice: {twice:?}");
    drop((a, b));
}
