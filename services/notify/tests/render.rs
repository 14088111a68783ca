//! Rendering tests: every notification a contact can get, as webhook data and as e-mail, is
//! in Dutch, carries the signal link (and the action links of a task) and holds nothing of the
//! child's identity: no BSN, name, ChildKey or sealed record.

use std::collections::BTreeMap;

use jiff::civil::date;
use schakel_core::domain::catalogue::EventType;
use schakel_core::domain::directory::Directory;
use schakel_core::domain::events::{DirectoryEntry, DirectoryItem, SignalEvent, Webhook};
use schakel_core::domain::ids::{Bsn, ChildId, Pseudonymizer};
use schakel_core::domain::links::{Action, Links};
use schakel_core::domain::roles::RULES;
use schakel_core::vault::{Identity, Vault};
use schakel_notify::email::{dutch_date, render, render_digest};
use schakel_notify::message::{build, Build};

const STEPS: &[&str] = &[
    "opened",
    "reminded",
    "overdue",
    "escalated",
    "resolved",
    "acknowledged",
    "completed",
    "cancelled",
];

fn contact(id: &str, name: &str, inst: &str, role: &str, email: &str) -> DirectoryEntry {
    DirectoryEntry {
        entry: DirectoryItem::Contact {
            id: id.into(),
            name: name.into(),
            organisation: Some("Gemeente Haarlem".into()),
            institution: inst.into(),
            roles: vec![role.into()],
            email: Some(email.into()),
            webhook: Some(Webhook {
                url: "https://example.test/hook".into(),
                secret: "whsec_MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3".into(),
            }),
            preferences: None,
        },
    }
}

#[test]
fn every_rule_and_step_renders_in_dutch_with_its_links_and_without_the_childs_identity() {
    let links = Links::new(b"a-link-secret-of-at-least-32-characters");
    // the child, sealed in a vault as ingest would
    let bsn = "999990007";
    let (given, family) = ("Geheimvoornaam", "Geheimachternaam");
    let pseudo = Pseudonymizer::new(b"render-test-secret-0123456789");
    let child_id = ChildId::Bsn(Bsn::parse(bsn).unwrap());
    let child_key = pseudo.child_key(&child_id);
    let dir = tempdir();
    let vault = Vault::open(&dir, &"ab".repeat(32)).unwrap();
    let sealed = vault
        .seal(
            &child_key,
            &Identity::new(&child_id, Some(given.into()), Some(family.into())),
            "test",
            jiff::Timestamp::now(),
        )
        .unwrap();
    let forbidden = [
        bsn,
        given,
        family,
        child_key.as_str(),
        sealed.key_id.as_str(),
        sealed.ciphertext.as_str(),
    ];

    let mut directory = Directory::default();
    for e in [
        contact(
            "jt",
            "Team Jeugd & Gezin <Noord>",
            "gemeente:0392",
            "jeugdteam",
            "jeugd@haarlem.example",
        ),
        contact(
            "vw",
            "Volwassenenzorg",
            "gemeente:0392",
            "volwassenen",
            "vw@haarlem.example",
        ),
    ] {
        directory.apply(&e.key(), Some(e.clone()));
    }
    let mut rendered = 0;
    let mut notes = Vec::new();
    for rule in RULES {
        for step in STEPS {
            for task in [false, true] {
                let signal = SignalEvent {
                    id: format!("sig-{rule}-{step}"),
                    kind: EventType::parse(&format!("nl.schakel.signal.{step}.v1"))
                        .expect("a signal step of the catalogue"),
                    step: (*step).into(),
                    signal_id: format!("{rule}-0123456789abcdef"),
                    rule: (*rule).into(),
                    child_key: child_key.clone(),
                    institution: Some("gemeente:0392".into()),
                    municipality: Some("0392".into()),
                    due_date: Some(date(2026, 7, 12)),
                    recipients: vec!["jeugdteam".into(), "volwassenen".into()],
                    task,
                    fired_on: date(2026, 1, 12),
                    birth_date_uncertain: task,
                    facts: vec!["fact-1".into()],
                    policy: BTreeMap::new(),
                    routes: BTreeMap::new(),
                    residence_derived_from: None,
                };
                let (recipients, _) = directory.recipients(&signal);
                let everyone: Vec<_> = recipients.iter().map(|(c, _)| *c).collect();
                let (me, roles) = &recipients[1];
                assert_eq!(me.id, "vw");
                let note = build(Build {
                    signal: &signal,
                    recipient: me,
                    roles,
                    others: &everyone,
                    directory: &directory,
                    delivery_id: "d0123456789abcdef",
                    oin: "00000001234567890000",
                    api_base_url: "https://schakel.haarlem.example/",
                    links: Some(&links),
                    link_days: 30,
                    now: jiff::Timestamp::now(),
                });
                let link = format!(
                    "https://schakel.haarlem.example/v1/signals/{}",
                    signal.signal_id
                );
                let mail = render(&note, "Regio Zuid-Kennemerland");
                // a task's links carry a token for this contact and action, valid 30 days
                // after the due date
                if let Some(a) = &note.data.actions {
                    let token = a.acknowledge.split_once("?t=").expect("a signed link").1;
                    let g = links
                        .check(
                            token,
                            &signal.signal_id,
                            Action::Acknowledge,
                            jiff::Timestamp::now(),
                        )
                        .expect("a valid token");
                    assert_eq!(g.contact, "vw");
                    assert!(
                        g.expires >= "2026-08-11T00:00:00Z".parse().unwrap(),
                        "30 days after the due date at least"
                    );
                    assert!(
                        g.expires
                            >= jiff::Timestamp::now()
                                .checked_add(jiff::SignedDuration::from_hours(29 * 24))
                                .unwrap(),
                        "and 30 days after it is sent"
                    );
                    assert!(a.complete.contains("/complete?t="));
                }
                let webhook = serde_json::to_string(&note).unwrap();
                let at = format!("{rule} {step} task={task}");

                // Dutch, with what, by when and whom
                assert!(mail.subject.starts_with("[Schakel] "), "{at}");
                for body in [&mail.text, &mail.html] {
                    assert!(
                        body.contains("U ontvangt dit bericht als: volwassenen"),
                        "{at}: {body}"
                    );
                    assert!(body.contains("12 juli 2026"), "{at}: due date in Dutch");
                    assert!(body.contains("Team Jeugd"), "{at}: the other contact");
                    assert!(
                        body.contains("jeugd@haarlem.example"),
                        "{at}: how to reach them"
                    );
                    assert!(body.contains(&link), "{at}: the dataref link");
                    assert!(body.contains("geen naam, BSN of zorginformatie"), "{at}");
                    assert!(!body.contains("{{"), "{at}: every placeholder filled");
                    assert_eq!(
                        body.contains(&format!("{link}/acknowledge"))
                            && body.contains(&format!("{link}/complete")),
                        task,
                        "{at}: action links exactly for a task"
                    );
                    assert_eq!(
                        body.contains("geboortedatum is niet volledig bekend"),
                        task,
                        "{at}: the uncertainty note"
                    );
                }
                assert!(mail.text.contains("Regio Zuid-Kennemerland"), "{at}");
                // HTML escapes what contacts are called
                assert!(mail.text.contains("Team Jeugd & Gezin <Noord>"), "{at}");
                assert!(
                    mail.html.contains("Team Jeugd &amp; Gezin &lt;Noord&gt;"),
                    "{at}"
                );
                assert!(!mail.html.contains("<Noord>"), "{at}: escaped");
                assert!(
                    mail.html.starts_with("<!DOCTYPE html>") && mail.html.contains("lang=\"nl\"")
                );
                // nothing of the child's identity anywhere
                for part in [&mail.subject, &mail.text, &mail.html, &webhook] {
                    for f in forbidden {
                        assert!(!part.contains(f), "{at}: {f} must not be in a notification");
                    }
                    assert!(!part.contains("fact-1"), "{at}: no fact ids");
                }
                notes.push((note, link));
                rendered += 1;
            }
        }
    }
    assert_eq!(rendered, RULES.len() * STEPS.len() * 2);

    // the digest template, over every one of them
    let all: Vec<_> = notes.iter().map(|(n, _)| n).collect();
    let digest = render_digest("jeugdteam", &all, "digest-0123", "Regio Zuid-Kennemerland");
    assert_eq!(
        digest.subject,
        format!("[Schakel] Dagelijks overzicht: {} signalen", all.len())
    );
    for body in [&digest.text, &digest.html] {
        assert!(body.contains("Dagelijks overzicht van Schakel"));
        assert!(body.contains("Escalaties en verlopen termijnen ontvangt u altijd direct"));
        assert!(body.contains("geen naam, BSN of zorginformatie"));
        assert!(!body.contains("{{"));
        for (_, link) in &notes {
            assert!(body.contains(link.as_str()), "every signal's link");
        }
        for f in forbidden {
            assert!(!body.contains(f), "{f} must not be in a digest");
        }
    }
    assert_eq!(digest.html.matches("<li>").count(), all.len());
    let one = render_digest("jeugdteam", &all[..1], "d", "R");
    assert_eq!(one.subject, "[Schakel] Dagelijks overzicht: 1 signaal");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn due_dates_read_as_dutch_dates() {
    assert_eq!(dutch_date("2026-07-12"), "12 juli 2026");
    assert_eq!(dutch_date("2027-03-01"), "1 maart 2027");
    assert_eq!(dutch_date("not a date"), "not a date");
}

fn tempdir() -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("schakel-render-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}
