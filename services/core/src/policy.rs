//! Regional policy: every age, date and delay a rule uses, with the defaults of DOMAIN.md.

use std::fmt;

use serde::{Deserialize, Deserializer};

/// An age written `16y6m`, `18y` or `3y10m`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Age {
    pub years: i16,
    pub months: i16,
}

impl Age {
    pub const fn new(years: i16, months: i16) -> Self {
        Self { years, months }
    }

    pub fn parse(s: &str) -> Result<Self, String> {
        let bad = || format!("invalid age {s:?}: write it as 16y6m or 18y");
        let (y, rest) = s.split_once('y').ok_or_else(bad)?;
        let years = y.parse::<i16>().map_err(|_| bad())?;
        let months = if rest.is_empty() {
            0
        } else {
            rest.strip_suffix('m')
                .ok_or_else(bad)?
                .parse::<i16>()
                .map_err(|_| bad())?
        };
        if !(0..12).contains(&months) || !(0..=30).contains(&years) {
            return Err(bad());
        }
        Ok(Self { years, months })
    }

    pub fn total_months(&self) -> i32 {
        i32::from(self.years) * 12 + i32::from(self.months)
    }
}

impl fmt::Display for Age {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.months == 0 {
            write!(f, "{}y", self.years)
        } else {
            write!(f, "{}y{}m", self.years, self.months)
        }
    }
}

impl<'de> Deserialize<'de> for Age {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Age::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// All policy values of a region.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    #[serde(default)]
    pub adulthood: AdulthoodPolicy,
    #[serde(default)]
    pub handoff: HandoffPolicy,
}

impl Policy {
    pub fn check(&self) -> Result<(), String> {
        let a = &self.adulthood;
        if !(a.planning_age.total_months() < a.handoff_age.total_months()
            && a.handoff_age.total_months() < a.adult_age.total_months())
        {
            return Err(
                "policy.adulthood: planning_age < handoff_age < adult_age must hold".into(),
            );
        }
        Ok(())
    }
}

/// R3: the transition from youth care (Jeugdwet) to adult frameworks at 18.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdulthoodPolicy {
    /// R3a: plan the transition (default 16y6m).
    #[serde(default = "d_planning")]
    pub planning_age: Age,
    /// R3b: open the warm-handoff task jeugdteam → volwassenen (default 17y6m).
    #[serde(default = "d_handoff")]
    pub handoff_age: Age,
    /// The age of majority; R3b is due then and R3c checks follow-up then (default 18y).
    #[serde(default = "d_adult")]
    pub adult_age: Age,
    /// R3b: days after the due date until an open task escalates to `doorbraak` (default 14).
    #[serde(default = "d_escalation")]
    pub escalation_days: i32,
    /// R3c: how long after the 18th birthday a late fact can still raise the signal (default 90).
    #[serde(default = "d_grace")]
    pub follow_up_grace_days: i32,
}

fn d_planning() -> Age {
    Age::new(16, 6)
}
fn d_handoff() -> Age {
    Age::new(17, 6)
}
fn d_adult() -> Age {
    Age::new(18, 0)
}
fn d_escalation() -> i32 {
    14
}
fn d_grace() -> i32 {
    90
}

impl Default for AdulthoodPolicy {
    fn default() -> Self {
        Self {
            planning_age: d_planning(),
            handoff_age: d_handoff(),
            adult_age: d_adult(),
            escalation_days: d_escalation(),
            follow_up_grace_days: d_grace(),
        }
    }
}

/// The warm-handoff lifecycle shared by every task.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HandoffPolicy {
    /// Days before the due date at which an open task is `reminded` (default 3).
    #[serde(default = "d_remind")]
    pub remind_days_before_due: i32,
}

fn d_remind() -> i32 {
    3
}

impl Default for HandoffPolicy {
    fn default() -> Self {
        Self {
            remind_days_before_due: d_remind(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_parse() {
        assert_eq!(Age::parse("16y6m").unwrap(), Age::new(16, 6));
        assert_eq!(Age::parse("18y").unwrap(), Age::new(18, 0));
        assert!(Age::parse("18").is_err());
        assert!(Age::parse("16y12m").is_err());
        assert_eq!(Age::new(3, 10).to_string(), "3y10m");
    }
}
