//! `schakel vault`: erase a child's identity (crypto-shredding), apply the retention term, and
//! reveal an identity to an entitled person — each one written to `hub.audit.v1` first.

use std::time::{Duration, SystemTime};

use anyhow::{bail, Context};
use schakel_core::domain::catalogue::EventType;
use schakel_core::domain::catalogue::Topic;
use schakel_core::domain::events::IdentityRecord;
use schakel_core::domain::ids::{Bsn, ChildId, ChildKey, Onderwijsnummer};
use schakel_core::log::kafka::{self, Producer};
use schakel_core::vault::{self, Actor, Vault};
use schakel_core::Config;

/// A child named by its ChildKey (64 hex), BSN or onderwijsnummer.
pub fn child_key(cfg: &Config, child: &str) -> anyhow::Result<ChildKey> {
    let c = child.trim();
    if let Ok(k) = ChildKey::parse(c) {
        return Ok(k);
    }
    let id = if let Ok(b) = Bsn::parse(c) {
        ChildId::Bsn(b)
    } else if let Ok(o) = Onderwijsnummer::parse(c) {
        ChildId::Onderwijsnummer(o)
    } else {
        bail!("CHILD must be a ChildKey (64 hexadecimal characters), a BSN or an onderwijsnummer");
    };
    Ok(schakel_core::vault::pseudonymizer(cfg)?.child_key(&id))
}

pub fn actor(actor: Option<String>, on_behalf_of: Option<String>, reason: String) -> Actor {
    let actor = actor.unwrap_or_else(|| {
        format!(
            "cli:{}",
            std::env::var("USER").unwrap_or_else(|_| "unknown".into())
        )
    });
    Actor {
        actor,
        on_behalf_of,
        reason,
    }
}

pub async fn erase(cfg: &Config, child: &str, who: Actor) -> anyhow::Result<()> {
    let key = child_key(cfg, child)?;
    let vault = Vault::from_config(cfg)?;
    let producer = Producer::new(cfg)?;
    let had = vault::erase(&vault, &producer, &key, EventType::IdentityErased, &who).await?;
    producer.flush(Duration::from_secs(5));
    if had {
        println!(
            "erased: the data key of child {} is destroyed; its identity records can no longer be read",
            key.as_str()
        );
    } else {
        println!(
            "child {} has no data key (never seen or already erased); tombstone written",
            key.as_str()
        );
    }
    Ok(())
}

pub async fn expire(cfg: &Config, dry_run: bool) -> anyhow::Result<()> {
    let policy = schakel_rules::config::Settings::from_config(cfg)?.policy;
    let years = policy.retention.identity_years.max(0) as u64;
    let term = Duration::from_secs(years * 365 * 86_400 + years / 4 * 86_400);
    let vault = Vault::from_config(cfg)?;
    let due = vault.expired(term, SystemTime::now())?;
    if dry_run {
        println!(
            "{} children have had no identity for more than {years} years (policy.retention.identity_years); nothing erased (--dry-run)",
            due.len()
        );
        return Ok(());
    }
    let producer = Producer::new(cfg)?;
    let who = Actor {
        actor: "schakel-retention".into(),
        on_behalf_of: None,
        reason: format!("retention term of {years} years passed"),
    };
    for (i, key) in due.iter().enumerate() {
        vault::erase(&vault, &producer, key, EventType::IdentityExpired, &who).await?;
        if (i + 1) % 1000 == 0 {
            eprintln!("{} of {} erased", i + 1, due.len());
        }
    }
    producer.flush(Duration::from_secs(5));
    println!(
        "{} children erased: no identity for more than {years} years",
        due.len()
    );
    Ok(())
}

/// The latest identity record of a child on `hub.identities.v1`, if any.
fn latest(cfg: &Config, key: &ChildKey) -> anyhow::Result<Option<IdentityRecord>> {
    let reg = schakel_core::log::schemas::registry();
    let mut last = None;
    for r in kafka::read_to_end(cfg, &cfg.topic(Topic::IDENTITIES))? {
        if r.key.as_deref() != Some(key.as_str()) {
            continue;
        }
        last = match r.value {
            None => None,
            Some(v) => Some(
                reg.decode::<IdentityRecord>(Topic::IDENTITIES, &v)
                    .context("reading an identity record")?,
            ),
        };
    }
    Ok(last)
}

pub async fn reveal(cfg: &Config, child: &str, who: Actor) -> anyhow::Result<()> {
    let key = child_key(cfg, child)?;
    let Some(rec) = latest(cfg, &key)? else {
        bail!("no identity of child {} on hub.identities.v1", key.as_str());
    };
    let vault = Vault::from_config(cfg)?;
    let producer = Producer::new(cfg)?;
    let identity = vault::reveal(&vault, &producer, &rec, &who).await;
    producer.flush(Duration::from_secs(5));
    let identity = identity?;
    println!("child {} (read written to hub.audit.v1)", key.as_str());
    if let Some(b) = &identity.bsn {
        println!("  BSN: {b}");
    }
    if let Some(o) = &identity.onderwijsnummer {
        println!("  onderwijsnummer: {o}");
    }
    let name = [identity.given.as_deref(), identity.family.as_deref()]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    if !name.is_empty() {
        println!("  naam: {name}");
    }
    Ok(())
}
