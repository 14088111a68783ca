//! 1 000 signals to 50 contacts with mixed preferences (webhook, e-mail, both, a daily digest,
//! rule filters), on the real broker with a real HTTP receiver and a real SMTP server, with
//! notify on its log clock: the receiver is down at first and gets everything once it is back,
//! in the scheduled retries; notify is killed with `kill -9` at random moments; in the end
//! every delivery is recorded delivered exactly once, every webhook id and Message-ID expected
//! arrived, and nothing else did.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use jiff::civil::date;
use schakel_core::domain::catalogue::EventType;
use schakel_core::domain::catalogue::Topic;
use schakel_core::domain::events::SignalEvent;
use schakel_core::domain::ids::{Bsn, ChildId, Pseudonymizer};
use schakel_core::log::kafka::{CloudEvent, Outgoing, Producer};
use schakel_core::log::trace::TraceParent;
use schakel_e2e::receiver::Receiver;
use schakel_e2e::smtp::SmtpServer;
use schakel_e2e::{bsns, eventually, Region};
use schakel_notify::ledger::delivery_id;

const SECRET: &str = "whsec_dGVzdC1zZWNyZXQtbG9hZC10ZXN0LTAxMjM0NTY3ODk=";
const SCHOOLS: usize = 10;

/// A contact of the test, and what it should get.
struct Spec {
    id: String,
    school: String,
    role: &'static str,
    webhook: bool,
    email: bool,
    digest: bool,
    rules: Option<&'static [&'static str]>,
}

fn contacts() -> Vec<Spec> {
    let mut out = Vec::new();
    for s in 0..SCHOOLS {
        let school = format!("10A{}", (b'A' + s as u8) as char);
        let c = |n: &str, role, webhook, email, digest, rules| Spec {
            id: format!("{n}-{}", school.to_lowercase()),
            school: school.clone(),
            role,
            webhook,
            email,
            digest,
            rules,
        };
        out.push(c("ib-hook", "ib", true, false, false, None));
        out.push(c("ib-mail", "ib", false, true, false, None));
        out.push(c("zc-both", "zorgcoordinator", true, true, false, None));
        out.push(c("kt-digest", "kernteam", false, true, true, None));
        out.push(c(
            "loc-r45",
            "locatie",
            true,
            true,
            false,
            Some(&["R4", "R5"]),
        ));
    }
    out
}

fn directory(rx: &Receiver, specs: &[Spec]) -> String {
    let mut t = String::new();
    for s in 0..SCHOOLS {
        t.push_str(&format!(
            "[[institution]]\nid = \"school:10A{}\"\nname = \"School {s}\"\n\n",
            (b'A' + s as u8) as char
        ));
    }
    for c in specs {
        t.push_str(&format!(
            "[[contact]]\nid = \"{}\"\nname = \"Team {}\"\ninstitution = \"school:{}\"\nroles = [\"{}\"]\n",
            c.id, c.id, c.school, c.role
        ));
        if c.webhook {
            t.push_str(&format!(
                "webhook = {{ url = \"{}\", secret = \"{SECRET}\" }}\n",
                rx.contact(&c.id, SECRET)
            ));
        }
        if c.email {
            t.push_str(&format!("email = \"{}@school.example\"\n", c.id));
        }
        if c.digest {
            t.push_str("digest_hour = 8\n");
        }
        if let Some(r) = c.rules {
            t.push_str(&format!("rules = {r:?}\n"));
        }
        t.push('\n');
    }
    t
}

/// Signal `i`: (rule, step, recipients, task).
fn kind(i: usize) -> (&'static str, &'static str, &'static [&'static str], bool) {
    match i % 4 {
        0 => ("R2b", "opened", &["ib", "zorgcoordinator"], true),
        1 => ("R4", "reminded", &["kernteam", "locatie"], false),
        2 => ("R5", "overdue", &["ib", "kernteam", "locatie"], false),
        _ => ("R1c", "escalated", &["zorgcoordinator", "locatie"], false),
    }
}

/// A small deterministic generator for the kill moments (the seed is printed).
struct Lcg(u64);
impl Lcg {
    fn next(&mut self, below: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % below
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_thousand_signals_to_fifty_contacts_arrive_once_per_channel_through_outages_and_kills() {
    let smtp_port = SmtpServer::port();
    let env = Region::new()
        .notify("clock = \"log\"\nper_endpoint_concurrency = 16\nretry_schedule = [\"5s\", \"5m\", \"30m\"]")
        .config(&format!(
            "[notify.email]\nhost = \"127.0.0.1\"\nport = {smtp_port}\ntls = \"none\"\nfrom = \"Schakel <noreply@schakel.test>\"\n"
        ))
        .start();
    let smtp = SmtpServer::start(&env.dir, smtp_port);
    let rx = Receiver::start(Duration::ZERO).await;
    let specs = contacts();
    assert_eq!(specs.len(), 50);
    for c in &specs {
        rx.set_down(&c.id, true);
    }
    env.apply_directory(&directory(&rx, &specs));
    env.tick_at("2026-03-02", "2026-03-02T07:30:00+01:00");

    // 1 000 signal steps, written as rules writes them
    let pseudo = Pseudonymizer::new(b"load-test-pseudonym-secret-0123");
    let children = bsns(250, 71);
    let mut signals = Vec::new();
    for i in 0..1000 {
        let (rule, step, recipients, task) = kind(i);
        let child = ChildId::Bsn(Bsn::parse(&children[i % children.len()]).unwrap());
        let signal_id = format!("{:032x}", i as u128 * 7919 + 1);
        signals.push(SignalEvent {
            id: format!("{signal_id}-{step}"),
            kind: EventType::parse(&format!("nl.schakel.signal.{step}.v1")).unwrap(),
            step: step.into(),
            signal_id,
            rule: rule.into(),
            child_key: pseudo.child_key(&child),
            institution: Some(format!(
                "school:10A{}",
                (b'A' + (i % SCHOOLS) as u8) as char
            )),
            municipality: Some("0392".into()),
            due_date: Some(date(2026, 3, 20)),
            recipients: recipients.iter().map(|r| (*r).to_owned()).collect(),
            task,
            fired_on: date(2026, 3, 2),
            birth_date_uncertain: false,
            facts: vec![],
            policy: BTreeMap::new(),
            routes: BTreeMap::new(),
            residence_derived_from: None,
        });
    }
    let producer = Producer::new(&env.config).unwrap();
    let sends = signals.iter().map(|s| {
        let ce = CloudEvent {
            id: s.id.clone(),
            source: "urn:nl:schakel:rules".into(),
            kind: s.kind,
            time: jiff::Timestamp::now(),
            trace: TraceParent::new_root(),
        };
        let producer = producer.clone();
        async move {
            producer
                .send(Outgoing {
                    key: s.child_key.as_str(),
                    value: s,
                    event: &ce,
                    partition: None,
                })
                .await
                .expect("signal written")
        }
    });
    for send in sends {
        send.await;
    }

    // what each contact must get, per channel: delivery ids
    let (mut hooks, mut mails, mut digest_items) =
        (BTreeSet::new(), BTreeSet::new(), BTreeMap::new());
    for s in &signals {
        let school = s
            .institution
            .as_deref()
            .unwrap()
            .trim_start_matches("school:");
        for c in specs.iter().filter(|c| c.school == school) {
            if !s.recipients.iter().any(|r| r == c.role)
                || c.rules.is_some_and(|r| !r.contains(&s.rule.as_str()))
            {
                continue;
            }
            if c.webhook {
                hooks.insert(delivery_id(&s.id, &c.id, "webhook"));
            }
            if c.email {
                let id = delivery_id(&s.id, &c.id, "email");
                if c.digest && !matches!(s.step.as_str(), "escalated" | "overdue") {
                    digest_items
                        .entry(c.id.clone())
                        .or_insert_with(BTreeSet::new)
                        .insert((id, s.signal_id.clone()));
                } else {
                    mails.insert(id);
                }
            }
        }
    }
    let digested: usize = digest_items.values().map(BTreeSet::len).sum();
    eprintln!(
        "expected: {} webhooks, {} e-mails, {digested} digest items in {} digests",
        hooks.len(),
        mails.len(),
        digest_items.len()
    );

    // notify runs, and is killed at random moments while the e-mails go out and the webhooks fail
    let seed = jiff::Timestamp::now().as_millisecond() as u64;
    eprintln!("kill seed {seed}");
    let mut rng = Lcg(seed);
    let started = std::time::Instant::now();
    let mut notify = env.spawn_notify();
    let mut kills = 0;
    // each kill comes once a random number more of the e-mails went out
    for _ in 0..2 {
        let at = (smtp.count() + 1 + rng.next(mails.len() as u64 / 3) as usize).min(mails.len());
        eventually(Duration::from_secs(120), || smtp.count() >= at).await;
        notify.kill9();
        kills += 1;
        notify = env.spawn_notify();
    }
    assert!(
        eventually(Duration::from_secs(240), || smtp.count() >= mails.len()).await,
        "the immediate e-mails: {} of {}",
        smtp.count(),
        mails.len()
    );
    assert!(rx.received().is_empty(), "the receiver is down");
    eprintln!("{:?} immediate e-mails out", started.elapsed());

    // the receiver is back; nothing happens until notify's clock reaches the retries
    for c in &specs {
        rx.set_down(&c.id, false);
    }
    // time moves less than the first retry's wait (5 s, give or take 10 %): once notify read
    // that tick, still nothing is sent
    env.tick_at("2026-03-02", "2026-03-02T07:30:04+01:00");
    env.await_notify_followed(Topic::CLOCK).await;
    assert!(rx.received().is_empty(), "no retry before its time");
    env.tick_at("2026-03-02", "2026-03-02T07:36:00+01:00");
    // killed again once a random share of the retried webhooks arrived
    let at = 1 + rng.next(hooks.len() as u64 / 2) as usize;
    eventually(Duration::from_secs(120), || rx.received().len() >= at).await;
    notify.kill9();
    kills += 1;
    let _notify = env.spawn_notify();
    // past every retry wait, and the digest hour
    env.tick_at("2026-03-02", "2026-03-02T08:10:00+01:00");

    let ledger = || {
        let mut m: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for ev in env.deliveries() {
            m.entry(ev.id).or_default().push(ev.status.to_string());
        }
        m
    };
    let total = hooks.len() + mails.len() + digested;
    // cheap checks first (the receiver's and the mailbox's counts), the ledger then
    let arrived = eventually(Duration::from_secs(300), || {
        let ids: BTreeSet<String> = rx.received().into_iter().map(|r| r.webhook_id).collect();
        ids.len() >= hooks.len() && smtp.count() >= mails.len() + digest_items.len()
    })
    .await;
    assert!(
        arrived,
        "webhooks {} of {}, mails {} of {}",
        rx.received().len(),
        hooks.len(),
        smtp.count(),
        mails.len() + digest_items.len()
    );
    eprintln!("{:?} everything arrived", started.elapsed());
    let done = eventually(Duration::from_secs(60), || {
        ledger()
            .values()
            .filter(|st| st.iter().any(|s| s == "succeeded"))
            .count()
            >= total
    })
    .await;
    if !done {
        let mut last: BTreeMap<String, usize> = BTreeMap::new();
        for st in ledger().values() {
            *last
                .entry(st.last().cloned().unwrap_or_default())
                .or_default() += 1;
        }
        panic!(
            "not every delivery delivered; last states {last:?}, webhooks {}, mails {}",
            rx.received().len(),
            smtp.count()
        );
    }
    eprintln!("{:?} all delivered", started.elapsed());

    // the ledger: exactly the expected deliveries, each delivered exactly once
    let l = ledger();
    let expected: BTreeSet<String> = hooks
        .iter()
        .chain(&mails)
        .cloned()
        .chain(digest_items.values().flatten().map(|(id, _)| id.clone()))
        .collect();
    assert_eq!(
        l.keys().cloned().collect::<BTreeSet<_>>(),
        expected,
        "no other delivery"
    );
    for (id, st) in &l {
        assert_eq!(
            st.iter().filter(|s| *s == "succeeded").count(),
            1,
            "{id}: {st:?}"
        );
    }
    // every webhook: after the outage, in a retry, validly signed, each id once (a re-send
    // after a kill carries the same id, which the receiver deduplicates)
    let got = rx.received();
    assert!(got.iter().all(|r| r.signal_is_valid()));
    let ids: BTreeSet<String> = got.iter().map(|r| r.webhook_id.clone()).collect();
    assert_eq!(ids, hooks, "every webhook id, and only those");
    let resent = got.len() - ids.len();
    for id in &hooks {
        assert!(
            l[id].iter().filter(|s| *s == "failed").count() >= 1,
            "{id}: retried"
        );
    }
    // every e-mail by Message-ID; digests list every waiting step once
    let all_mail = smtp.mails();
    let (digests, single): (Vec<_>, Vec<_>) = all_mail
        .iter()
        .partition(|m| m.subject.contains("Dagelijks overzicht"));
    let mids: BTreeSet<String> = single
        .iter()
        .map(|m| m.message_id.trim_end_matches("@schakel").to_owned())
        .collect();
    assert_eq!(mids, mails, "every immediate e-mail, and only those");
    for (contact, items) in &digest_items {
        let listed: BTreeSet<String> = digests
            .iter()
            .filter(|m| m.to.iter().any(|t| t.starts_with(contact.as_str())))
            .flat_map(|m| {
                m.text
                    .split_whitespace()
                    .filter_map(|w| w.strip_prefix(&format!("{}/v1/signals/", env.monitor_url())))
                    .map(str::to_owned)
                    .collect::<Vec<_>>()
            })
            .collect();
        let want: BTreeSet<String> = items.iter().map(|(_, s)| s.clone()).collect();
        assert_eq!(listed, want, "{contact}'s digest");
    }
    eprintln!(
        "delivered {} webhooks ({resent} re-sent with the same id), {} e-mails ({} re-sent), {} digests; {kills} kills",
        ids.len(),
        mids.len(),
        single.len() - mids.len(),
        digests.len()
    );
}
