//! `schakel audit list`: who looked at which child, when, in which role and why, from
//! `hub.audit.v1`, for a privacy officer. It prints the records as they are (a ChildKey, never
//! a name or BSN), so answering "who looked at this child" shows no more than the record.

use anyhow::Context;
use jiff::Timestamp;
use schakel_core::domain::catalogue::Topic;
use schakel_core::domain::events::AuditEvent;
use schakel_core::log::kafka;
use schakel_core::Config;

/// Which records to list.
pub struct Filter {
    /// ChildKey, BSN or onderwijsnummer
    pub child: Option<String>,
    pub actor: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
}

fn moment(s: &str, end: bool) -> anyhow::Result<Timestamp> {
    if let Ok(t) = s.parse::<Timestamp>() {
        return Ok(t);
    }
    let d: jiff::civil::Date = s
        .parse()
        .with_context(|| format!("{s:?} is neither a date (YYYY-MM-DD) nor an RFC 3339 moment"))?;
    let d = if end { d.tomorrow()? } else { d };
    Ok(d.to_zoned(jiff::tz::TimeZone::get("Europe/Amsterdam")?)?
        .timestamp())
}

pub fn list(cfg: &Config, f: &Filter) -> anyhow::Result<()> {
    let child = f
        .child
        .as_deref()
        .map(|c| crate::vault::child_key(cfg, c))
        .transpose()?;
    let from = f.from.as_deref().map(|s| moment(s, false)).transpose()?;
    let to = f.to.as_deref().map(|s| moment(s, true)).transpose()?;
    let reg = schakel_core::log::schemas::registry();
    let mut rows: Vec<AuditEvent> = kafka::read_to_end(cfg, &cfg.topic(Topic::AUDIT))
        .context("reading hub.audit.v1")?
        .iter()
        .filter_map(|r| {
            reg.decode::<AuditEvent>(Topic::AUDIT, r.value.as_deref()?)
                .ok()
        })
        .filter(|a| child.as_ref().is_none_or(|c| &a.child_key == c))
        .filter(|a| f.actor.as_deref().is_none_or(|x| a.actor == x))
        .filter(|a| from.is_none_or(|t| a.at >= t))
        .filter(|a| to.is_none_or(|t| a.at < t))
        .collect();
    rows.sort_by_key(|a| a.at);
    println!("at\tactor\trole\torganisation\tchild\twhat\tcategories\tpurpose\tlegal ground\tsignal\ttrace");
    for a in &rows {
        println!(
            "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
            a.at,
            a.actor,
            a.role.as_deref().unwrap_or("-"),
            a.organisation.as_deref().unwrap_or("-"),
            a.child_key.as_str(),
            a.kind.short(),
            a.categories.join(","),
            a.purpose.as_deref().unwrap_or("-"),
            a.legal_ground.as_deref().unwrap_or("-"),
            a.signal_id.as_deref().unwrap_or("-"),
            a.trace_id.as_deref().unwrap_or("-"),
        );
    }
    eprintln!("{} audit records", rows.len());
    Ok(())
}
