//! The sections of `[policy.*]`: one struct per section, each field with the default of
//! DOMAIN.md that applies when the region leaves it out.

use std::collections::BTreeMap;

use jiff::civil::Date;
use serde::Deserialize;

use super::{Age, MonthDay};

/// Which municipalities form the region.
#[derive(Debug, Clone, Deserialize, Default, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RegionPolicy {
    /// Gemeentecodes of the region; a child who moves elsewhere has moved away, and open
    /// handoff tasks are cancelled. Empty (the default): every municipality is in the region.
    #[serde(default)]
    pub municipalities: Vec<String>,
}

/// R1a/R1b: voorschool → PO.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct VoorschoolPolicy {
    /// R1a: open the handoff vve-mentor → ib when a PO aanmelding is known (default 3y6m).
    pub handoff_age: Age,
    /// R1b: signal when no PO aanmelding is known (default 3y10m).
    pub no_application_age: Age,
    /// The PO start (R1a due date) when no enrolment names a start date (default 4y).
    pub po_start_age: Age,
    /// R1a: school days (Monday–Friday) after the due date until escalation (default 10).
    pub escalation_school_days: i32,
}

impl Default for VoorschoolPolicy {
    fn default() -> Self {
        Self {
            handoff_age: Age::new(3, 6),
            no_application_age: Age::new(3, 10),
            po_start_age: Age::new(4, 0),
            escalation_school_days: 10,
        }
    }
}

/// R1c, R2c, R5: leerplicht.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct LeerplichtPolicy {
    /// Leerplicht starts on the first day of the month after this birthday (default 5y).
    pub start_age: Age,
    /// Leerplicht ends at the end of the school year in which the child reaches this age
    /// (default 16y).
    pub end_age: Age,
    /// R5: days after an uitschrijving within which a new inschrijving must follow (default 7).
    pub school_change_days: i32,
    /// How long after its moment a late fact can still raise R1c, R2c or R5 (default 90).
    pub late_window_days: i32,
}

impl Default for LeerplichtPolicy {
    fn default() -> Self {
        Self {
            start_age: Age::new(5, 0),
            end_age: Age::new(16, 0),
            school_change_days: 7,
            late_window_days: 90,
        }
    }
}

/// The school-year calendar (R2), as days of the year, with per-year overrides.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct SchoolYearPolicy {
    /// First day of the school year (default 08-01).
    pub start: MonthDay,
    /// R2a: a groep-8 pupil without a VO aanmelding on this day is signalled (default 04-15).
    pub vo_application_deadline: MonthDay,
    /// R2a: escalation to the SWV if there is still none (default 06-01).
    pub vo_escalation: MonthDay,
    /// R2b: the PO → VO handoff is due (default 07-01).
    pub vo_handoff_due: MonthDay,
    /// R2b: days after the due date until escalation to the SWV (default 14).
    pub vo_handoff_escalation_days: i32,
    /// R2c: in the next school year, the former groep-8 pupil must be enrolled (default 10-01).
    pub vo_enrolled_check: MonthDay,
    /// Exact dates for particular school years (`[policy.school_year.years."2025-2026"]`).
    pub years: BTreeMap<String, SchoolYearOverride>,
}

impl Default for SchoolYearPolicy {
    fn default() -> Self {
        Self {
            start: MonthDay::new(8, 1),
            vo_application_deadline: MonthDay::new(4, 15),
            vo_escalation: MonthDay::new(6, 1),
            vo_handoff_due: MonthDay::new(7, 1),
            vo_handoff_escalation_days: 14,
            vo_enrolled_check: MonthDay::new(10, 1),
            years: BTreeMap::new(),
        }
    }
}

/// Exact dates of one school year; what is left out keeps the default.
#[derive(Debug, Clone, Deserialize, Default, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SchoolYearOverride {
    pub start: Option<Date>,
    pub vo_application_deadline: Option<Date>,
    pub vo_escalation: Option<Date>,
    pub vo_handoff_due: Option<Date>,
    pub vo_enrolled_check: Option<Date>,
}

/// R3: the transition from youth care (Jeugdwet) to adult frameworks at 18.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct AdulthoodPolicy {
    /// R3a: plan the transition (default 16y6m).
    pub planning_age: Age,
    /// R3b and R3d: open the warm-handoff tasks jeugdteam → volwassenen and leerplicht → rmc
    /// (default 17y6m).
    pub handoff_age: Age,
    /// The age of majority; R3b and R3d are due then and R3c checks follow-up then (default 18y).
    pub adult_age: Age,
    /// R3b: days after the due date until an open task escalates to `doorbraak` (default 14).
    pub escalation_days: i32,
    /// R3c: how long after the 18th birthday a late fact can still raise the signal (default 90).
    pub follow_up_grace_days: i32,
}

impl Default for AdulthoodPolicy {
    fn default() -> Self {
        Self {
            planning_age: Age::new(16, 6),
            handoff_age: Age::new(17, 6),
            adult_age: Age::new(18, 0),
            escalation_days: 14,
            follow_up_grace_days: 90,
        }
    }
}

/// R4: thuiszitters.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct ThuiszitterPolicy {
    /// An episode is signalled once the child is out of school this many days (default 28).
    pub min_days_out: i32,
    /// Reminder this many days after the episode start (default 42: 6 weeks).
    pub reminder_days: i32,
    /// Escalation to `doorbraak` this many months after the start without passend aanbod
    /// (default 3).
    pub escalation_months: i32,
}

impl Default for ThuiszitterPolicy {
    fn default() -> Self {
        Self {
            min_days_out: 28,
            reminder_days: 42,
            escalation_months: 3,
        }
    }
}

/// R6: sharing verzuim with youth care needs a regional legal basis; off by default.
#[derive(Debug, Clone, Deserialize, Default, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct VerzuimJeugdhulpPolicy {
    pub enabled: bool,
}

/// The warm-handoff lifecycle shared by every task.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct HandoffPolicy {
    /// Days before the due date at which an open task is `reminded` (default 3).
    pub remind_days_before_due: i32,
    /// Days a task must stay moot (care ended, child moved away, toelating withdrawn) before
    /// it is cancelled, so that an iJw correction (withdraw + re-issue) does not cancel it
    /// (default 7).
    pub cancel_grace_days: i32,
}

impl Default for HandoffPolicy {
    fn default() -> Self {
        Self {
            remind_days_before_due: 3,
            cancel_grace_days: 7,
        }
    }
}

/// How long identities are kept: a child's vault key is destroyed (crypto-shredding) once no
/// identity of the child has arrived for this many years.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct RetentionPolicy {
    /// Years after the last identity received (default 5).
    pub identity_years: i32,
}

impl Default for RetentionPolicy {
    fn default() -> Self {
        Self { identity_years: 5 }
    }
}

/// Where roles that belong to neither the child's school nor its municipality are found.
#[derive(Debug, Clone, Deserialize, Default, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct RoutingPolicy {
    /// The samenwerkingsverband (`swv:<code>`) whose `swv-consulent` receives escalations.
    pub swv: Option<String>,
    /// Per school (`school:<BRIN>`), its SWV when the region has more than one.
    pub school_swv: BTreeMap<String, String>,
    /// Per school (`school:<BRIN>`), the municipality (4-digit gemeentecode) it is in: a
    /// signal about a child whose residence no source reported goes to that municipality,
    /// and says so (`residenceDerivedFrom: school`).
    pub school_municipality: BTreeMap<String, String>,
}

impl RoutingPolicy {
    /// The SWV of a school: its own entry, else the region's.
    pub fn swv_of(&self, school: &str) -> Option<String> {
        self.school_swv
            .get(school)
            .cloned()
            .or_else(|| self.swv.clone())
    }
}
