//! The contact person's way, in a real headless browser (Debian's Chromium through
//! chromedriver): the e-mail arrives at the test SMTP server, its acknowledge link is opened
//! and confirmed, the user logs in through a real OpenID provider (oidc-provider on Node.js,
//! code flow with PKCE), opens the signal and sees the child (one audit record for exactly that
//! read), completes the task, and the inbox lists it as completed with both steps in the
//! signal's history. axe-core checks every page against WCAG 2.0, 2.1 and 2.2 A and AA; the
//! same way is walked once with the mouse and once by keyboard only. Screenshots of every page
//! go to `.run/screenshots/monitor/` for review.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use jiff::civil::date;
use schakel_core::domain::catalogue::{EventType, Topic};
use schakel_core::domain::events::AuditEvent;
use schakel_e2e::browser::{describe, Browser, Key};
use schakel_e2e::oidc::OidcProvider;
use schakel_e2e::smtp::SmtpServer;
use schakel_e2e::{
    assignment_event, bsns, eventually, eventually_async, free_port, Env, Region, JEUGDHULP_TOKEN,
};
use serde_json::json;

const JT_TOKEN: &str = "test-contact-jeugdteam-haarlem";

const TOKENS: &str = r#"
[[ingest.tokens]]
name = "jeugdteam-haarlem"
token = "test-contact-jeugdteam-haarlem"
contact = "jeugdteam-haarlem"
"#;

const DIRECTORY: &str = r#"
[[institution]]
id = "gemeente:0392"
name = "Gemeente Haarlem"

[[contact]]
id = "jeugdteam-haarlem"
name = "Wijkteam Haarlem"
institution = "gemeente:0392"
roles = ["jeugdteam"]
email = "jt@haarlem.example"

[[contact]]
id = "wmo-haarlem"
name = "Loket Wmo Haarlem"
institution = "gemeente:0392"
roles = ["volwassenen"]
email = "wmo@haarlem.example"
"#;

/// The repository's root.
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// The NL Design System styles and axe-core, fetched once per machine by the project's script.
fn assets() -> PathBuf {
    let out = Command::new(root().join("infra/monitor/assets.sh"))
        .output()
        .expect("infra/monitor/assets.sh");
    assert!(
        out.status.success(),
        "assets.sh: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    PathBuf::from(String::from_utf8(out.stdout).unwrap().trim())
}

/// How the walk moves: by pointer (clicks) or by keyboard only (Tab and Enter).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Walk {
    Mouse,
    Keyboard,
}

struct Walker<'a> {
    b: &'a Browser,
    walk: Walk,
    axe: &'a str,
    shots: PathBuf,
    n: usize,
}

impl Walker<'_> {
    fn name(&self) -> &'static str {
        match self.walk {
            Walk::Mouse => "muis",
            Walk::Keyboard => "toetsenbord",
        }
    }

    /// Checks the page with axe-core and saves a screenshot.
    async fn look(&mut self, what: &str) {
        let v = self.b.axe(self.axe).await;
        assert!(
            v.is_empty(),
            "{} ({}): WCAG violations on {}: {}",
            what,
            self.name(),
            self.b.url().await,
            describe(&v)
        );
        self.n += 1;
        let file = self
            .shots
            .join(format!("{}-{:02}-{what}.png", self.name(), self.n));
        self.b.screenshot(&file).await;
    }

    /// Activates the control `css` (a link or button): a click, or Tab until it has focus and
    /// Enter. By keyboard, every control must be reachable in the page's tab order.
    async fn activate(&self, css: &str) {
        match self.walk {
            Walk::Mouse => self.b.find(css).await.click().await,
            Walk::Keyboard => {
                let target = self
                    .b
                    .execute(
                        "document.querySelectorAll('[data-target]').forEach(x => delete x.dataset.target); const e = document.querySelector(arguments[0]); e.dataset.target = '1'; return true;",
                        json!([css]),
                    )
                    .await;
                assert_eq!(target, json!(true), "{css} on the page");
                for _ in 0..60 {
                    self.b.keys(&[Key::Tab]).await;
                    let on = self
                        .b
                        .execute(
                            "return document.activeElement && document.activeElement.dataset.target === '1';",
                            json!([]),
                        )
                        .await;
                    if on == json!(true) {
                        self.b.keys(&[Key::Enter]).await;
                        return;
                    }
                }
                panic!("{css} cannot be reached with Tab on {}", self.b.url().await);
            }
        }
    }

    /// Types into a field: focused by Tab or by a click.
    async fn type_into(&self, css: &str, text: &str) {
        if self.walk == Walk::Mouse {
            self.b.find(css).await.click().await;
        }
        self.b.find(css).await.send_keys(text).await;
    }
}

/// Waits until the page the browser shows is the one `what` describes (a navigation after a
/// click or Enter ends when the new page is there, not when the old one is still shown).
async fn arrive(b: &Browser, what: &str, done: impl Fn(&str, &str) -> bool) {
    let arrived = eventually_async(
        Duration::from_secs(20),
        Duration::from_millis(100),
        || async { done(&b.url().await, &b.source().await) },
    )
    .await;
    assert!(arrived, "{what}: still at {}", b.url().await);
}

fn child_reads(env: &Env, child: &str) -> Vec<AuditEvent> {
    let reg = schakel_core::log::schemas::registry();
    env.read(Topic::AUDIT)
        .iter()
        .filter_map(|r| {
            reg.decode::<AuditEvent>(Topic::AUDIT, r.value.as_deref()?)
                .ok()
        })
        .filter(|a| a.kind == EventType::ChildViewed && a.child_key.as_str() == child)
        .collect()
}

/// The acknowledge link and the signal page of the mail to the Wmo desk about `bsn`'s task
/// (found by its signal id in the hub).
fn mail_links(smtp: &SmtpServer, signal_id: &str) -> Option<(String, String)> {
    smtp.mails().into_iter().find_map(|m| {
        if !m.to.iter().any(|t| t.contains("wmo@haarlem.example")) || !m.text.contains(signal_id) {
            return None;
        }
        let links: Vec<&str> = m
            .text
            .split_whitespace()
            .filter(|w| w.starts_with("http://127.0.0.1:"))
            .collect();
        let ack = links.iter().find(|l| l.contains("/acknowledge?t="))?;
        let page = links.iter().find(|l| l.ends_with(signal_id))?;
        Some((ack.to_string(), page.to_string()))
    })
}

#[allow(clippy::too_many_arguments)]
async fn walk_one(
    env: &Env,
    smtp: &SmtpServer,
    axe: &str,
    walk: Walk,
    signal_id: &str,
    child: &str,
    bsn: &str,
) {
    let shots = root().join(".run/screenshots/monitor");
    std::fs::create_dir_all(&shots).unwrap();
    let b = Browser::start(&env.dir).await;
    let mut w = Walker {
        b: &b,
        walk,
        axe,
        shots,
        n: 0,
    };
    let (ack, page) = mail_links(smtp, signal_id).expect("the mail to the Wmo desk");

    // the acknowledge link from the e-mail: what is confirmed, no child
    b.goto(&ack).await;
    w.look("bevestigen").await;
    let src = b.source().await;
    assert!(src.contains("Ontvangst bevestigen") && !src.contains(bsn));
    w.activate("#bevestigen").await;
    arrive(&b, "the answer is recorded", |_, src| {
        src.contains("Vastgelegd")
    })
    .await;
    assert!(b.source().await.contains("Vastgelegd"), "{}", b.url().await);
    w.look("vastgelegd").await;

    // the sender's system confirms the conversation with its contact token
    let r = reqwest::Client::new()
        .post(format!(
            "{}/v1/signals/{signal_id}/complete",
            env.monitor_url()
        ))
        .bearer_auth(JT_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202, "{}", r.text().await.unwrap());

    // the signal page: log in through the organisation's identity provider first
    b.goto(&page).await;
    assert!(b.url().await.contains("/login"), "login first");
    w.look("inloggen").await;
    w.activate("#inloggen-organisatie").await;
    b.wait_for("#username", Duration::from_secs(20)).await;
    w.look("identiteitsvoorziening").await;
    w.type_into("#username", "wmo").await;
    if walk == Walk::Keyboard {
        b.keys(&[Key::Tab]).await;
        assert_eq!(
            b.active_element_attr("id").await.as_deref(),
            Some("password")
        );
    }
    w.type_into("#password", "wmo-wachtwoord-123").await;
    w.activate("#login-submit").await;
    arrive(&b, "back at the signal", |url, _| {
        url.ends_with(&format!("/v1/signals/{signal_id}"))
    })
    .await;
    assert!(
        b.url().await.ends_with(&format!("/v1/signals/{signal_id}")),
        "back at the signal: {}",
        b.url().await
    );
    let src = b.source().await;
    for shown in [
        "Testvoornaam Testachternaam",
        bsn,
        "Warme overdracht 18-/18+",
    ] {
        assert!(src.contains(shown), "the signal page shows {shown:?}");
    }
    w.look("signaal").await;
    let reads = child_reads(env, child);
    assert_eq!(reads.len(), 1, "one audit record for exactly that read");
    assert_eq!(reads[0].actor, "wmo-haarlem");
    assert_eq!(reads[0].signal_id.as_deref(), Some(signal_id));

    // complete the task with the button
    w.activate(&format!(
        "form[action=\"/v1/signals/{signal_id}/complete\"] button"
    ))
    .await;
    arrive(&b, "the task completed", |_, src| {
        src.contains("Er is niets meer te doen.")
    })
    .await;
    let src = b.source().await;
    assert!(src.contains("Afgerond") && src.contains("Er is niets meer te doen."));
    for step in ["Ontvangst bevestigd", "Overdrachtsgesprek bevestigd"] {
        assert!(src.contains(step), "the history lists {step:?}");
    }
    w.look("afgerond").await;

    // the inbox: the task is among the closed ones
    w.activate("a[href=\"/inbox\"]").await;
    arrive(&b, "the inbox", |url, _| url.ends_with("/inbox")).await;
    w.look("inbox").await;
    w.activate("a[href=\"/inbox?gesloten=1\"]").await;
    arrive(&b, "the closed signals", |url, _| {
        url.ends_with("/inbox?gesloten=1")
    })
    .await;
    let src = b.source().await;
    assert!(src.contains(&format!("href=\"/v1/signals/{signal_id}\"")));
    assert!(src.contains("Afgerond"));
    assert!(!src.contains(bsn), "the inbox shows no child");
    w.look("inbox-afgesloten").await;
    b.quit().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn from_the_email_to_a_completed_task_by_mouse_and_by_keyboard() {
    let assets = assets();
    let axe = std::fs::read_to_string(assets.join("axe/axe.min.js")).expect("axe-core");
    let port = free_port();
    let op_dir = std::env::temp_dir().join(format!("schakel-op-{}", std::process::id()));
    std::fs::create_dir_all(&op_dir).unwrap();
    let op = OidcProvider::start(
        &op_dir,
        json!([{"client_id": "schakel-monitor", "client_secret": "monitor-test-secret",
                "token_endpoint_auth_method": "client_secret_basic",
                "redirect_uris": [format!("http://127.0.0.1:{port}/auth/callback")],
                "response_types": ["code"], "grant_types": ["authorization_code"]}]),
        json!([{"login": "wmo", "password": "wmo-wachtwoord-123", "sub": "u-wmo",
                "email": "wmo@haarlem.example", "name": "Loket Wmo"}]),
    );
    let smtp_port = SmtpServer::port();
    let env = Region::new()
        .monitor_port(port)
        .monitor(&format!(
            "assets_dir = \"{}\"\n[monitor.oidc]\nissuer = \"{}\"\nclient_id = \"schakel-monitor\"\nclient_secret = \"monitor-test-secret\"",
            assets.join("nlds").display(),
            op.issuer()
        ))
        .config(&format!(
            "[notify.email]\nhost = \"127.0.0.1\"\nport = {smtp_port}\ntls = \"none\"\nfrom = \"Schakel Test <noreply@schakel.test>\"\n{TOKENS}"
        ))
        .directory(DIRECTORY)
        .start();
    let smtp = SmtpServer::start(&env.dir, smtp_port);
    let _services = env.spawn_services();
    let _monitor = env.spawn_monitor();

    // two youths with an R3b handoff: one walked with the mouse, one by keyboard
    let children = bsns(2, 223);
    let events: Vec<_> = children
        .iter()
        .enumerate()
        .map(|(i, bsn)| assignment_event(&format!("b-{i}"), bsn, "2008-07-12", &format!("T{i}")))
        .collect();
    let (s, body) = env.post_batch(JEUGDHULP_TOKEN, &json!(events)).await;
    assert_eq!(s, 202, "{body}");
    env.await_rules_read(Topic::JEUGDHULP, 2).await;
    env.tick_days(date(2026, 1, 11), date(2026, 1, 12));
    let r3b = || {
        env.signals()
            .into_iter()
            .filter(|s| s.rule == "R3b" && s.step == "opened")
            .collect::<Vec<_>>()
    };
    assert!(
        eventually(Duration::from_secs(60), || r3b().len() == 2).await,
        "two R3b tasks"
    );
    let tasks = r3b();
    assert!(
        eventually(Duration::from_secs(60), || tasks
            .iter()
            .all(|t| mail_links(&smtp, &t.signal_id).is_some()))
        .await,
        "the mails with their links"
    );
    Env::await_ready(env.monitor_port, Duration::from_secs(60)).await;
    for (t, walk) in tasks.iter().zip([Walk::Mouse, Walk::Keyboard]) {
        let bsn = children
            .iter()
            .find(|b| {
                // the task's child is the one whose identity the vault holds under its key
                let key = schakel_core::vault::pseudonymizer(&env.config)
                    .unwrap()
                    .child_key(&schakel_core::domain::ids::ChildId::Bsn(
                        schakel_core::domain::ids::Bsn::parse(b).unwrap(),
                    ));
                key == t.child_key
            })
            .expect("the task's child");
        walk_one(
            &env,
            &smtp,
            &axe,
            walk,
            &t.signal_id,
            t.child_key.as_str(),
            bsn,
        )
        .await;
    }
    drop(op);
    let _ = std::fs::remove_dir_all(&op_dir);
}

/// The client authenticates with a signed assertion (`private_key_jwt`, ES256) instead of a
/// secret; a user whom the directory does not know is refused after the provider's login.
#[tokio::test(flavor = "multi_thread")]
async fn a_login_with_a_signed_client_assertion_and_a_stranger_refused() {
    let port = free_port();
    let op_dir = std::env::temp_dir().join(format!("schakel-op-pk-{}", std::process::id()));
    std::fs::create_dir_all(&op_dir).unwrap();
    let key = rcgen::KeyPair::generate().expect("an EC P-256 key");
    let pem = op_dir.join("monitor-key.pem");
    std::fs::write(&pem, key.serialize_pem()).unwrap();
    let raw = key.public_key_raw();
    let b64 = |b: &[u8]| {
        use base64::Engine;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
    };
    let jwk = json!({"kty": "EC", "crv": "P-256", "alg": "ES256", "use": "sig",
                     "x": b64(&raw[1..33]), "y": b64(&raw[33..65])});
    let op = OidcProvider::start(
        &op_dir,
        json!([{"client_id": "schakel-monitor",
                "token_endpoint_auth_method": "private_key_jwt",
                "token_endpoint_auth_signing_alg": "ES256",
                "jwks": {"keys": [jwk]},
                "redirect_uris": [format!("http://127.0.0.1:{port}/auth/callback")],
                "response_types": ["code"], "grant_types": ["authorization_code"]}]),
        json!([{"login": "jt", "password": "jt-wachtwoord-123", "sub": "u-jt",
                "email": "JT@haarlem.example", "name": "Wijkteam"},
               {"login": "vreemd", "password": "vreemd-wachtwoord-1", "sub": "u-x",
                "email": "iemand@elders.example", "name": "Iemand"}]),
    );
    let env = Region::new()
        .monitor_port(port)
        .monitor(&format!(
            "[monitor.oidc]\nissuer = \"{}\"\nclient_id = \"schakel-monitor\"\nprivate_key_file = \"{}\"",
            op.issuer(),
            pem.display()
        ))
        .directory(DIRECTORY)
        .start();
    let _monitor = env.spawn_monitor();
    Env::await_ready(env.monitor_port, Duration::from_secs(60)).await;

    let login = |who: &'static str, pw: &'static str| {
        let env = &env;
        async move {
            let b = Browser::start(&env.dir).await;
            b.goto(&format!("{}/inbox", env.monitor_url())).await;
            b.find("#inloggen-organisatie").await.click().await;
            b.wait_for("#username", Duration::from_secs(20)).await;
            b.find("#username").await.send_keys(who).await;
            b.find("#password").await.send_keys(pw).await;
            b.find("#login-submit").await.click().await;
            arrive(&b, "back from the provider", |url, _| {
                !url.contains("/interaction/")
            })
            .await;
            let out = (b.url().await, b.source().await);
            b.quit().await;
            out
        }
    };
    // the e-mail claim matches the contact's address whatever its case
    let (url, page) = login("jt", "jt-wachtwoord-123").await;
    assert!(url.ends_with("/inbox"), "{url}");
    assert!(page.contains("Ingelogd als Wijkteam Haarlem"), "{page}");
    let (_, page) = login("vreemd", "vreemd-wachtwoord-1").await;
    assert!(
        page.contains("niet als contactpersoon in het adresboek"),
        "{page}"
    );
    assert!(!page.contains("Ingelogd als"));
    drop(op);
    let _ = std::fs::remove_dir_all(&op_dir);
}

impl Walker<'_> {
    /// Tab until `css` has focus (by keyboard), or click it (by mouse).
    async fn focus(&self, css: &str) {
        match self.walk {
            Walk::Mouse => self.b.find(css).await.click().await,
            Walk::Keyboard => {
                self.b
                    .execute(
                        "document.querySelectorAll('[data-target]').forEach(x => delete x.dataset.target); document.querySelector(arguments[0]).dataset.target = '1'; return true;",
                        json!([css]),
                    )
                    .await;
                for _ in 0..80 {
                    self.b.keys(&[Key::Tab]).await;
                    let on = self
                        .b
                        .execute(
                            "return document.activeElement && document.activeElement.dataset.target === '1';",
                            json!([]),
                        )
                        .await;
                    if on == json!(true) {
                        return;
                    }
                }
                panic!("{css} cannot be reached with Tab on {}", self.b.url().await);
            }
        }
    }

    /// Logs in with a local account on the login form the browser shows.
    async fn log_in(&mut self, who: &str) {
        self.focus("#gebruikersnaam").await;
        self.b.find("#gebruikersnaam").await.send_keys(who).await;
        self.focus("#wachtwoord").await;
        self.b
            .find("#wachtwoord")
            .await
            .send_keys("een-lang-testwachtwoord")
            .await;
        self.activate("#inloggen").await;
    }
}

/// The dashboard in Chromium: every page passes axe-core, the filters work by keyboard only,
/// and the leerplicht opens the list behind a figure; screenshots in .run/screenshots/monitor.
#[tokio::test(flavor = "multi_thread")]
async fn the_dashboard_by_keyboard_with_every_page_accessible() {
    let assets = assets();
    let axe = std::fs::read_to_string(assets.join("axe/axe.min.js")).expect("axe-core");
    let reports = std::env::temp_dir().join(format!(
        "schakel-whatif-browser-{}",
        schakel_core::log::trace::random_hex(4)
    ));
    let env = Region::new()
        .monitor(&format!(
            "assets_dir = \"{}\"",
            assets.join("nlds").display()
        ))
        .monitor(&format!("whatif_dir = \"{}\"", reports.display()))
        .directory(schakel_e2e::DASHBOARD_DIRECTORY)
        .start();
    for who in ["leerplicht-haarlem", "beleid-haarlem"] {
        env.add_account(who, "een-lang-testwachtwoord");
    }
    let _ingest = env.spawn_ingest();
    let _monitor = env.spawn_monitor();
    let children = bsns(14, 241);
    let events: Vec<_> = children
        .iter()
        .enumerate()
        .map(|(i, b)| {
            let (residence, since) = if i < 9 {
                ("0392", "2026-01-05")
            } else {
                ("0377", "2025-12-01")
            };
            schakel_e2e::thuiszitter_event(&format!("db-{i}"), i, b, residence, since)
        })
        .collect();
    let (s, body) = env
        .post_batch(schakel_e2e::LEERPLICHT_TOKEN, &json!(events))
        .await;
    assert_eq!(s, 202, "{body}");
    Env::await_ready(env.monitor_port, Duration::from_secs(60)).await;
    let shots = root().join(".run/screenshots/monitor");
    std::fs::create_dir_all(&shots).unwrap();
    let base = env.monitor_url();

    // beleid, by keyboard: the region, then one municipality as known on the peildatum
    let b = Browser::start(&env.dir).await;
    let mut w = Walker {
        b: &b,
        walk: Walk::Keyboard,
        axe: &axe,
        shots: shots.clone(),
        n: 20,
    };
    b.goto(&format!("{base}/dashboard?peildatum=2026-04-01"))
        .await;
    w.log_in("beleid-haarlem").await;
    arrive(&b, "back at the dashboard", |url, _| {
        url.ends_with("/dashboard?peildatum=2026-04-01")
    })
    .await;
    assert!(
        eventually_async(
            Duration::from_secs(30),
            Duration::from_millis(300),
            || async {
                b.goto(&format!("{base}/dashboard?peildatum=2026-04-01"))
                    .await;
                b.source().await.contains("scope=\"row\">0377</th>")
            }
        )
        .await,
        "the figures arrive"
    );
    assert!(b.source().await.contains("op peildatum 1 april 2026"));
    w.look("cijfers-regio").await;
    w.focus("#gemeente").await;
    b.find("#gemeente").await.send_keys("Gemeente 0377").await;
    w.focus("#bekend").await;
    b.find("#bekend").await.send_keys("Zoals").await;
    w.activate("#toon").await;
    arrive(&b, "the filtered figures", |url, _| {
        url.contains("gemeente=0377") && url.contains("bekend=toen")
    })
    .await;
    let src = b.source().await;
    assert!(src.contains("&lt;5") && !src.contains("Testachternaam"));
    w.look("cijfers-gemeente").await;
    // what a later escalation of thuiszitters would do, by keyboard from the menu
    let policy = env.dir.join("escalate-later.toml");
    std::fs::write(&policy, "[policy.thuiszitter]\nescalation_months = 12\n").unwrap();
    let to = jiff::Zoned::now()
        .date()
        .checked_add(jiff::Span::new().months(6))
        .unwrap()
        .to_string();
    env.schakel(&[
        "whatif",
        "--policy",
        policy.to_str().unwrap(),
        "--to",
        &to,
        "--save",
    ]);
    w.activate("a[href=\"/whatif\"]").await;
    arrive(&b, "the what-if report", |url, src| {
        url.ends_with("/whatif") && src.contains("escalate-later.toml")
    })
    .await;
    let src = b.source().await;
    assert!(
        src.contains("Signaalstappen die erbij komen") && src.contains("Escalatie: thuiszitter"),
        "{src}"
    );
    w.look("wat-als").await;
    b.quit().await;
    let _ = std::fs::remove_dir_all(&reports);

    // the leerplicht of Haarlem: exact, and the list behind a figure
    let b = Browser::start(&env.dir).await;
    let mut w = Walker {
        b: &b,
        walk: Walk::Keyboard,
        axe: &axe,
        shots,
        n: 30,
    };
    b.goto(&format!("{base}/dashboard?peildatum=2026-04-01"))
        .await;
    w.log_in("leerplicht-haarlem").await;
    // (the login page's own URL names the dashboard as where to go back to)
    arrive(&b, "the dashboard, exact", |url, src| {
        url.ends_with("/dashboard?peildatum=2026-04-01") && src.contains("Exacte aantallen")
    })
    .await;
    w.look("cijfers-leerplicht").await;
    w.activate("a[href^=\"/dashboard/lijst\"]").await;
    arrive(&b, "the list", |url, _| url.contains("/dashboard/lijst")).await;
    let src = b.source().await;
    assert!(src.contains("Testachternaam0") && src.contains(children[0].as_str()));
    w.look("lijst").await;
    // its residents by samenwerkingsverband, by keyboard
    b.goto(&format!("{base}/dashboard?peildatum=2026-04-01"))
        .await;
    w.focus("#rijen").await;
    b.find("#rijen")
        .await
        .send_keys("Samenwerkingsverband")
        .await;
    w.activate("#toon").await;
    arrive(&b, "rows by samenwerkingsverband", |url, _| {
        url.contains("rijen=swv")
    })
    .await;
    assert!(b
        .source()
        .await
        .contains("scope=\"row\">geen samenwerkingsverband bekend</th>"));
    w.look("cijfers-swv").await;
    b.quit().await;
}
