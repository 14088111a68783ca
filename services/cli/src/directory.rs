//! `schakel directory apply|diff`: the directory file and its publication.
//!
//! File format (TOML), documented in docs/directory.md:
//! `[[institution]] id, name` and `[[contact]] id, name, organisation?, institution, roles,
//! email?, webhook = { url, secret }?, channels?, digest_hour?, rules?`.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::Context;
use base64::Engine;
use schakel_core::domain::catalogue::EventType;
use schakel_core::domain::catalogue::Topic;
use schakel_core::domain::directory::CHANNELS;
use schakel_core::domain::events::{DirectoryEntry, DirectoryItem, Preferences, Webhook};
use schakel_core::domain::ids::{ContactId, InstitutionId};
use schakel_core::domain::roles::{self, CONFIG_RULE, RULES};
use schakel_core::log::kafka::{self, CloudEvent, Outgoing, Producer};
use schakel_core::log::trace::TraceParent;
use schakel_core::Config;
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    institution: Vec<InstitutionSpec>,
    #[serde(default)]
    contact: Vec<ContactSpec>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct InstitutionSpec {
    id: String,
    name: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WebhookSpec {
    url: String,
    secret: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ContactSpec {
    id: String,
    name: String,
    #[serde(default)]
    organisation: Option<String>,
    institution: String,
    roles: Vec<String>,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    webhook: Option<WebhookSpec>,
    /// preferences: `webhook` and/or `email` (default: every channel with an address)
    #[serde(default)]
    channels: Option<Vec<String>>,
    /// preferences: a daily digest at this hour instead of immediate delivery
    #[serde(default)]
    digest_hour: Option<i32>,
    /// preferences: the rules to be notified of (default: all)
    #[serde(default)]
    rules: Option<Vec<String>>,
}

/// The problems of a contact's preferences.
fn check_preferences(c: &ContactSpec, at: &str, problems: &mut Vec<String>) {
    if let Some(ch) = &c.channels {
        if ch.is_empty() {
            problems.push(format!("{at}: channels must name at least one channel"));
        }
        for x in ch {
            match x.as_str() {
                "webhook" if c.webhook.is_none() => {
                    problems.push(format!("{at}: channel webhook chosen but no webhook given"))
                }
                "email" if c.email.is_none() => {
                    problems.push(format!("{at}: channel email chosen but no email given"))
                }
                _ if !CHANNELS.contains(&x.as_str()) => problems.push(format!(
                    "{at}: unknown channel {x:?} (known: {})",
                    CHANNELS.join(", ")
                )),
                _ => {}
            }
        }
    }
    if let Some(h) = c.digest_hour {
        if !(0..=23).contains(&h) {
            problems.push(format!("{at}: digest_hour must be 0 to 23, not {h}"));
        }
        if c.email.is_none() {
            problems.push(format!(
                "{at}: a digest is an e-mail; digest_hour needs an email"
            ));
        }
    }
    for r in c.rules.iter().flatten() {
        if !RULES.contains(&r.as_str()) && r != CONFIG_RULE {
            problems.push(format!(
                "{at}: unknown rule {r:?} (known: {})",
                RULES.join(", ")
            ));
        }
    }
}

/// Parses and checks a directory file; the error lists every problem.
pub fn load(text: &str) -> anyhow::Result<Vec<DirectoryEntry>> {
    let file: File = toml::from_str(text).context("directory file")?;
    let mut problems = Vec::new();
    let mut out = Vec::new();
    for i in &file.institution {
        if let Err(e) = InstitutionId::parse(&i.id) {
            problems.push(format!("institution {:?}: id {e}", i.id));
        }
        out.push(DirectoryEntry {
            entry: DirectoryItem::Institution {
                id: i.id.clone(),
                name: i.name.clone(),
            },
        });
    }
    for c in file.contact {
        let at = format!("contact {:?}", c.id);
        if let Err(e) = ContactId::parse(&c.id) {
            problems.push(format!("{at}: id {e}"));
        }
        if let Err(e) = InstitutionId::parse(&c.institution) {
            problems.push(format!("{at}: institution {e}"));
        }
        if c.roles.is_empty() {
            problems.push(format!("{at}: needs at least one role"));
        }
        for r in &c.roles {
            if !roles::is_role(r) {
                problems.push(format!(
                    "{at}: unknown role {r:?} (known: {})",
                    roles::roles().collect::<Vec<_>>().join(", ")
                ));
            }
        }
        if let Some(e) = &c.email {
            if !e.contains('@') || e.contains(char::is_whitespace) {
                problems.push(format!("{at}: email {e:?} is not an address"));
            }
        }
        if let Some(w) = &c.webhook {
            if !(w.url.starts_with("https://") || w.url.starts_with("http://")) {
                problems.push(format!("{at}: webhook.url must be an http(s) URL"));
            }
            let key = w
                .secret
                .strip_prefix("whsec_")
                .map(|k| base64::engine::general_purpose::STANDARD.decode(k));
            if !matches!(key, Some(Ok(k)) if k.len() >= 24) {
                problems.push(format!(
                    "{at}: webhook.secret must be whsec_ followed by base64 of at least 24 bytes"
                ));
            }
        }
        check_preferences(&c, &at, &mut problems);
        let preferences = (c.channels.is_some() || c.digest_hour.is_some() || c.rules.is_some())
            .then(|| Preferences {
                channels: c.channels.clone(),
                digest_hour: c.digest_hour,
                rules: c.rules.clone(),
            });
        out.push(DirectoryEntry {
            entry: DirectoryItem::Contact {
                id: c.id,
                name: c.name,
                organisation: c.organisation,
                institution: c.institution,
                roles: c.roles,
                email: c.email,
                webhook: c.webhook.map(|w| Webhook {
                    url: w.url,
                    secret: w.secret,
                }),
                preferences,
            },
        });
    }
    if !problems.is_empty() {
        anyhow::bail!(
            "the directory file has {} problem(s):\n  {}",
            problems.len(),
            problems.join("\n  ")
        );
    }
    Ok(out)
}

pub async fn apply(cfg: &Config, path: &Path, dry_run: bool) -> anyhow::Result<()> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let wanted: BTreeMap<String, DirectoryEntry> =
        load(&text)?.into_iter().map(|e| (e.key(), e)).collect();
    let topic = cfg.topic(Topic::DIRECTORY);
    let cfg2 = cfg.clone();
    let records = tokio::task::spawn_blocking(move || kafka::read_to_end(&cfg2, &topic)).await??;
    let reg = schakel_core::log::schemas::registry();
    let mut current: BTreeMap<String, DirectoryEntry> = BTreeMap::new();
    for r in records {
        let key = r.key.unwrap_or_default();
        match r
            .value
            .as_deref()
            .map(|v| reg.decode::<DirectoryEntry>(Topic::DIRECTORY, v))
        {
            Some(Ok(e)) => {
                current.insert(key, e);
            }
            _ => {
                current.remove(&key);
            }
        }
    }
    let producer = Producer::new(cfg)?;
    let (mut added, mut changed, mut removed) = (0, 0, 0);
    for (key, entry) in &wanted {
        let verb = match current.get(key) {
            None => "add",
            Some(old) if old != entry => "change",
            Some(_) => continue,
        };
        println!("{verb} {key}");
        if verb == "add" {
            added += 1
        } else {
            changed += 1
        }
        if !dry_run {
            let ev = CloudEvent {
                id: format!(
                    "directory-{key}-{}",
                    jiff::Timestamp::now().as_millisecond()
                ),
                source: "urn:nl:schakel:directory".into(),
                kind: EventType::DirectoryEntry,
                time: jiff::Timestamp::now(),
                trace: TraceParent::new_root(),
            };
            producer
                .send(Outgoing {
                    key,
                    value: entry,
                    event: &ev,
                    partition: None,
                })
                .await?;
        }
    }
    for key in current.keys().filter(|k| !wanted.contains_key(*k)) {
        println!("remove {key}");
        removed += 1;
        if !dry_run {
            producer.send_tombstone(Topic::DIRECTORY, key).await?;
        }
    }
    let what = if dry_run { "would be" } else { "were" };
    println!("{added} added, {changed} changed, {removed} removed ({what} applied; {} entries in the file)", wanted.len());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOOK: &str = r#"webhook = { url = "https://x.example/h", secret = "whsec_MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3" }"#;

    fn contact(extra: &str) -> String {
        format!(
            "[[contact]]\nid = \"c1\"\nname = \"Team\"\ninstitution = \"gemeente:0392\"\nroles = [\"jeugdteam\"]\n{extra}\n"
        )
    }

    #[test]
    fn preferences_are_read_into_the_entry() {
        let text = contact(&format!(
            "email = \"a@b.example\"\n{HOOK}\nchannels = [\"email\"]\ndigest_hour = 8\nrules = [\"R3b\", \"R4\"]"
        ));
        let entries = load(&text).unwrap();
        let DirectoryItem::Contact { preferences, .. } = &entries[0].entry else {
            panic!("a contact")
        };
        assert_eq!(
            preferences.as_ref(),
            Some(&Preferences {
                channels: Some(vec!["email".into()]),
                digest_hour: Some(8),
                rules: Some(vec!["R3b".into(), "R4".into()]),
            })
        );
        let plain = load(&contact(HOOK)).unwrap();
        let DirectoryItem::Contact { preferences, .. } = &plain[0].entry else {
            panic!("a contact")
        };
        assert_eq!(preferences, &None, "no preferences: the defaults");
    }

    #[test]
    fn every_preference_problem_is_listed() {
        let text = contact(
            "channels = [\"email\", \"webhook\", \"sms\"]\ndigest_hour = 24\nrules = [\"R9\"]",
        );
        let e = load(&text).unwrap_err().to_string();
        for part in [
            "channel email chosen but no email given",
            "channel webhook chosen but no webhook given",
            "unknown channel \"sms\"",
            "digest_hour must be 0 to 23, not 24",
            "digest_hour needs an email",
            "unknown rule \"R9\"",
        ] {
            assert!(e.contains(part), "{part} in {e}");
        }
        assert!(e.contains("6 problem(s)"), "{e}");
    }
}
