//! E-mail end to end: a real SMTP server (aiosmtpd) receives the notifications of a jeugdhulp
//! signal in Dutch, text and HTML, with the links, for the contacts whose preferences ask for
//! e-mail and for the rules they chose; webhooks go alongside; a restarted notify sends
//! nothing again.

use jiff::civil::date;
use std::collections::BTreeSet;
use std::time::Duration;

use schakel_core::domain::catalogue::Topic;
use schakel_e2e::receiver::Receiver;
use schakel_e2e::smtp::SmtpServer;
use schakel_e2e::{assignment_event, bsns, eventually, Env, Region, JEUGDHULP_TOKEN};

const SECRET_A: &str = "whsec_dGVzdC1zZWNyZXQtamV1Z2R0ZWFtLTAxMjM0NTY3ODk=";
const SECRET_D: &str = "whsec_dGVzdC1zZWNyZXQtdm9sd2Fzc2VuLTAxMjM0NTY3ODk=";

/// The `[notify.email]` table for the test SMTP server on `port`, without TLS.
fn email(port: u16) -> String {
    format!(
        "[notify.email]\nhost = \"127.0.0.1\"\nport = {port}\ntls = \"none\"\nfrom = \"Schakel Test <noreply@schakel.test>\"\n"
    )
}

fn directory(rx: &Receiver) -> String {
    format!(
        r#"
[[institution]]
id = "gemeente:0392"
name = "Gemeente Haarlem"

# both channels (the default: every channel with an address)
[[contact]]
id = "jt-a"
name = "Wijkteam Haarlem-Noord"
institution = "gemeente:0392"
roles = ["jeugdteam"]
email = "jt-a@haarlem.example"
webhook = {{ url = "{}", secret = "{SECRET_A}" }}

# e-mail only
[[contact]]
id = "wmo-b"
name = "Loket Wmo Haarlem"
institution = "gemeente:0392"
roles = ["volwassenen"]
email = "wmo-b@haarlem.example"

# e-mail, only for R3b
[[contact]]
id = "jt-c"
name = "Wijkteam Haarlem-Oost"
institution = "gemeente:0392"
roles = ["jeugdteam"]
email = "jt-c@haarlem.example"
rules = ["R3b"]

# has an address but chose the webhook only
[[contact]]
id = "jt-d"
name = "Wijkteam Haarlem-Zuid"
institution = "gemeente:0392"
roles = ["jeugdteam"]
email = "jt-d@haarlem.example"
webhook = {{ url = "{}", secret = "{SECRET_D}" }}
channels = ["webhook"]
"#,
        rx.contact("jt-a", SECRET_A),
        rx.contact("jt-d", SECRET_D)
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn contacts_get_dutch_mail_per_their_preferences_once_alongside_webhooks() {
    let smtp_port = SmtpServer::port();
    let env = Region::new().config(&email(smtp_port)).start();
    let smtp = SmtpServer::start(&env.dir, smtp_port);
    let rx = Receiver::start(Duration::ZERO).await;
    env.apply_directory(&directory(&rx));
    let _ingest = env.spawn_ingest();
    let _rules = env.spawn_rules();
    let mut notify = env.spawn_notify();

    // turns 17y6m on 2026-01-12 (R3a from 2026-01-05 with the default policy, R3b on the 12th)
    let bsn = &bsns(1, 51)[0];
    let (s, b) = env
        .post_batch(
            JEUGDHULP_TOKEN,
            &vec![assignment_event("m-1", bsn, "2008-07-12", "T200")].into(),
        )
        .await;
    assert_eq!(s, 202, "{b}");
    env.await_rules_read(Topic::JEUGDHULP, 1).await;
    env.tick_days(date(2026, 1, 5), date(2026, 1, 13));

    let expected_mail: BTreeSet<(String, String)> = [
        ("R3a", "jt-a@haarlem.example"),
        ("R3b", "jt-a@haarlem.example"),
        ("R3b", "wmo-b@haarlem.example"),
        ("R3b", "jt-c@haarlem.example"),
    ]
    .iter()
    .map(|(r, a)| ((*r).to_owned(), (*a).to_owned()))
    .collect();
    assert!(
        eventually(Duration::from_secs(30), || smtp.mails().len() >= 4
            && rx.received().len() >= 4)
        .await,
        "mails {:?}, webhooks {}",
        smtp.mails()
            .iter()
            .map(|m| (&m.to, &m.subject))
            .collect::<Vec<_>>(),
        rx.received().len()
    );
    // a restart of notify sends nothing again that the ledger shows as delivered (a crash
    // between a send and its record would send it again, with the same Message-ID)
    assert!(
        eventually(Duration::from_secs(30), || env
            .deliveries()
            .iter()
            .filter(|d| d.status == "succeeded")
            .count()
            >= smtp.mails().len() + rx.received().len())
        .await,
        "every delivery recorded as succeeded"
    );
    notify.kill9();
    let _notify = env.spawn_notify();
    // the restarted notify has read every signal again and found each delivery final
    Env::await_ready(env.notify_port, Duration::from_secs(60)).await;
    env.await_committed("notify", Topic::SIGNALS).await;

    let mails = smtp.mails();
    let got: BTreeSet<(String, String)> = mails
        .iter()
        .map(|m| {
            let rule = if m.subject.contains("Overgang 18-/18+ plannen") {
                "R3a"
            } else if m.subject.contains("Warme overdracht 18-/18+") {
                "R3b"
            } else {
                panic!("unexpected subject {:?}", m.subject)
            };
            assert_eq!(m.to.len(), 1);
            (rule.to_owned(), m.to[0].clone())
        })
        .collect();
    assert_eq!(got, expected_mail);
    assert_eq!(mails.len(), 4, "each mail exactly once");
    let ids: BTreeSet<&str> = mails.iter().map(|m| m.message_id.as_str()).collect();
    assert_eq!(ids.len(), 4, "a Message-ID per delivery");

    for m in &mails {
        assert_eq!(m.from, "noreply@schakel.test");
        assert!(m.subject.starts_with("[Schakel] "), "{}", m.subject);
        for body in [&m.text, &m.html] {
            assert!(
                body.contains(&format!("{}/v1/signals/", env.monitor_url())),
                "the link: {body}"
            );
            assert!(
                body.contains("U ontvangt dit bericht als:"),
                "Dutch: {body}"
            );
            assert!(body.contains("geen naam, BSN of zorginformatie"), "{body}");
        }
        assert!(m
            .html
            .contains(&format!("<a href=\"{}/v1/signals/", env.monitor_url())));
        if m.subject.contains("Warme overdracht") {
            assert!(
                m.text.contains("12 juli 2026"),
                "R3b is due on the 18th birthday"
            );
            assert!(m.text.contains("/acknowledge") && m.text.contains("/complete"));
        }
        for secret in [bsn.as_str(), "Testvoornaam", "Testachternaam", "45A12"] {
            assert!(!m.raw.contains(secret), "{secret} must not be in a mail");
        }
    }
    // jt-d chose the webhook only: its webhooks arrived, no mail
    let hooks: BTreeSet<(String, String)> = rx
        .received()
        .iter()
        .map(|r| {
            (
                r.body["data"]["rule"].as_str().unwrap().to_owned(),
                r.contact.clone(),
            )
        })
        .collect();
    let expected_hooks: BTreeSet<(String, String)> = [
        ("R3a", "jt-a"),
        ("R3a", "jt-d"),
        ("R3b", "jt-a"),
        ("R3b", "jt-d"),
    ]
    .iter()
    .map(|(r, c)| ((*r).to_owned(), (*c).to_owned()))
    .collect();
    assert_eq!(hooks, expected_hooks);
    assert_eq!(rx.received().len(), 4, "each webhook exactly once");
}

/// Every signal step addressed to `role`, as (signalId, step).
fn steps_for(env: &Env, role: &str) -> BTreeSet<(String, String)> {
    env.signals()
        .into_iter()
        .filter(|s| s.recipients.iter().any(|x| x == role))
        .map(|s| (s.signal_id, s.step))
        .collect()
}

/// Ledger records of one contact: delivery id → statuses in order.
fn ledger_of(env: &Env, contact: &str) -> std::collections::BTreeMap<String, Vec<String>> {
    let mut out: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for ev in env
        .deliveries()
        .into_iter()
        .filter(|e| e.contact == contact)
    {
        out.entry(ev.id).or_default().push(ev.status.to_string());
    }
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn a_daily_digest_gathers_the_steps_at_its_hour_and_urgent_ones_go_at_once() {
    let smtp_port = SmtpServer::port();
    let env = Region::new()
        .notify("clock = \"log\"")
        .config(&email(smtp_port))
        .start();
    let smtp = SmtpServer::start(&env.dir, smtp_port);
    env.apply_directory(
        r#"
[[institution]]
id = "gemeente:0392"
name = "Gemeente Haarlem"

[[contact]]
id = "jt-digest"
name = "Wijkteam Haarlem-Noord"
institution = "gemeente:0392"
roles = ["jeugdteam"]
email = "jt-digest@haarlem.example"
digest_hour = 8
"#,
    );
    let _ingest = env.spawn_ingest();
    let _rules = env.spawn_rules();
    let mut notify = env.spawn_notify();

    let bsn = &bsns(1, 53)[0];
    let (s, b) = env
        .post_batch(
            JEUGDHULP_TOKEN,
            &vec![assignment_event("g-1", bsn, "2008-07-12", "T210")].into(),
        )
        .await;
    assert_eq!(s, 202, "{b}");
    env.await_rules_read(Topic::JEUGDHULP, 1).await;
    for d in 5..=12 {
        env.tick_at(&format!("2026-01-{d:02}"), "2026-01-12T07:00:00+01:00");
    }
    // R3a and R3b opened: both wait for the 08:00 digest
    let scheduled = |env: &Env| {
        ledger_of(env, "jt-digest")
            .values()
            .filter(|st| st.last().map(String::as_str) == Some("digest-scheduled"))
            .count()
    };
    assert!(
        eventually(Duration::from_secs(30), || scheduled(&env) == 2).await,
        "two steps wait for the digest: {:?}",
        ledger_of(&env, "jt-digest")
    );
    assert!(smtp.mails().is_empty(), "nothing before 08:00");
    // a crash before the digest loses nothing: the ledger holds the waiting steps
    notify.kill9();
    let _notify = env.spawn_notify();
    env.tick_at("2026-01-12", "2026-01-12T08:00:30+01:00");
    assert!(
        eventually(Duration::from_secs(30), || !smtp.mails().is_empty()).await,
        "the digest at 08:00"
    );
    // both steps recorded as delivered: every mail for them has been accepted by the server
    let delivered = |env: &Env| {
        ledger_of(env, "jt-digest")
            .values()
            .filter(|st| st.last().map(String::as_str) == Some("succeeded"))
            .count()
    };
    assert!(
        eventually(Duration::from_secs(30), || delivered(&env) == 2).await,
        "both steps delivered by the digest: {:?}",
        ledger_of(&env, "jt-digest")
    );
    let mails = smtp.mails();
    assert_eq!(mails.len(), 1, "one digest, not a mail per step");
    let d = &mails[0];
    assert_eq!(d.subject, "[Schakel] Dagelijks overzicht: 2 signalen");
    assert!(
        d.text.contains("Overgang 18-/18+ plannen") && d.text.contains("Warme overdracht 18-/18+")
    );
    assert_eq!(
        d.text
            .matches(&format!("{}/v1/signals/", env.monitor_url()))
            .count(),
        2,
        "{}",
        d.text
    );
    assert!(d.html.contains("<ol>") && d.html.contains("Bekijk het signaal"));
    for secret in [bsn.as_str(), "Testvoornaam", "Testachternaam"] {
        assert!(!d.raw.contains(secret));
    }

    // half a year on: R3b is reminded (waits for the next digest) and overdue (goes at once)
    env.tick_at("2026-07-13", "2026-07-13T07:00:00+02:00");
    assert!(
        eventually(Duration::from_secs(30), || smtp
            .mails()
            .iter()
            .any(|m| m.subject.contains("Termijn verstreken")))
        .await,
        "the overdue task is mailed at once: {:?}",
        smtp.mails().iter().map(|m| &m.subject).collect::<Vec<_>>()
    );
    env.tick_at("2026-07-13", "2026-07-13T08:00:30+02:00");
    // every step addressed to the jeugdteam reached the contact exactly once
    let expected = steps_for(&env, "jeugdteam");
    assert!(
        eventually(Duration::from_secs(30), || {
            let l = ledger_of(&env, "jt-digest");
            l.len() == expected.len()
                && l.values()
                    .all(|st| st.last().map(String::as_str) == Some("succeeded"))
        })
        .await,
        "{} steps, ledger {:?}",
        expected.len(),
        ledger_of(&env, "jt-digest")
    );
    for (id, st) in ledger_of(&env, "jt-digest") {
        assert_eq!(
            st.iter().filter(|s| *s == "succeeded").count(),
            1,
            "{id}: {st:?}"
        );
    }
    let mails = smtp.mails();
    let urgent: Vec<_> = mails
        .iter()
        .filter(|m| !m.subject.contains("Dagelijks overzicht"))
        .collect();
    assert!(
        urgent
            .iter()
            .all(|m| m.subject.contains("Termijn verstreken") || m.subject.contains("Escalatie")),
        "only urgent steps outside a digest: {:?}",
        urgent.iter().map(|m| &m.subject).collect::<Vec<_>>()
    );
    let in_digests: usize = mails
        .iter()
        .filter(|m| m.subject.contains("Dagelijks overzicht"))
        .map(|m| {
            m.text
                .matches(&format!("{}/v1/signals/", env.monitor_url()))
                .count()
        })
        .sum();
    assert_eq!(
        in_digests + urgent.len(),
        expected.len(),
        "each step once, in a digest or alone"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn mail_goes_over_starttls_to_a_server_with_a_private_certificate() {
    let smtp_port = SmtpServer::port();
    let certs = std::env::temp_dir().join(format!("schakel-smtp-tls-{smtp_port}"));
    std::fs::create_dir_all(&certs).unwrap();
    let (cert, key) = SmtpServer::tls_files(&certs);
    let env = Region::new().config(&format!(
        "[notify.email]\nhost = \"localhost\"\nport = {smtp_port}\ntls = \"starttls\"\nca_file = \"{}\"\nfrom = \"Schakel Test <noreply@schakel.test>\"\n",
        cert.display()
    )).start();
    let smtp = SmtpServer::start_tls(&env.dir, smtp_port, &cert, &key);
    env.apply_directory(
        r#"
[[institution]]
id = "gemeente:0392"
name = "Gemeente Haarlem"

[[contact]]
id = "jt-tls"
name = "Wijkteam Haarlem-Noord"
institution = "gemeente:0392"
roles = ["jeugdteam", "volwassenen"]
email = "jt-tls@haarlem.example"
"#,
    );
    let _ingest = env.spawn_ingest();
    let _rules = env.spawn_rules();
    let _notify = env.spawn_notify();
    let bsn = &bsns(1, 57)[0];
    let (s, b) = env
        .post_batch(
            JEUGDHULP_TOKEN,
            &vec![assignment_event("t-1", bsn, "2008-07-12", "T220")].into(),
        )
        .await;
    assert_eq!(s, 202, "{b}");
    env.await_rules_read(Topic::JEUGDHULP, 1).await;
    env.tick("2026-01-05");
    assert!(
        eventually(Duration::from_secs(30), || !smtp.mails().is_empty()).await,
        "a mail over STARTTLS, the server's certificate checked against ca_file"
    );
    let m = &smtp.mails()[0];
    assert_eq!(m.to, ["jt-tls@haarlem.example"]);
    assert!(
        m.subject.contains("Overgang 18-/18+ plannen"),
        "{}",
        m.subject
    );
    let _ = std::fs::remove_dir_all(certs);
}
