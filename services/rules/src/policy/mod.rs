//! Regional policy: every age, date and delay a rule uses, with the defaults of DOMAIN.md.
//!
//! Nothing a rule decides on is a constant in code: a region changes it in `[policy.*]` of its
//! config, and every signal names the policy values that made it fire.
//!
//! `sections` holds the sections and their defaults, `units` the ages and days of the year
//! values are written in, `school_year` the school-year calendar; `check` refuses a policy
//! that cannot work, and `cite` names every value as signals cite it.

mod check;
mod cite;
mod school_year;
mod sections;
mod units;

use crate::state::{is_gemeente_code, Gemeente};
use serde::Deserialize;

pub use school_year::{SchoolYear, SchoolYearDates};
pub use sections::{
    AdulthoodPolicy, HandoffPolicy, LeerplichtPolicy, RegionPolicy, RetentionPolicy, RoutingPolicy,
    SchoolYearOverride, SchoolYearPolicy, ThuiszitterPolicy, VerzuimJeugdhulpPolicy,
    VoorschoolPolicy,
};
pub use units::{Age, MonthDay};

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
    /// the peildata and small-number thresholds of the Leerplein's figures (the monitor's)
    #[serde(default)]
    pub monitoring: schakel_core::domain::monitoring::MonitoringPolicy,
}

impl Policy {
    /// Whether the municipality `g` is in the region (every one is when the region names
    /// none).
    pub fn in_region(&self, g: Gemeente) -> bool {
        let list = &self.region.municipalities;
        list.is_empty() || list.iter().any(|x| is_gemeente_code(x, g))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::Date;

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
