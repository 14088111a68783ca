//! Regional policy: every age, date and delay a rule uses, with the defaults of DOMAIN.md.
//!
//! Nothing a rule decides on is a constant in code: a region changes it in `[policy.*]` of its
//! config, and every signal names the policy values that made it fire.

use std::collections::BTreeMap;
use std::fmt;

use jiff::civil::Date;
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

/// A day of the year written `MM-DD` (`04-15` is 15 April).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct MonthDay {
    pub month: i8,
    pub day: i8,
}

impl MonthDay {
    pub const fn new(month: i8, day: i8) -> Self {
        Self { month, day }
    }

    pub fn parse(s: &str) -> Result<Self, String> {
        let bad = || format!("invalid day {s:?}: write it as MM-DD, e.g. 04-15");
        let (m, d) = s.split_once('-').ok_or_else(bad)?;
        let (month, day) = (
            m.parse::<i8>().map_err(|_| bad())?,
            d.parse::<i8>().map_err(|_| bad())?,
        );
        // 2024 is a leap year, so 02-29 is accepted (and clamps in common years)
        Date::new(2024, month, day).map_err(|_| bad())?;
        Ok(Self { month, day })
    }

    /// This day in calendar year `year` (29 February becomes 28 February in a common year).
    pub fn in_year(&self, year: i16) -> Date {
        Date::new(year, self.month, self.day)
            .or_else(|_| Date::new(year, self.month, 28))
            .unwrap_or(Date::MAX)
    }
}

impl fmt::Display for MonthDay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}-{:02}", self.month, self.day)
    }
}

impl<'de> Deserialize<'de> for MonthDay {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        MonthDay::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// All policy values of a region.
#[derive(Debug, Clone, Deserialize, Default, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    #[serde(default)]
    pub region: RegionPolicy,
    #[serde(default)]
    pub voorschool: VoorschoolPolicy,
    #[serde(default)]
    pub leerplicht: LeerplichtPolicy,
    #[serde(default)]
    pub school_year: SchoolYearPolicy,
    #[serde(default)]
    pub adulthood: AdulthoodPolicy,
    #[serde(default)]
    pub thuiszitter: ThuiszitterPolicy,
    #[serde(default)]
    pub verzuim_jeugdhulp: VerzuimJeugdhulpPolicy,
    #[serde(default)]
    pub handoff: HandoffPolicy,
    #[serde(default)]
    pub routing: RoutingPolicy,
    #[serde(default)]
    pub retention: RetentionPolicy,
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
        let v = &self.voorschool;
        if !(v.handoff_age.total_months() < v.no_application_age.total_months()
            && v.no_application_age.total_months() <= v.po_start_age.total_months())
        {
            return Err(
                "policy.voorschool: handoff_age < no_application_age <= po_start_age must hold"
                    .into(),
            );
        }
        for label in self.school_year.years.keys() {
            SchoolYear::parse(label)
                .map_err(|e| format!("policy.school_year.years.{label:?}: {e}"))?;
        }
        let code = |m: &str| m.len() == 4 && m.bytes().all(|b| b.is_ascii_digit());
        for m in &self.region.municipalities {
            if !code(m) {
                return Err(format!(
                    "policy.region.municipalities: {m:?} is not a 4-digit gemeentecode"
                ));
            }
        }
        for (school, m) in &self.routing.school_municipality {
            if !school.starts_with("school:") {
                return Err(format!(
                    "policy.routing.school_municipality: {school:?} is not school:<BRIN>"
                ));
            }
            if !code(m) {
                return Err(format!(
                    "policy.routing.school_municipality.{school:?}: {m:?} is not a 4-digit gemeentecode"
                ));
            }
        }
        let positive = [
            (
                "policy.leerplicht.school_change_days",
                self.leerplicht.school_change_days,
            ),
            (
                "policy.leerplicht.late_window_days",
                self.leerplicht.late_window_days,
            ),
            (
                "policy.thuiszitter.reminder_days",
                self.thuiszitter.reminder_days,
            ),
            (
                "policy.thuiszitter.min_days_out",
                self.thuiszitter.min_days_out,
            ),
            (
                "policy.handoff.cancel_grace_days",
                self.handoff.cancel_grace_days,
            ),
        ];
        for (name, v) in positive {
            if v <= 0 {
                return Err(format!("{name} must be positive, got {v}"));
            }
        }
        Ok(())
    }

    /// The dates of school year `sy`: the defaults, with the region's overrides for that year.
    pub fn school_year_dates(&self, sy: SchoolYear) -> SchoolYearDates {
        let p = &self.school_year;
        let at = |md: MonthDay| sy.date_of(md, p.start);
        let mut d = SchoolYearDates {
            start: p.start.in_year(sy.0),
            vo_application_deadline: at(p.vo_application_deadline),
            vo_escalation: at(p.vo_escalation),
            vo_handoff_due: at(p.vo_handoff_due),
            vo_enrolled_check: sy.next().date_of(p.vo_enrolled_check, p.start),
        };
        if let Some(o) = p.years.get(&sy.to_string()) {
            d.start = o.start.unwrap_or(d.start);
            d.vo_application_deadline = o
                .vo_application_deadline
                .unwrap_or(d.vo_application_deadline);
            d.vo_escalation = o.vo_escalation.unwrap_or(d.vo_escalation);
            d.vo_handoff_due = o.vo_handoff_due.unwrap_or(d.vo_handoff_due);
            d.vo_enrolled_check = o.vo_enrolled_check.unwrap_or(d.vo_enrolled_check);
        }
        d
    }

    /// The school year a date falls in.
    pub fn school_year_of(&self, d: Date) -> SchoolYear {
        let start = self.school_year.start;
        if (d.month(), d.day()) >= (start.month, start.day) {
            SchoolYear(d.year())
        } else {
            SchoolYear(d.year() - 1)
        }
    }

    /// Whether gemeentecode `m` is in the region (every code is, when none are listed).
    pub fn in_region(&self, m: &str) -> bool {
        let list = &self.region.municipalities;
        list.is_empty() || list.iter().any(|x| x == m)
    }

    /// Every policy value by its dotted name, as signals cite them.
    pub fn value(&self, key: &str) -> Option<String> {
        let s = &self.school_year;
        let v = match key {
            "voorschool.handoff_age" => self.voorschool.handoff_age.to_string(),
            "voorschool.no_application_age" => self.voorschool.no_application_age.to_string(),
            "voorschool.po_start_age" => self.voorschool.po_start_age.to_string(),
            "voorschool.escalation_school_days" => {
                self.voorschool.escalation_school_days.to_string()
            }
            "leerplicht.start_age" => self.leerplicht.start_age.to_string(),
            "leerplicht.end_age" => self.leerplicht.end_age.to_string(),
            "leerplicht.school_change_days" => self.leerplicht.school_change_days.to_string(),
            "leerplicht.late_window_days" => self.leerplicht.late_window_days.to_string(),
            "school_year.start" => s.start.to_string(),
            "school_year.vo_application_deadline" => s.vo_application_deadline.to_string(),
            "school_year.vo_escalation" => s.vo_escalation.to_string(),
            "school_year.vo_handoff_due" => s.vo_handoff_due.to_string(),
            "school_year.vo_handoff_escalation_days" => s.vo_handoff_escalation_days.to_string(),
            "school_year.vo_enrolled_check" => s.vo_enrolled_check.to_string(),
            "adulthood.planning_age" => self.adulthood.planning_age.to_string(),
            "adulthood.handoff_age" => self.adulthood.handoff_age.to_string(),
            "adulthood.adult_age" => self.adulthood.adult_age.to_string(),
            "adulthood.escalation_days" => self.adulthood.escalation_days.to_string(),
            "adulthood.follow_up_grace_days" => self.adulthood.follow_up_grace_days.to_string(),
            "thuiszitter.min_days_out" => self.thuiszitter.min_days_out.to_string(),
            "thuiszitter.reminder_days" => self.thuiszitter.reminder_days.to_string(),
            "thuiszitter.escalation_months" => self.thuiszitter.escalation_months.to_string(),
            "verzuim_jeugdhulp.enabled" => self.verzuim_jeugdhulp.enabled.to_string(),
            "handoff.remind_days_before_due" => self.handoff.remind_days_before_due.to_string(),
            "handoff.cancel_grace_days" => self.handoff.cancel_grace_days.to_string(),
            "retention.identity_years" => self.retention.identity_years.to_string(),
            _ => return None,
        };
        Some(v)
    }
}

/// A school year, named by the calendar year it starts in (`2025` is 2025-2026).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SchoolYear(pub i16);

impl SchoolYear {
    /// Parses `2025-2026`.
    pub fn parse(s: &str) -> Result<Self, String> {
        let bad = || format!("{s:?} is not a school year like 2025-2026");
        let (a, b) = s.split_once('-').ok_or_else(bad)?;
        let (a, b) = (
            a.parse::<i16>().map_err(|_| bad())?,
            b.parse::<i16>().map_err(|_| bad())?,
        );
        if b != a + 1 {
            return Err(bad());
        }
        Ok(Self(a))
    }

    pub fn next(&self) -> Self {
        Self(self.0 + 1)
    }

    /// The date of `md` within this school year, which starts on `start`.
    pub fn date_of(&self, md: MonthDay, start: MonthDay) -> Date {
        if md >= start {
            md.in_year(self.0)
        } else {
            md.in_year(self.0 + 1)
        }
    }
}

impl fmt::Display for SchoolYear {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.0, self.0 + 1)
    }
}

/// The dates of one school year that rules use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SchoolYearDates {
    pub start: Date,
    pub vo_application_deadline: Date,
    pub vo_escalation: Date,
    pub vo_handoff_due: Date,
    /// in the following school year: groep-8 pupils of this year must be enrolled by then
    pub vo_enrolled_check: Date,
}

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

    #[test]
    fn school_year_dates_follow_the_calendar_and_overrides() {
        let mut p = Policy::default();
        let sy = p.school_year_of(Date::constant(2026, 3, 1));
        assert_eq!(sy, SchoolYear(2025));
        assert_eq!(sy.to_string(), "2025-2026");
        assert_eq!(
            p.school_year_of(Date::constant(2026, 8, 1)),
            SchoolYear(2026)
        );
        let d = p.school_year_dates(sy);
        assert_eq!(d.start, Date::constant(2025, 8, 1));
        assert_eq!(d.vo_application_deadline, Date::constant(2026, 4, 15));
        assert_eq!(d.vo_escalation, Date::constant(2026, 6, 1));
        assert_eq!(d.vo_handoff_due, Date::constant(2026, 7, 1));
        assert_eq!(d.vo_enrolled_check, Date::constant(2026, 10, 1));
        p.school_year.years.insert(
            "2025-2026".into(),
            SchoolYearOverride {
                vo_application_deadline: Some(Date::constant(2026, 4, 14)),
                ..Default::default()
            },
        );
        let d = p.school_year_dates(sy);
        assert_eq!(d.vo_application_deadline, Date::constant(2026, 4, 14));
        assert_eq!(d.vo_escalation, Date::constant(2026, 6, 1));
    }

    #[test]
    fn policy_reads_from_toml_and_refuses_nonsense() {
        let p: Policy = toml::from_str(
            "[school_year]\nvo_application_deadline = \"04-14\"\n[school_year.years.\"2026-2027\"]\nvo_escalation = \"2027-05-31\"\n[verzuim_jeugdhulp]\nenabled = true",
        )
        .unwrap();
        assert!(p.verzuim_jeugdhulp.enabled);
        assert_eq!(
            p.value("school_year.vo_application_deadline").unwrap(),
            "04-14"
        );
        assert!(p.check().is_ok());
        assert!(toml::from_str::<Policy>("[school_year]\nvo_escalation = \"13-01\"").is_err());
        assert!(toml::from_str::<Policy>("[thuiszitter]\nreminder_weeks = 6").is_err());
        let bad: Policy = toml::from_str("[school_year.years.\"2026\"]\n").unwrap();
        assert!(bad.check().is_err());
    }
}
