//! `schakel whatif`: the region's log folded under its policy and under another, in process,
//! and what differs. Reads the input topics from their beginning to where they end now, with
//! a reader of its own (assigned partitions, no group membership, no commit); writes nothing
//! to the log.

use std::path::Path;

use anyhow::Context as _;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use schakel_core::domain::whatif::{policy_changes, Saved};
use schakel_core::Config;
use schakel_rules::policy::Policy;
use schakel_rules::replay::{Decoded, FOLDED};
use schakel_rules::whatif::WhatIf;

/// The other policy: a file with `[policy.*]` tables (as in the region's config) or with the
/// sections themselves (`[adulthood]`, `[thuiszitter]`, …); the policy, and its table as
/// written.
pub fn read_policy(path: &Path) -> anyhow::Result<(Policy, toml::Table)> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let mut table: toml::Table =
        toml::from_str(&text).with_context(|| format!("{} is not TOML", path.display()))?;
    let policy = match table.remove("policy") {
        Some(p) if table.is_empty() => p,
        Some(_) => anyhow::bail!(
            "{}: only [policy.*] tables belong in a policy file",
            path.display()
        ),
        None => toml::Value::Table(table),
    };
    let table = match &policy {
        toml::Value::Table(t) => t.clone(),
        _ => anyhow::bail!("{}: [policy] is not a table", path.display()),
    };
    let policy: Policy = policy
        .try_into()
        .with_context(|| format!("{}: not a policy", path.display()))?;
    policy
        .check()
        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    Ok((policy, table))
}

/// Where `--save` puts the report: `[monitor] whatif_dir`.
fn reports_dir(cfg: &Config) -> anyhow::Result<std::path::PathBuf> {
    let monitor: schakel_monitor::config::MonitorConfig = cfg.section("monitor")?;
    monitor.whatif_dir().context(
        "--save needs [monitor] whatif_dir in the config: where the monitor reads the last report",
    )
}

pub async fn run(
    cfg: &Config,
    other: &Path,
    from: Option<Date>,
    to: Option<Date>,
    format: &str,
    save: bool,
) -> anyhow::Result<()> {
    let base = schakel_rules::config::Settings::from_config(cfg)?.policy;
    let policy_file = other
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    let (other, other_table) = read_policy(other)?;
    // known before the long replay: a --save without a place to save fails at once
    let dir = if save { Some(reports_dir(cfg)?) } else { None };
    let tz = TimeZone::get(&cfg.clock.timezone)
        .with_context(|| format!("clock.timezone {:?}", cfg.clock.timezone))?;
    let today = jiff::Timestamp::now().to_zoned(tz.clone()).date();
    let to = to.unwrap_or(today);
    let from = match from {
        Some(f) => f,
        None => to
            .checked_sub(jiff::Span::new().years(1))
            .context("--to is too early")?
            .tomorrow()?,
    };
    anyhow::ensure!(from <= to, "--from {from} is after --to {to}");

    // every fact and answer, in the order the log received them
    let mut decoded = Decoded::default();
    for topic in FOLDED {
        let name = cfg.topic(topic);
        let c = cfg.clone();
        let n = name.clone();
        let records =
            tokio::task::spawn_blocking(move || schakel_core::log::kafka::read_to_end(&c, &n))
                .await??;
        eprintln!("read {name}: {} records", records.len());
        let unreadable = decoded.add(topic, &records);
        if unreadable > 0 {
            eprintln!("  {unreadable} records not readable, left out (as rules dead-letters them)");
        }
    }
    let replay = decoded.in_log_order();

    // a tick at the start of every day from the first fact's day (or --from) to --to
    let mut w = WhatIf::new(base, other, from, to);
    let started = std::time::Instant::now();
    replay.fold_into(&mut w, &tz, from, to, |day, inputs| {
        eprintln!(
            "folded up to {day}: {inputs} inputs, {:.1} s",
            started.elapsed().as_secs_f64()
        )
    })?;
    let report = w.report();
    if let Some(dir) = dir {
        let current: toml::Table = cfg.section("policy")?;
        let saved = Saved {
            made: jiff::Timestamp::now(),
            policy_file,
            policy_changes: policy_changes(&current, &other_table),
            report: report.clone(),
        };
        let path = saved
            .save(&dir)
            .with_context(|| format!("saving the report in {}", dir.display()))?;
        eprintln!("saved {} (the monitor shows it at /whatif)", path.display());
    }
    match format {
        "json" => println!("{}", serde_json::to_string_pretty(&report)?),
        "csv" => print!("{}", report.csv()),
        _ => print!("{}", report.text()),
    }
    Ok(())
}
