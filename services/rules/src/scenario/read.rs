//! Reading a scenario file: the TOML tables (`[[child]]`, `[[input]]`, `[[expect]]`,
//! `[[refusal]]`, an optional `[policy]`), checked and expanded into inputs in log order.

use std::collections::BTreeMap;
use std::path::Path;

use jiff::civil::Date;
use jiff::ToSpan;
use schakel_core::domain::dates::DatePrecision;
use serde::Deserialize;

use super::facts::{fact_input, FactSpec};
use super::{key_for, Expected, ExpectedRefusal, Scenario};
use crate::policy::Policy;
use crate::Input;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    description: String,
    #[serde(default)]
    policy: Option<toml::Table>,
    #[serde(default)]
    child: Vec<ChildSpec>,
    #[serde(default)]
    input: Vec<BTreeMap<String, toml::Value>>,
    #[serde(default)]
    expect: Vec<Expected>,
    #[serde(default)]
    refusal: Vec<ExpectedRefusal>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ChildSpec {
    pub(super) name: String,
    pub(super) birth_date: Date,
    #[serde(default)]
    pub(super) precision: DatePrecision,
    #[serde(default)]
    pub(super) residence: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TickRange {
    from: Date,
    to: Date,
    #[serde(default = "one")]
    every_days: i32,
}

fn one() -> i32 {
    1
}

impl Scenario {
    pub fn load(path: &Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        Self::parse(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    pub fn parse(text: &str) -> Result<Self, String> {
        let file: File = toml::from_str(text).map_err(|e| e.to_string())?;
        let policy: Policy = match file.policy {
            Some(t) => toml::Value::Table(t)
                .try_into()
                .map_err(|e: toml::de::Error| e.to_string())?,
            None => Policy::default(),
        };
        policy.check()?;
        let child = |name: &str| {
            file.child
                .iter()
                .find(|c| c.name == name)
                .cloned()
                .ok_or_else(|| format!("unknown child {name}"))
        };
        let mut inputs = Vec::new();
        for (n, table) in file.input.into_iter().enumerate() {
            let mut entries = table.into_iter();
            let (Some((kind, value)), None) = (entries.next(), entries.next()) else {
                return Err(format!("input {}: needs exactly one key", n + 1));
            };
            let at = |e: toml::de::Error| format!("input {} ({kind}): {e}", n + 1);
            match kind.as_str() {
                "tick" => inputs.push(Input::Tick(value.clone().try_into().map_err(at)?)),
                "ticks" => {
                    let r: TickRange = value.clone().try_into().map_err(at)?;
                    let mut d = r.from;
                    while d <= r.to {
                        inputs.push(Input::Tick(d));
                        d = d.saturating_add(i64::from(r.every_days).days());
                    }
                }
                _ => {
                    let spec: FactSpec = value.clone().try_into().map_err(at)?;
                    let c = child(&spec.child)?;
                    inputs.push(
                        fact_input(&kind, spec, &c).map_err(|e| format!("input {}: {e}", n + 1))?,
                    );
                }
            }
        }
        for e in &file.expect {
            child(&e.child)?;
        }
        let children = file
            .child
            .iter()
            .map(|c| (c.name.clone(), key_for(&c.name)))
            .collect();
        Ok(Self {
            description: file.description,
            policy,
            inputs,
            expect: file.expect,
            refusals: file.refusal,
            children,
        })
    }
}
