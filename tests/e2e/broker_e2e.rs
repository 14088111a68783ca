//! A broker that goes away is waited out, not fatal: the single node killed under load and
//! started again 30 s later, and the leader of the busiest partition of a three-node cluster
//! killed while events are posted steadily. No service exits or needs a restart; every event
//! that got 202 is in the log once; the signals and deliveries that follow arrive once.

use jiff::civil::date;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, Consumer};
use schakel_core::domain::catalogue::Topic;
use schakel_e2e::receiver::Receiver;
use schakel_e2e::{
    assignment_event, bsns, during, eventually, eventually_async, Env, Proc, Region,
    JEUGDHULP_TOKEN,
};

const SECRET_JT: &str = "whsec_dGVzdC1zZWNyZXQtamV1Z2R0ZWFtLTAxMjM0NTY3ODk=";
const SECRET_VW: &str = "whsec_dGVzdC1zZWNyZXQtdm9sd2Fzc2VuLTAxMjM0NTY3ODk=";

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

/// One answer of ingest to the load.
#[derive(Clone, Debug)]
struct Answer {
    id: String,
    status: u16,
    retry_after: bool,
    at: Instant,
}

/// Posts one assignment (a new child each) every `every`, until stopped.
struct Load {
    stop: Arc<AtomicBool>,
    answers: Arc<Mutex<Vec<Answer>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Load {
    fn start(env: &Env, every: Duration, seed: u32) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let answers = Arc::new(Mutex::new(Vec::new()));
        let (url, s, a) = (env.ingest_url(), stop.clone(), answers.clone());
        let children = bsns(20_000, seed);
        let task = tokio::spawn(async move {
            let client = reqwest::Client::builder()
                .timeout(Duration::from_secs(20))
                .build()
                .expect("client");
            let mut tick = tokio::time::interval(every);
            for (i, bsn) in children.iter().enumerate() {
                tick.tick().await;
                if s.load(Ordering::SeqCst) {
                    return;
                }
                let id = format!("load-{seed}-{i}");
                let ev = assignment_event(&id, bsn, "2008-07-12", &format!("L{seed}-{i}"));
                let (status, retry_after) = match client
                    .post(&url)
                    .bearer_auth(JEUGDHULP_TOKEN)
                    .header("content-type", "application/cloudevents+json")
                    .json(&ev)
                    .send()
                    .await
                {
                    Ok(r) => (r.status().as_u16(), r.headers().contains_key("retry-after")),
                    Err(_) => (0, false),
                };
                a.lock().unwrap().push(Answer {
                    id,
                    status,
                    retry_after,
                    at: Instant::now(),
                });
            }
        });
        Self {
            stop,
            answers,
            task,
        }
    }

    async fn stop(self) -> Vec<Answer> {
        self.stop.store(true, Ordering::SeqCst);
        let _ = self.task.await;
        let a = self.answers.lock().unwrap().clone();
        a
    }

    fn accepted(&self) -> usize {
        self.answers
            .lock()
            .unwrap()
            .iter()
            .filter(|a| a.status == 202)
            .count()
    }
}

/// The event ids in source.jeugdhulp.v1, with how often each is there.
fn facts(env: &Env) -> HashMap<String, usize> {
    let reg = schakel_core::log::schemas::registry();
    let mut m = HashMap::new();
    for r in env.read(Topic::JEUGDHULP) {
        let v = reg
            .decode_json(Topic::JEUGDHULP, r.value.as_deref().unwrap_or_default())
            .expect("a fact");
        let id = v["id"].as_str().unwrap_or_default().to_owned();
        *m.entry(id).or_default() += 1;
    }
    m
}

/// Every event that got 202 is in the log exactly once; one refused is there at most once.
fn assert_acknowledged_once(env: &Env, answers: &[Answer]) -> usize {
    let log = facts(env);
    let mut acknowledged = 0;
    for a in answers {
        let n = log.get(&a.id).copied().unwrap_or(0);
        if a.status == 202 {
            acknowledged += 1;
            assert_eq!(n, 1, "{} got 202 and is in the log {n} times", a.id);
        } else {
            assert!(
                n <= 1,
                "{} got {} and is in the log {n} times",
                a.id,
                a.status
            );
            if a.status == 503 {
                assert!(a.retry_after, "a 503 without Retry-After");
            }
        }
    }
    acknowledged
}

fn services(env: &Env) -> Vec<Proc> {
    vec![env.spawn_ingest(), env.spawn_rules(), env.spawn_notify()]
}

fn assert_running(procs: &mut [Proc]) {
    for p in procs {
        assert!(p.is_running(), "{} exited", p.name);
    }
}

/// Ticks through the 17½th birthday of the load's children (2008-07-12): R3a and R3b fire for
/// every child whose fact is in the log; each step reaches its one recipient once.
async fn ticks_fire_and_deliver_once(env: &Env, rx: &Receiver) {
    let children = facts(env).len();
    env.tick_days(date(2026, 1, 5), date(2026, 1, 12));
    let want = 2 * children;
    // one delivery per recipient role of each step (each role is held by one contact here)
    let steps = |env: &Env| -> BTreeMap<String, usize> {
        env.signals()
            .into_iter()
            .map(|s| (s.id, s.recipients.len()))
            .collect()
    };
    let ok = eventually(Duration::from_secs(120), || {
        let s = steps(env);
        s.len() >= want && rx.received().len() >= s.values().sum::<usize>()
    })
    .await;
    let signals = env.signals();
    let want_deliveries: usize = steps(env).values().sum();
    assert!(
        ok,
        "{} of {want} signal steps and {} of {want_deliveries} deliveries",
        signals.len(),
        rx.received().len()
    );
    let mut per_id: BTreeMap<&str, usize> = BTreeMap::new();
    for s in &signals {
        *per_id.entry(&s.id).or_default() += 1;
    }
    let twice: Vec<_> = per_id.iter().filter(|(_, n)| **n > 1).collect();
    assert!(
        twice.is_empty(),
        "signal steps written more than once: {twice:?}"
    );
    let mut ids: BTreeMap<(String, String), BTreeSet<String>> = BTreeMap::new();
    for r in rx.received() {
        assert!(r.signature_valid);
        let d = &r.body["data"];
        let step = format!("{}/{}", d["signalId"], d["step"]);
        ids.entry((step, r.contact.clone()))
            .or_default()
            .insert(r.webhook_id.clone());
    }
    assert_eq!(
        ids.len(),
        want_deliveries,
        "every step delivered to its recipients"
    );
    for (k, v) in &ids {
        assert_eq!(v.len(), 1, "{k:?} delivered under {} ids", v.len());
    }
}

/// These tests each start several brokers or service instances: on two cores they run one
/// at a time, so each measures itself, not the other.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

#[tokio::test(flavor = "multi_thread")]
async fn a_broker_killed_under_load_and_started_30_s_later_loses_nothing() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let mut env = Region::new().own_broker().start();
    let rx = Receiver::start(Duration::ZERO).await;
    env.apply_directory(&directory(&rx));
    let procs = services(&env);
    let ports = [env.ingest_port, env.rules_port, env.notify_port];
    for p in ports {
        Env::await_ready(p, Duration::from_secs(60)).await;
    }
    let load = Load::start(&env, Duration::from_millis(25), 81);
    assert!(
        eventually(Duration::from_secs(30), || load.accepted() >= 40).await,
        "the load is accepted"
    );

    env.kill_broker();
    let killed = Instant::now();
    // while it is away: nobody is ready, nobody exits, health answers at once
    for p in ports {
        assert!(
            eventually_async(
                Duration::from_secs(20),
                Duration::from_millis(200),
                || async { !Env::is_ready(p).await }
            )
            .await,
            "the service on :{p} stays ready without a broker"
        );
    }
    let procs = std::sync::Mutex::new(procs);
    during(
        Duration::from_secs(30).saturating_sub(killed.elapsed()),
        Duration::from_millis(500),
        || async {
            assert_running(&mut procs.lock().unwrap());
            for p in ports {
                let asked = Instant::now();
                let live = reqwest::get(format!("http://127.0.0.1:{p}/livez")).await;
                assert!(live.is_ok_and(|r| r.status() == 200), ":{p} /livez failed");
                assert!(
                    asked.elapsed() < Duration::from_secs(1),
                    ":{p} /livez took {:?}",
                    asked.elapsed()
                );
            }
        },
    )
    .await;
    let mut procs = procs.into_inner().unwrap();
    env.restart_broker();
    for p in ports {
        Env::await_ready(p, Duration::from_secs(90)).await;
    }
    let before = load.accepted();
    assert!(
        eventually(Duration::from_secs(30), || load.accepted() >= before + 40).await,
        "posting works again without a restart"
    );
    let answers = load.stop().await;
    assert_running(&mut procs);
    let refused = answers.iter().filter(|a| a.status != 202).count();
    let acknowledged = assert_acknowledged_once(&env, &answers);
    ticks_fire_and_deliver_once(&env, &rx).await;
    assert_running(&mut procs);
    eprintln!(
        "broker restart: {} posts, {acknowledged} acknowledged (each in the log once), {refused} refused while it was away",
        answers.len()
    );
}

/// The broker id leading the partition of `topic` that holds the most records.
fn leader_of_busiest(env: &Env, topic: Topic) -> i32 {
    let consumer: BaseConsumer = schakel_core::log::kafka::client_config(&env.config)
        .create()
        .expect("consumer");
    let full = env.config.topic(topic);
    let md = consumer
        .fetch_metadata(Some(&full), Duration::from_secs(10))
        .expect("metadata");
    let t = md
        .topics()
        .iter()
        .find(|t| t.name() == full)
        .expect("topic");
    t.partitions()
        .iter()
        .max_by_key(|p| {
            schakel_core::log::kafka::watermarks(&consumer, &full, p.id())
                .map(|(_, h)| h)
                .unwrap_or(0)
        })
        .map(|p| p.leader())
        .expect("a partition")
}

#[tokio::test(flavor = "multi_thread")]
async fn losing_the_leader_of_the_busiest_partition_loses_nothing() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let mut env = Region::new().cluster().start();
    let rx = Receiver::start(Duration::ZERO).await;
    env.apply_directory(&directory(&rx));
    let mut procs = services(&env);
    for p in [env.ingest_port, env.rules_port, env.notify_port] {
        Env::await_ready(p, Duration::from_secs(90)).await;
    }
    // three replicas: a follower may hold a commit back, so the order grace stays 500 ms
    let log = std::fs::read_to_string(&procs[1].log).expect("rules log");
    assert!(
        log.lines().any(|l| l.ends_with("order_grace_ms=500")),
        "the order grace on replicated inputs is 500 ms"
    );
    // a bounded, steady load: 100 events/s
    let load = Load::start(&env, Duration::from_millis(10), 82);
    assert!(
        eventually(Duration::from_secs(30), || load.accepted() >= 200).await,
        "the load is accepted"
    );
    let leader = leader_of_busiest(&env, Topic::JEUGDHULP);
    env.cluster().node(leader).kill9();
    let killed = Instant::now();
    let before = load.accepted();
    assert!(
        eventually(Duration::from_secs(60), || load.accepted() >= before + 300).await,
        "posting goes on after the election"
    );
    let answers = load.stop().await;
    assert_running(&mut procs);
    // 503 only for the election: the longest run of refusals after the kill
    let mut longest = Duration::ZERO;
    let mut since: Option<Instant> = None;
    for a in answers.iter().filter(|a| a.at >= killed) {
        match (a.status, since) {
            (202, Some(s)) => {
                longest = longest.max(a.at - s);
                since = None;
            }
            (202, None) => {}
            (_, None) => since = Some(a.at),
            _ => {}
        }
    }
    assert!(
        longest < Duration::from_secs(20),
        "ingest refused for {longest:?} after the leader died"
    );
    let refused = answers.iter().filter(|a| a.status != 202).count();
    let acknowledged = assert_acknowledged_once(&env, &answers);
    ticks_fire_and_deliver_once(&env, &rx).await;
    assert_running(&mut procs);
    eprintln!(
        "leader loss (node {leader}): {} posts, {acknowledged} acknowledged (each in the log once), {refused} refused, the longest refusal {longest:?}",
        answers.len()
    );
}
