//! The monitor over HTTP, as a contact person and a system use it: the signal page behind a
//! notification's link (login first; the child only for a contact who holds one of its roles
//! there, audited before it is shown), the acknowledge and complete links (a confirmation page,
//! then the answer; forged, expired and used links change nothing), buttons with CSRF tokens,
//! the inbox per role, JSON with a contact token, and logout.

use jiff::civil::date;
use std::time::Duration;

use reqwest::header::{ACCEPT, COOKIE, LOCATION, SET_COOKIE};
use reqwest::redirect::Policy;
use schakel_core::domain::catalogue::{EventType, Topic};
use schakel_core::domain::events::{AuditEvent, ResponseEvent};
use schakel_core::domain::links::{Action, Grant, Links};
use schakel_e2e::receiver::Receiver;
use schakel_e2e::{assignment_event, bsns, eventually, Env, Region, JEUGDHULP_TOKEN, LINK_SECRET};

const SECRET_JT: &str = "whsec_dGVzdC1zZWNyZXQtamV1Z2R0ZWFtLTAxMjM0NTY3ODk=";
const SECRET_VW: &str = "whsec_dGVzdC1zZWNyZXQtdm9sd2Fzc2VuLTAxMjM0NTY3ODk=";
const VW_TOKEN: &str = "test-contact-wmo-haarlem";
const PASSWORD: &str = "een-lang-testwachtwoord";

const TOKENS: &str = r#"
[[ingest.tokens]]
name = "wmo-haarlem"
token = "test-contact-wmo-haarlem"
contact = "wmo-haarlem"
"#;

fn directory(rx: &Receiver) -> String {
    format!(
        r#"
[[institution]]
id = "gemeente:0392"
name = "Gemeente Haarlem"

[[institution]]
id = "gemeente:0363"
name = "Gemeente Amsterdam"

[[contact]]
id = "jeugdteam-haarlem"
name = "Wijkteam Haarlem"
institution = "gemeente:0392"
roles = ["jeugdteam"]
email = "jt@haarlem.example"
webhook = {{ url = "{}", secret = "{SECRET_JT}" }}

[[contact]]
id = "wmo-haarlem"
name = "Loket Wmo Haarlem"
institution = "gemeente:0392"
roles = ["volwassenen"]
webhook = {{ url = "{}", secret = "{SECRET_VW}" }}

[[contact]]
id = "jeugdteam-amsterdam"
name = "Jeugdteam Amsterdam"
institution = "gemeente:0363"
roles = ["jeugdteam"]
email = "jt@amsterdam.example"
"#,
        rx.contact("jeugdteam-haarlem", SECRET_JT),
        rx.contact("wmo-haarlem", SECRET_VW)
    )
}

/// A client as a browser without scripts: keeps the session cookie, follows no redirect.
struct Visitor {
    base: String,
    client: reqwest::Client,
    cookie: Option<String>,
}

struct Page {
    status: u16,
    location: Option<String>,
    body: String,
}

impl Page {
    /// The value of the hidden CSRF field of the page's (first) form.
    fn csrf(&self) -> String {
        let at = self
            .body
            .find(r#"name="csrf" value=""#)
            .expect("a form with a CSRF token");
        let rest = &self.body[at + r#"name="csrf" value=""#.len()..];
        rest[..rest.find('"').unwrap()].to_owned()
    }
}

impl Visitor {
    fn new(env: &Env) -> Self {
        Self {
            base: env.monitor_url(),
            client: reqwest::Client::builder()
                .redirect(Policy::none())
                .build()
                .unwrap(),
            cookie: None,
        }
    }

    async fn send(&mut self, req: reqwest::RequestBuilder) -> Page {
        let req = match &self.cookie {
            Some(c) => req.header(COOKIE, c),
            None => req,
        };
        let r = req.send().await.expect("the monitor answers");
        if let Some(c) = r.headers().get(SET_COOKIE) {
            let c = c.to_str().unwrap();
            let pair = c.split(';').next().unwrap().to_owned();
            self.cookie = (!pair.ends_with('=')).then_some(pair);
        }
        Page {
            status: r.status().as_u16(),
            location: r
                .headers()
                .get(LOCATION)
                .map(|l| l.to_str().unwrap().to_owned()),
            body: r.text().await.unwrap(),
        }
    }

    fn url(&self, path: &str) -> String {
        if path.starts_with("http") {
            path.to_owned()
        } else {
            format!("{}{path}", self.base)
        }
    }

    async fn get(&mut self, path: &str) -> Page {
        let req = self.client.get(self.url(path));
        self.send(req).await
    }

    async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Page {
        let req = self.client.post(self.url(path)).form(form);
        self.send(req).await
    }

    async fn login(&mut self, login: &str) {
        let form = self.get("/login").await;
        let p = self
            .post(
                "/login",
                &[
                    ("csrf", &form.csrf()),
                    ("gebruikersnaam", login),
                    ("wachtwoord", PASSWORD),
                ],
            )
            .await;
        assert_eq!(p.status, 303, "{login} logs in: {}", p.body);
    }
}

fn audits(env: &Env) -> Vec<AuditEvent> {
    let reg = schakel_core::log::schemas::registry();
    env.read(Topic::AUDIT)
        .iter()
        .filter_map(|r| reg.decode(Topic::AUDIT, r.value.as_deref()?).ok())
        .collect()
}

fn responses(env: &Env) -> Vec<ResponseEvent> {
    let reg = schakel_core::log::schemas::registry();
    env.read(Topic::RESPONSES)
        .iter()
        .filter_map(|r| reg.decode(Topic::RESPONSES, r.value.as_deref()?).ok())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_contact_opens_answers_and_follows_a_task_and_nobody_else_sees_the_child() {
    let env = Region::new().config(TOKENS).start();
    let rx = Receiver::start(Duration::ZERO).await;
    env.apply_directory(&directory(&rx));
    for login in ["jeugdteam-haarlem", "wmo-haarlem", "jeugdteam-amsterdam"] {
        env.add_account(login, PASSWORD);
    }
    let _services = env.spawn_services();
    let _monitor = env.spawn_monitor();

    // an R3b handoff: turns 17y6m on 2026-01-12
    let bsn = bsns(1, 211).remove(0);
    let (s, b) = env
        .post_batch(
            JEUGDHULP_TOKEN,
            &serde_json::json!([assignment_event("m-1", &bsn, "2008-07-12", "T1")]),
        )
        .await;
    assert_eq!(s, 202, "{b}");
    env.await_rules_read(Topic::JEUGDHULP, 1).await;
    env.tick_days(date(2026, 1, 11), date(2026, 1, 12));
    assert!(
        eventually(Duration::from_secs(60), || rx
            .received()
            .iter()
            .filter(|r| r.body["data"]["rule"] == "R3b")
            .count()
            >= 2)
        .await,
        "the R3b task reaches both sides"
    );
    let hook = |contact: &str| {
        rx.received()
            .into_iter()
            .find(|r| r.contact == contact && r.body["data"]["rule"] == "R3b")
            .unwrap()
            .body
    };
    let (vw, jt) = (hook("wmo-haarlem"), hook("jeugdteam-haarlem"));
    let dataref = vw["dataref"].as_str().unwrap().to_owned();
    let signal_id = vw["data"]["signalId"].as_str().unwrap().to_owned();
    assert_eq!(
        dataref,
        format!("{}/v1/signals/{signal_id}", env.monitor_url())
    );
    Env::await_ready(env.monitor_port, Duration::from_secs(60)).await;

    // the link without a session asks for a login, back to the signal afterwards
    let mut person = Visitor::new(&env);
    let p = person.get(&dataref).await;
    assert_eq!(p.status, 303);
    assert_eq!(
        p.location.as_deref(),
        Some(format!("/login?terug=/v1/signals/{signal_id}").as_str())
    );
    // a wrong password, and a login form without its CSRF token, are refused
    let form = person.get("/login").await;
    assert_eq!(form.status, 200);
    assert!(form.body.contains(r#"<html lang="nl""#));
    let wrong = person
        .post(
            "/login",
            &[
                ("csrf", &form.csrf()),
                ("gebruikersnaam", "wmo-haarlem"),
                ("wachtwoord", "niet-het-wachtwoord"),
            ],
        )
        .await;
    assert_eq!(wrong.status, 401);
    assert!(wrong.body.contains("klopt niet"));
    let forged = person
        .post(
            "/login",
            &[
                ("csrf", "guessed"),
                ("gebruikersnaam", "wmo-haarlem"),
                ("wachtwoord", PASSWORD),
            ],
        )
        .await;
    assert_eq!(forged.status, 403, "no login without the form's CSRF token");
    let anonymous = person.cookie.clone();
    let ok = person
        .post(
            "/login",
            &[
                ("csrf", &form.csrf()),
                ("gebruikersnaam", "wmo-haarlem"),
                ("wachtwoord", PASSWORD),
                ("terug", &format!("/v1/signals/{signal_id}")),
            ],
        )
        .await;
    assert_eq!(ok.status, 303);
    assert_eq!(
        ok.location.as_deref(),
        Some(format!("/v1/signals/{signal_id}").as_str())
    );
    assert_ne!(person.cookie, anonymous, "a login starts a new session");

    // the entitled contact sees the child, and exactly that read is audited first
    assert!(audits(&env).is_empty());
    let page = person.get(&dataref).await;
    assert_eq!(page.status, 200, "{}", page.body);
    for shown in [
        "Testvoornaam Testachternaam",
        bsn.as_str(),
        "12 juli 2008",
        "Warme overdracht 18-/18+",
        "Wijkteam Haarlem",
        "jt@haarlem.example",
        "Jeugdhulp toegewezen (toewijzing T1, productcategorie 45)",
        "Bevestig dat u de overdracht hebt ontvangen",
    ] {
        assert!(page.body.contains(shown), "the page shows {shown:?}");
    }
    let a = audits(&env);
    assert_eq!(a.len(), 1, "one read, one record");
    assert_eq!(a[0].kind, EventType::ChildViewed);
    assert_eq!(a[0].actor, "wmo-haarlem");
    assert_eq!(a[0].role.as_deref(), Some("volwassenen"));
    assert_eq!(a[0].organisation.as_deref(), Some("gemeente:0392"));
    assert_eq!(a[0].signal_id.as_deref(), Some(signal_id.as_str()));
    assert_eq!(a[0].categories, ["identity", "jeugdhulp"]);
    assert!(a[0].purpose.is_some() && a[0].legal_ground.is_some());
    assert_eq!(a[0].trace_id.as_deref().map(str::len), Some(32));
    let child_key = a[0].child_key.clone();

    // someone of another municipality: 403, nothing of the child, no record of a read
    let mut other = Visitor::new(&env);
    other.login("jeugdteam-amsterdam").await;
    let refused = other.get(&dataref).await;
    assert_eq!(refused.status, 403);
    for hidden in ["Testvoornaam", "Testachternaam", bsn.as_str(), "2008"] {
        assert!(
            !refused.body.contains(hidden),
            "nothing of the child: {hidden}"
        );
    }
    assert_eq!(audits(&env).len(), 1, "a refused read is no read");

    // a system: JSON with the contact token (audited too); without a token 401
    let http = reqwest::Client::new();
    let r = http
        .get(&dataref)
        .header(ACCEPT, "application/json")
        .bearer_auth(VW_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let j: serde_json::Value = r.json().await.unwrap();
    assert_eq!(j["child"]["bsn"], bsn.as_str());
    assert_eq!(j["rule"], "R3b");
    assert_eq!(j["state"], "open");
    assert_eq!(j["actions"], serde_json::json!(["acknowledge", "cancel"]));
    assert_eq!(audits(&env).len(), 2);
    let r = http
        .get(&dataref)
        .header(ACCEPT, "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(
        r.headers()["content-type"].to_str().unwrap(),
        "application/problem+json"
    );

    // the same system lists what is addressed to its roles: the task, no child data; filters
    // narrow it, and every wrong filter is named
    let list = |q: &'static str| {
        let (http, url) = (http.clone(), format!("{}/v1/signals{q}", env.monitor_url()));
        async move {
            let r = http.get(url).bearer_auth(VW_TOKEN).send().await.unwrap();
            let status = r.status().as_u16();
            let text = r.text().await.unwrap();
            (status, text)
        }
    };
    let (status, text) = list("").await;
    assert_eq!(status, 200, "{text}");
    let listed: serde_json::Value = serde_json::from_str(&text).unwrap();
    let rows = listed["signals"].as_array().unwrap();
    let row = rows
        .iter()
        .find(|r| r["signalId"] == signal_id.as_str())
        .expect("the task is in the Wmo desk's list");
    assert_eq!(row["rule"], "R3b");
    assert_eq!(row["state"], "open");
    assert_eq!(row["yourRoles"], serde_json::json!(["volwassenen"]));
    assert_eq!(row["dataref"], dataref.as_str());
    assert_eq!(listed["total"], rows.len());
    for hidden in ["Testvoornaam", "Testachternaam", bsn.as_str(), "2008"] {
        assert!(
            !text.contains(hidden),
            "no child data in the list: {hidden}"
        );
    }
    let (_, text) = list("?rule=R3a").await;
    assert!(
        !text.contains(signal_id.as_str()),
        "another rule is filtered out"
    );
    let (_, text) = list("?status=closed").await;
    assert!(!text.contains(signal_id.as_str()), "the task is not closed");
    let (_, text) = list("?dueAfter=2026-01-01&dueBefore=2027-12-31&municipality=0392").await;
    assert!(text.contains(signal_id.as_str()), "{text}");
    let (status, text) = list("?status=half&dueBefore=morgen&page=0").await;
    assert_eq!(status, 400);
    let problem: serde_json::Value = serde_json::from_str(&text).unwrap();
    let fields: Vec<&str> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["status", "dueBefore", "page"]);
    let r = http
        .get(format!("{}/v1/signals", env.monitor_url()))
        .header(ACCEPT, "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401, "no token, no list");

    // each recipient's links are their own; the sender's acknowledge does not fit the task
    let ack = vw["data"]["actions"]["acknowledge"]
        .as_str()
        .unwrap()
        .to_owned();
    let jt_ack = jt["data"]["actions"]["acknowledge"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_ne!(ack, jt_ack);
    let mut mail_reader = Visitor::new(&env);
    let c = mail_reader.get(&jt_ack).await;
    assert_eq!(c.status, 200, "{}", c.body);
    let t = jt_ack.split_once("?t=").unwrap().1.to_owned();
    let refused = mail_reader
        .post(
            &format!("/v1/signals/{signal_id}/acknowledge"),
            &[("t", &t), ("csrf", &c.csrf())],
        )
        .await;
    assert_eq!(refused.status, 409, "{}", refused.body);
    assert!(refused.body.contains("Alleen de ontvangende partij"));
    assert!(responses(&env).is_empty());

    // the acknowledge link: a confirmation page without the child; a GET changes nothing
    let confirm = mail_reader.get(&ack).await;
    assert_eq!(confirm.status, 200, "{}", confirm.body);
    assert!(confirm.body.contains("Loket Wmo Haarlem"));
    for hidden in ["Testvoornaam", bsn.as_str(), "T1"] {
        assert!(!confirm.body.contains(hidden), "no child data: {hidden}");
    }
    assert!(responses(&env).is_empty(), "a GET answers nothing");
    let token = ack.split_once("?t=").unwrap().1.to_owned();
    let path = format!("/v1/signals/{signal_id}/acknowledge");
    let no_csrf = mail_reader.post(&path, &[("t", &token)]).await;
    assert_eq!(no_csrf.status, 403, "a form without its CSRF token");
    assert!(responses(&env).is_empty());
    let done = mail_reader
        .post(&path, &[("t", &token), ("csrf", &confirm.csrf())])
        .await;
    assert_eq!(done.status, 200, "{}", done.body);
    assert!(done.body.contains("Vastgelegd"));
    let logged = responses(&env);
    assert_eq!(logged.len(), 1);
    assert_eq!(logged[0].kind, EventType::HandoffAcknowledged);
    assert_eq!(logged[0].contact, "wmo-haarlem");
    assert_eq!(logged[0].child_key, child_key);
    // the same link again: used, nothing written
    let again = mail_reader.get(&ack).await;
    assert_eq!(again.status, 409);
    assert!(again.body.contains("al gebruikt"));
    let again = mail_reader
        .post(&path, &[("t", &token), ("csrf", &confirm.csrf())])
        .await;
    assert_eq!(again.status, 409);
    assert_eq!(responses(&env).len(), 1);

    // forged and expired links get a Dutch page and change nothing
    let links = Links::new(LINK_SECRET.as_bytes());
    let mut forged_token = token.clone();
    forged_token.replace_range(10..12, "xx");
    let f = mail_reader.get(&format!("{path}?t={forged_token}")).await;
    assert_eq!(f.status, 403);
    assert!(f.body.contains("niet geldig"));
    let other_secret = Links::new(b"not-the-regions-secret-0123456789abcdef").token(&Grant {
        signal_id: signal_id.clone(),
        contact: "jeugdteam-haarlem".into(),
        action: Action::Complete,
        expires: "2100-01-01T00:00:00Z".parse().unwrap(),
    });
    let f = mail_reader
        .get(&format!(
            "/v1/signals/{signal_id}/complete?t={other_secret}"
        ))
        .await;
    assert_eq!(f.status, 403);
    let expired = links.token(&Grant {
        signal_id: signal_id.clone(),
        contact: "jeugdteam-haarlem".into(),
        action: Action::Complete,
        expires: "2020-01-01T00:00:00Z".parse().unwrap(),
    });
    let e = mail_reader
        .get(&format!("/v1/signals/{signal_id}/complete?t={expired}"))
        .await;
    assert_eq!(e.status, 410);
    assert!(e.body.contains("verlopen"));
    assert_eq!(responses(&env).len(), 1);

    // the receiver's complete link before the sender: the receiving side confirms
    let vw_complete = vw["data"]["actions"]["complete"]
        .as_str()
        .unwrap()
        .to_owned();
    let c = mail_reader.get(&vw_complete).await;
    assert_eq!(c.status, 200);
    let t = vw_complete.split_once("?t=").unwrap().1.to_owned();
    let c = mail_reader
        .post(
            &format!("/v1/signals/{signal_id}/complete"),
            &[("t", &t), ("csrf", &c.csrf())],
        )
        .await;
    assert_eq!(c.status, 200, "{}", c.body);

    // the sender, logged in, has the button on the signal page and in the inbox; it
    // completes from the inbox and lands there again
    let mut sender = Visitor::new(&env);
    sender.login("jeugdteam-haarlem").await;
    let page = sender.get(&dataref).await;
    assert!(page.body.contains("Overdracht afgerond"), "the button");
    let csrf = page.csrf();
    let inbox = sender.get("/inbox").await;
    let action = format!(r#"action="/v1/signals/{signal_id}/complete""#);
    assert!(inbox.body.contains(&action), "the inbox's button");
    let bad = sender
        .post(
            &format!("/v1/signals/{signal_id}/complete"),
            &[("csrf", "guessed")],
        )
        .await;
    assert_eq!(bad.status, 403);
    assert_eq!(responses(&env).len(), 2);
    let done = sender
        .post(
            &format!("/v1/signals/{signal_id}/complete"),
            &[("csrf", &csrf), ("terug", "/inbox")],
        )
        .await;
    assert_eq!(done.status, 303);
    assert_eq!(done.location.as_deref(), Some("/inbox"));
    assert_eq!(responses(&env).len(), 3);
    let page = sender.get(&dataref).await;
    assert!(page.body.contains("Afgerond"), "{}", page.body);
    assert!(page.body.contains("Er is niets meer te doen."));
    // the history lists each step with who
    for line in [
        "Ontvangst bevestigd",
        "Overdrachtsgesprek bevestigd",
        "Loket Wmo Haarlem",
        "Wijkteam Haarlem",
    ] {
        assert!(page.body.contains(line), "history: {line}");
    }
    // an answer that no longer fits: 409 and nothing written
    let late = sender
        .post(
            &format!("/v1/signals/{signal_id}/cancel"),
            &[("csrf", &csrf), ("reden", "verhuisd")],
        )
        .await;
    assert_eq!(late.status, 409, "{}", late.body);
    assert_eq!(responses(&env).len(), 3);

    // the inbox: open has none left for the sender's role; the closed filter shows it
    let inbox = sender.get("/inbox").await;
    assert_eq!(inbox.status, 200);
    assert!(inbox.body.contains("jeugdteam bij Gemeente Haarlem"));
    let link = format!(r#"href="/v1/signals/{signal_id}""#);
    assert!(!inbox.body.contains(&link), "a completed task is not open");
    let closed = sender.get("/inbox?gesloten=1").await;
    assert!(closed.body.contains(&link));
    assert!(closed.body.contains("Afgerond"));
    for hidden in ["Testvoornaam", bsn.as_str()] {
        assert!(!closed.body.contains(hidden), "the inbox shows no child");
    }

    // logout ends the session
    let csrf = closed.csrf();
    let out = sender.post("/logout", &[("csrf", &csrf)]).await;
    assert_eq!(out.status, 200);
    let after = sender.get("/inbox").await;
    assert_eq!(after.status, 303, "logged out");

    // every read of the child was recorded: wmo-haarlem's page and its system's JSON, the two
    // pages jeugdteam-haarlem saw, and none for the refused contact
    let reads = audits(&env);
    assert!(reads.iter().all(|a| a.child_key == child_key));
    assert!(reads.iter().all(|a| a.actor != "jeugdteam-amsterdam"));
    assert_eq!(reads.iter().filter(|a| a.actor == "wmo-haarlem").count(), 2);
    assert_eq!(
        reads
            .iter()
            .filter(|a| a.actor == "jeugdteam-haarlem")
            .count(),
        2
    );

    // a privacy officer asks who looked at this child: the records, never the child's name
    let out = env.schakel(&["audit", "list", "--child", &bsn]);
    let listed = String::from_utf8_lossy(&out.stdout);
    assert_eq!(listed.lines().count(), 1 + reads.len(), "{listed}");
    assert!(listed.contains("wmo-haarlem\tvolwassenen\tgemeente:0392"));
    assert!(listed.contains("audit.child-viewed"));
    assert!(listed.contains(child_key.as_str()));
    for hidden in [bsn.as_str(), "Testvoornaam", "Testachternaam"] {
        assert!(!listed.contains(hidden), "no {hidden} in the list");
    }
    let out = env.schakel(&[
        "audit",
        "list",
        "--actor",
        "wmo-haarlem",
        "--to",
        "2020-01-01",
    ]);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).lines().count(),
        1,
        "header only"
    );
}

/// When the audit record of a read cannot be written (the broker is away), the page says so
/// and shows nothing of the child.
#[tokio::test(flavor = "multi_thread")]
async fn without_an_audit_record_the_child_is_not_shown() {
    let mut env = Region::new().own_broker().config(TOKENS).start();
    let rx = Receiver::start(Duration::ZERO).await;
    env.apply_directory(&directory(&rx));
    env.add_account("wmo-haarlem", PASSWORD);
    let _services = env.spawn_services();
    let _monitor = env.spawn_monitor();
    let bsn = bsns(1, 212).remove(0);
    let (s, b) = env
        .post_batch(
            JEUGDHULP_TOKEN,
            &serde_json::json!([assignment_event("m-2", &bsn, "2008-07-12", "T2")]),
        )
        .await;
    assert_eq!(s, 202, "{b}");
    env.await_rules_read(Topic::JEUGDHULP, 1).await;
    env.tick_days(date(2026, 1, 11), date(2026, 1, 12));
    let r3b = || {
        rx.received()
            .into_iter()
            .find(|r| r.contact == "wmo-haarlem" && r.body["data"]["rule"] == "R3b")
    };
    assert!(
        eventually(Duration::from_secs(60), || r3b().is_some()).await,
        "the task reaches the Wmo desk"
    );
    let dataref = r3b().unwrap().body["dataref"].as_str().unwrap().to_owned();
    Env::await_ready(env.monitor_port, Duration::from_secs(60)).await;
    let mut person = Visitor::new(&env);
    person.login("wmo-haarlem").await;
    assert_eq!(
        person.get(&dataref).await.status,
        200,
        "shown while the log answers"
    );

    env.kill_broker();
    let page = person.get(&dataref).await;
    assert_eq!(page.status, 503, "{}", page.body);
    assert!(page.body.contains("kan nu niet worden vastgelegd"));
    for hidden in ["Testvoornaam", "Testachternaam", bsn.as_str()] {
        assert!(
            !page.body.contains(hidden),
            "nothing of the child: {hidden}"
        );
    }
    env.restart_broker();
}
