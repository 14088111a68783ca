//! Golden scenarios: files of input facts and ticks with the signals they must produce.
//!
//! A scenario is TOML: `[[child]]` declares children by name, `[[input]]` lists facts and ticks
//! in log order, `[[expect]]` lists every signal step that must fire, in order, and nothing
//! else may fire. See `tests/golden/README.md` for the format.

use std::path::Path;

use jiff::civil::Date;
use jiff::{Timestamp, ToSpan};
use schakel_core::dates::DatePrecision;
use schakel_core::events::{ChildRef, JeugdhulpData, Product, SignalEvent, SourceEvent};
use schakel_core::ids::{hex, ChildKey};
use schakel_core::policy::Policy;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::{Engine, Input};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    description: String,
    #[serde(default)]
    policy: Option<toml::Table>,
    #[serde(default)]
    child: Vec<ChildSpec>,
    #[serde(default)]
    input: Vec<InputSpec>,
    #[serde(default)]
    expect: Vec<Expected>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct ChildSpec {
    name: String,
    birth_date: Date,
    #[serde(default)]
    precision: DatePrecision,
    #[serde(default)]
    residence: Option<String>,
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

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
enum InputSpec {
    Tick(Date),
    Ticks(TickRange),
    Assignment {
        child: String,
        id: String,
        nummer: String,
        ingang: Date,
        #[serde(default)]
        eind: Option<Date>,
        stamp: Timestamp,
        #[serde(default)]
        verlengd: Option<bool>,
        gemeente: String,
    },
    Withdrawal {
        child: String,
        id: String,
        nummer: String,
        date: Date,
    },
    CareStopped {
        child: String,
        id: String,
        nummer: String,
        begin: Date,
        end: Date,
    },
}

/// One signal step a scenario expects.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expected {
    pub on: Date,
    pub rule: String,
    pub step: String,
    pub child: String,
    #[serde(default)]
    pub due: Option<Date>,
    #[serde(default)]
    pub recipients: Option<Vec<String>>,
    #[serde(default)]
    pub uncertain: Option<bool>,
}

/// A loaded scenario, its inputs expanded into log order.
#[derive(Debug)]
pub struct Scenario {
    pub description: String,
    pub policy: Policy,
    pub inputs: Vec<Input>,
    pub expect: Vec<Expected>,
    children: Vec<(String, ChildKey)>,
}

/// The ChildKey a scenario uses for a child name.
pub fn key_for(name: &str) -> ChildKey {
    ChildKey::parse(&hex(&Sha256::digest(name.as_bytes()))).expect("64 hex")
}

fn jeugdhulp(child: &ChildSpec, id: &str, kind: &str, data: JeugdhulpData) -> Input {
    Input::Jeugdhulp(SourceEvent {
        id: id.to_owned(),
        source: "urn:nld:gemeente:0000:systeem:scenario".into(),
        kind: format!("nl.schakel.jeugdhulp.{kind}.v1"),
        time: Timestamp::UNIX_EPOCH,
        child: ChildRef {
            child_key: key_for(&child.name),
            birth_date: child.birth_date,
            birth_date_precision: child.precision,
            residence_municipality: child.residence.clone(),
        },
        data,
    })
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
        for spec in file.input {
            match spec {
                InputSpec::Tick(d) => inputs.push(Input::Tick(d)),
                InputSpec::Ticks(r) => {
                    let mut d = r.from;
                    while d <= r.to {
                        inputs.push(Input::Tick(d));
                        d = d.saturating_add(i64::from(r.every_days).days());
                    }
                }
                InputSpec::Assignment {
                    child: c,
                    id,
                    nummer,
                    ingang,
                    eind,
                    stamp,
                    verlengd,
                    gemeente,
                } => {
                    let data = JeugdhulpData::AssignmentIssued {
                        toewijzing_nummer: nummer,
                        product: Product {
                            categorie: "45".into(),
                            code: None,
                        },
                        ingangsdatum: ingang,
                        einddatum: eind,
                        toewijzing_tijdstip: stamp,
                        verlengde_jeugdhulp: verlengd,
                        gemeente,
                    };
                    inputs.push(jeugdhulp(&child(&c)?, &id, "assignment-issued", data));
                }
                InputSpec::Withdrawal {
                    child: c,
                    id,
                    nummer,
                    date,
                } => {
                    let data = JeugdhulpData::AssignmentWithdrawn {
                        toewijzing_nummer: nummer,
                        date,
                    };
                    inputs.push(jeugdhulp(&child(&c)?, &id, "assignment-withdrawn", data));
                }
                InputSpec::CareStopped {
                    child: c,
                    id,
                    nummer,
                    begin,
                    end,
                } => {
                    let data = JeugdhulpData::CareStopped {
                        toewijzing_nummer: nummer,
                        begindatum: begin,
                        einddatum: end,
                        reden_beeindiging: None,
                    };
                    inputs.push(jeugdhulp(&child(&c)?, &id, "care-stopped", data));
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
            children,
        })
    }

    /// Runs every input through one engine.
    pub fn run_straight(&self) -> Vec<SignalEvent> {
        let mut engine = Engine::new(self.policy.clone());
        self.inputs.iter().flat_map(|i| engine.apply(i)).collect()
    }

    /// Runs with a stop after each of `cuts` inputs: the next engine restores by replaying
    /// everything before the cut without emitting, as the service does on start.
    pub fn run_with_restores(&self, cuts: &[usize]) -> Vec<SignalEvent> {
        let mut out = Vec::new();
        let mut engine = Engine::new(self.policy.clone());
        let mut done = 0;
        for &cut in cuts.iter().chain(std::iter::once(&self.inputs.len())) {
            let cut = cut.min(self.inputs.len());
            for i in &self.inputs[done..cut] {
                out.extend(engine.apply(i));
            }
            done = cut;
            engine = Engine::new(self.policy.clone());
            for i in &self.inputs[..done] {
                let _silent = engine.apply(i);
            }
        }
        out
    }

    fn name_of(&self, key: &ChildKey) -> String {
        self.children
            .iter()
            .find(|(_, k)| k == key)
            .map(|(n, _)| n.clone())
            .unwrap_or_else(|| key.to_string())
    }

    /// Compares produced signals with the expectations; the error lists every difference.
    /// Children's signals on the same day may come in any order; per child the order counts.
    pub fn check(&self, got: &[SignalEvent]) -> Result<(), String> {
        let mut sorted: Vec<&SignalEvent> = got.iter().collect();
        sorted.sort_by_key(|s| (s.fired_on, self.name_of(&s.child_key)));
        let mut expect = self.expect.clone();
        expect.sort_by(|a, b| (a.on, &a.child).cmp(&(b.on, &b.child)));
        let got: Vec<Expected> = sorted
            .into_iter()
            .zip(expect.iter().map(Some).chain(std::iter::repeat(None)))
            .map(|(s, want)| Expected {
                on: s.fired_on,
                rule: s.rule.clone(),
                step: s.step.clone(),
                child: self.name_of(&s.child_key),
                due: want.and_then(|w| w.due.map(|_| s.due_date)).flatten(),
                recipients: want.and_then(|w| w.recipients.as_ref().map(|_| s.recipients.clone())),
                uncertain: want.and_then(|w| w.uncertain.map(|_| s.birth_date_uncertain)),
            })
            .collect();
        if got == expect {
            return Ok(());
        }
        let show = |v: &[Expected]| {
            v.iter()
                .map(|e| {
                    format!(
                        "  {} {} {} {} due={:?} to={:?}",
                        e.on, e.rule, e.step, e.child, e.due, e.recipients
                    )
                })
                .collect::<Vec<_>>()
                .join("\n")
        };
        Err(format!(
            "expected:\n{}\ngot:\n{}",
            show(&expect),
            show(&got)
        ))
    }
}
