//! The report of `schakel whatif`: what differs when the region's log is folded under another
//! policy, as counts only (no child ever appears), with small numbers suppressed. The rules
//! crate makes it; the CLI prints or saves it; the monitor shows the last one saved to the
//! roles that set and watch the region's policy.

use std::path::{Path, PathBuf};

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

/// The region's threshold when none is given: counts from 1 to 4 are shown as `<5`
/// (DOMAIN.md, "Monitoring"; `policy.monitoring.suppression.min_count`).
pub const MIN_COUNT: u64 = 5;

/// How a step changed under the other policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Change {
    Appeared,
    Disappeared,
    MovedEarlier,
    MovedLater,
}

fn default_min_count() -> u64 {
    MIN_COUNT
}

/// A count as it may be shown: exact, `<m` for a count from 1 below the region's threshold
/// `m`, or hidden (a difference that, beside the counts it is the difference of, would give a
/// small count away).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shown {
    Exact(i64),
    /// below this threshold
    Small(u64),
    Hidden,
}

/// The region's threshold for small counts (`min_count`): counts from 1 below it are shown
/// as `<min_count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Suppress(pub u64);

impl Default for Suppress {
    fn default() -> Self {
        Suppress(MIN_COUNT)
    }
}

impl Suppress {
    fn small(&self, n: u64) -> bool {
        n >= 1 && n < self.0
    }

    pub fn count(&self, n: u64) -> Shown {
        if self.small(n) {
            Shown::Small(self.0)
        } else {
            Shown::Exact(n as i64)
        }
    }

    /// A difference: small when it is small either way (it would count a few children), and
    /// hidden when either count is small (20 and a difference of -17 would tell that `<5` is 3).
    pub fn diff(&self, base: u64, other: u64) -> Shown {
        let d = other as i64 - base as i64;
        if self.small(base) || self.small(other) {
            Shown::Hidden
        } else if self.small(d.unsigned_abs()) {
            Shown::Small(self.0)
        } else {
            Shown::Exact(d)
        }
    }
}

impl Shown {
    /// [`Suppress::count`] with the default threshold.
    pub fn of(n: u64) -> Self {
        Suppress::default().count(n)
    }

    /// [`Suppress::diff`] with the default threshold.
    pub fn diff(base: u64, other: u64) -> Self {
        Suppress::default().diff(base, other)
    }
}

impl std::fmt::Display for Shown {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Shown::Exact(n) => write!(f, "{n}"),
            Shown::Small(m) => write!(f, "<{m}"),
            Shown::Hidden => f.write_str("-"),
        }
    }
}

impl Serialize for Shown {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Shown::Exact(n) => s.serialize_i64(*n),
            Shown::Small(m) => s.collect_str(&format_args!("<{m}")),
            Shown::Hidden => s.serialize_none(),
        }
    }
}

impl<'de> Deserialize<'de> for Shown {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Either {
            N(i64),
            S(String),
        }
        match Option::<Either>::deserialize(d)? {
            None => Ok(Shown::Hidden),
            Some(Either::N(n)) => Ok(Shown::Exact(n)),
            Some(Either::S(s)) => s
                .strip_prefix('<')
                .and_then(|m| m.parse().ok())
                .map(Shown::Small)
                .ok_or_else(|| serde::de::Error::custom(format!("not a count: {s:?}"))),
        }
    }
}

/// What differs, as counts.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    pub from: Date,
    pub to: Date,
    pub inputs: u64,
    /// counts from 1 below this are shown as `<` it (the region's `min_count`)
    #[serde(default = "default_min_count")]
    pub suppressed_below: u64,
    /// signal steps fired in the period under the region's policy
    pub steps_base: Shown,
    /// … and under the other
    pub steps_other: Shown,
    pub changes: Vec<ChangeRow>,
    /// the roles whose workload changes
    pub workload: Vec<WorkloadRow>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChangeRow {
    pub rule: String,
    pub step: String,
    pub municipality: String,
    /// YYYY-MM
    pub month: String,
    pub change: Change,
    pub count: Shown,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkloadRow {
    pub role: String,
    pub tasks_opened_base: Shown,
    pub tasks_opened_other: Shown,
    pub tasks_opened_difference: Shown,
    pub escalations_base: Shown,
    pub escalations_other: Shown,
    pub escalations_difference: Shown,
}

impl Report {
    /// Whether the two policies fire the same steps on the same days.
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty() && self.workload.is_empty()
    }

    /// The report as text, for a person.
    pub fn text(&self) -> String {
        let mut out = format!(
            "what if: {} to {}, {} inputs folded; {} signal steps under the region's policy, {} under the other\n",
            self.from, self.to, self.inputs, self.steps_base, self.steps_other
        );
        if self.is_empty() {
            out.push_str("no difference\n");
            return out;
        }
        out.push_str("\nchanges (rule, step, municipality, month, change: count)\n");
        for c in &self.changes {
            out.push_str(&format!(
                "  {} {} {} {} {}: {}\n",
                c.rule,
                c.step,
                c.municipality,
                c.month,
                change_word(c.change),
                c.count
            ));
        }
        if !self.workload.is_empty() {
            out.push_str("\nworkload per role (region's policy → other: difference)\n");
            for w in &self.workload {
                out.push_str(&format!(
                    "  {}: tasks opened {} → {} ({}), escalations {} → {} ({})\n",
                    w.role,
                    w.tasks_opened_base,
                    w.tasks_opened_other,
                    w.tasks_opened_difference,
                    w.escalations_base,
                    w.escalations_other,
                    w.escalations_difference
                ));
            }
        }
        let m = self.suppressed_below;
        out.push_str(&format!(
            "\ncounts (and differences) from 1 to {} show as <{m}; a difference beside such a count\nshows as -\n",
            m.saturating_sub(1)
        ));
        out
    }

    /// The changes as CSV (`;`-separated, a header line).
    pub fn csv(&self) -> String {
        let mut out = String::from("rule;step;municipality;month;change;count\r\n");
        for c in &self.changes {
            out.push_str(&format!(
                "{};{};{};{};{};{}\r\n",
                c.rule,
                c.step,
                c.municipality,
                c.month,
                change_word(c.change),
                c.count
            ));
        }
        out
    }
}

fn change_word(c: Change) -> &'static str {
    match c {
        Change::Appeared => "appeared",
        Change::Disappeared => "disappeared",
        Change::MovedEarlier => "moved-earlier",
        Change::MovedLater => "moved-later",
    }
}

/// A value of the policy that differs between the region's policy and the other (`None`: not
/// set, so the default holds).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PolicyChange {
    /// the dotted key under `[policy]`, as `adulthood.handoff_age`
    pub key: String,
    pub current: Option<String>,
    pub other: Option<String>,
}

/// The keys whose values differ between two `[policy]` tables, in key order.
pub fn policy_changes(current: &toml::Table, other: &toml::Table) -> Vec<PolicyChange> {
    fn flatten(
        prefix: &str,
        t: &toml::Table,
        out: &mut std::collections::BTreeMap<String, String>,
    ) {
        for (k, v) in t {
            let key = if prefix.is_empty() {
                k.clone()
            } else {
                format!("{prefix}.{k}")
            };
            match v {
                toml::Value::Table(inner) => flatten(&key, inner, out),
                toml::Value::String(s) => {
                    out.insert(key, s.clone());
                }
                v => {
                    out.insert(key, v.to_string());
                }
            }
        }
    }
    let (mut a, mut b) = Default::default();
    flatten("", current, &mut a);
    flatten("", other, &mut b);
    let keys: std::collections::BTreeSet<&String> = a.keys().chain(b.keys()).collect();
    keys.into_iter()
        .filter(|k| a.get(*k) != b.get(*k))
        .map(|k| PolicyChange {
            key: k.clone(),
            current: a.get(k).cloned(),
            other: b.get(k).cloned(),
        })
        .collect()
}

/// A report as saved for the monitor: when it was made, from which policy file, what in the
/// policy differs, and what that does.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Saved {
    pub made: jiff::Timestamp,
    /// the other policy's file name (without its directory)
    pub policy_file: String,
    pub policy_changes: Vec<PolicyChange>,
    pub report: Report,
}

/// The file in the reports directory that holds the last report.
pub const LAST: &str = "last.json";

impl Saved {
    /// Writes the report to `dir` as `whatif-<made>.json` and as [`LAST`] (each replaced in
    /// one step, so a reader never sees half a file). Returns the dated file's path.
    pub fn save(&self, dir: &Path) -> std::io::Result<PathBuf> {
        std::fs::create_dir_all(dir)?;
        let json = serde_json::to_vec_pretty(self).map_err(std::io::Error::other)?;
        let stamp = self.made.strftime("%Y%m%dT%H%M%SZ").to_string();
        let dated = dir.join(format!("whatif-{stamp}.json"));
        for path in [&dated, &dir.join(LAST)] {
            let tmp = path.with_extension("json.tmp");
            std::fs::write(&tmp, &json)?;
            std::fs::rename(&tmp, path)?;
        }
        Ok(dated)
    }

    /// The last report saved in `dir`: `Ok(None)` when there is none yet.
    pub fn load_last(dir: &Path) -> Result<Option<Saved>, String> {
        let path = dir.join(LAST);
        match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|e| format!("{}: {e}", path.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(format!("{}: {e}", path.display())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_keys_that_differ_are_named() {
        let a: toml::Table = toml::from_str(
            "[adulthood]\nhandoff_age = \"17y6m\"\n[exchanges]\nverzuim_jeugdhulp = false\n",
        )
        .unwrap();
        let b: toml::Table = toml::from_str(
            "[adulthood]\nhandoff_age = \"17y5m\"\n[exchanges]\nverzuim_jeugdhulp = false\n[thuiszitter]\nescalate_after = \"8w\"\n",
        )
        .unwrap();
        let changes = policy_changes(&a, &b);
        assert_eq!(
            changes,
            vec![
                PolicyChange {
                    key: "adulthood.handoff_age".into(),
                    current: Some("17y6m".into()),
                    other: Some("17y5m".into()),
                },
                PolicyChange {
                    key: "thuiszitter.escalate_after".into(),
                    current: None,
                    other: Some("8w".into()),
                },
            ]
        );
    }

    #[test]
    fn a_saved_report_reads_back_with_its_suppressed_counts() {
        let dir = std::env::temp_dir().join(format!("schakel-whatif-{}", std::process::id()));
        assert_eq!(Saved::load_last(&dir).unwrap().map(|s| s.made), None);
        let saved = Saved {
            made: jiff::Timestamp::from_second(1_780_000_000).unwrap(),
            policy_file: "other.toml".into(),
            policy_changes: vec![],
            report: Report {
                from: jiff::civil::date(2026, 1, 1),
                to: jiff::civil::date(2026, 12, 31),
                inputs: 10,
                suppressed_below: 5,
                steps_base: Shown::of(7),
                steps_other: Shown::of(3),
                changes: vec![ChangeRow {
                    rule: "R3b".into(),
                    step: "opened".into(),
                    municipality: "0392".into(),
                    month: "2026-03".into(),
                    change: Change::MovedEarlier,
                    count: Shown::of(3),
                }],
                workload: vec![],
            },
        };
        saved.save(&dir).unwrap();
        let back = Saved::load_last(&dir).unwrap().expect("saved");
        assert_eq!(back.report.changes[0].count, Shown::Small(5));
        assert_eq!(back.report.changes[0].change, Change::MovedEarlier);
        assert_eq!(back.made, saved.made);
        assert_eq!(back.report.steps_base, Shown::Exact(7));
        assert_eq!(back.report.steps_other, Shown::Small(5));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
