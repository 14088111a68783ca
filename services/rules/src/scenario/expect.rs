//! What a scenario expects (signal steps and refused answers), and the comparison of what the
//! engine produced with it.

use std::collections::BTreeMap;

use jiff::civil::Date;
use schakel_core::domain::events::SignalEvent;
use schakel_core::domain::ids::ChildKey;
use serde::Deserialize;

use super::Scenario;

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
    #[serde(default)]
    pub municipality: Option<String>,
    /// role → institution, checked when given
    #[serde(default)]
    pub routes: Option<BTreeMap<String, String>>,
}

/// A handoff answer a scenario expects to be refused.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectedRefusal {
    /// the id of the refused answer
    pub id: String,
    /// a part of the reason
    pub reason: String,
}

impl Scenario {
    pub fn name_of(&self, key: &ChildKey) -> String {
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
                municipality: want
                    .and_then(|w| w.municipality.as_ref().map(|_| s.municipality.clone()))
                    .flatten(),
                routes: want.and_then(|w| w.routes.as_ref().map(|_| s.routes.clone())),
            })
            .collect();
        if got == expect {
            return Ok(());
        }
        let show = |v: &[Expected]| {
            v.iter()
                .map(|e| {
                    format!(
                        "  {} {} {} {} due={:?} to={:?} in={:?} routes={:?}",
                        e.on,
                        e.rule,
                        e.step,
                        e.child,
                        e.due,
                        e.recipients,
                        e.municipality,
                        e.routes
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

    /// Compares refused answers with the expected refusals.
    pub fn check_refusals(&self, got: &[(String, String)]) -> Result<(), String> {
        let ok = got.len() == self.refusals.len()
            && got
                .iter()
                .zip(&self.refusals)
                .all(|((id, reason), want)| *id == want.id && reason.contains(&want.reason));
        if ok {
            Ok(())
        } else {
            Err(format!(
                "refusals expected {:?}, got {got:?}",
                self.refusals
                    .iter()
                    .map(|r| (&r.id, &r.reason))
                    .collect::<Vec<_>>()
            ))
        }
    }
}
