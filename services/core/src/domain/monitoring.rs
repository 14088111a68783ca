//! The monitoring policy of a region (`[policy.monitoring]`): the peildata on which the
//! Leerplein counts, and the thresholds that keep small numbers from identifying a child.
//! Rules reads and checks it with the rest of the policy; the monitor uses it.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MonitoringPolicy {
    /// the peildata of every year, as `MM-DD` (default: 1 October, 1 January, 1 April,
    /// 1 July)
    #[serde(default = "default_peildata")]
    pub peildata: Vec<String>,
    #[serde(default)]
    pub suppression: Suppression,
}

fn default_peildata() -> Vec<String> {
    ["10-01", "01-01", "04-01", "07-01"]
        .map(String::from)
        .to_vec()
}

impl Default for MonitoringPolicy {
    fn default() -> Self {
        Self {
            peildata: default_peildata(),
            suppression: Suppression::default(),
        }
    }
}

impl MonitoringPolicy {
    /// The peildata as (month, day); an entry that is not `MM-DD` is an error.
    pub fn days(&self) -> Result<Vec<(i8, i8)>, String> {
        self.peildata
            .iter()
            .map(|s| {
                let (m, d) = s
                    .split_once('-')
                    .ok_or_else(|| format!("peildatum {s:?} is not MM-DD"))?;
                let (m, d): (i8, i8) = (
                    m.parse()
                        .map_err(|_| format!("peildatum {s:?} is not MM-DD"))?,
                    d.parse()
                        .map_err(|_| format!("peildatum {s:?} is not MM-DD"))?,
                );
                jiff::civil::Date::new(2024, m, d)
                    .map_err(|_| format!("peildatum {s:?} is not a day of the year"))?;
                Ok((m, d))
            })
            .collect()
    }
}

/// The thresholds, regional policy (`[policy.monitoring.suppression]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Suppression {
    #[serde(default = "default_min_count")]
    pub min_count: u64,
    #[serde(default = "default_care_round")]
    pub care_round: u64,
    #[serde(default = "default_care_hide_below")]
    pub care_hide_below: u64,
    #[serde(default = "default_min_denominator")]
    pub min_denominator: u64,
}

fn default_min_count() -> u64 {
    5
}
fn default_care_round() -> u64 {
    5
}
fn default_care_hide_below() -> u64 {
    8
}
fn default_min_denominator() -> u64 {
    10
}

impl Default for Suppression {
    fn default() -> Self {
        Self {
            min_count: default_min_count(),
            care_round: default_care_round(),
            care_hide_below: default_care_hide_below(),
            min_denominator: default_min_denominator(),
        }
    }
}
