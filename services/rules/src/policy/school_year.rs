//! The school-year calendar: which school year a day falls in, and the dates rules use in a
//! school year (the region's days of the year, or its exact dates for that year).

use std::fmt;

use jiff::civil::Date;

use super::{MonthDay, Policy, SchoolYearOverride};

impl Policy {
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
        if let Some(o) = self.school_year_override(sy) {
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

    /// The first day of school year `sy`: what most rules need of it, without its other dates.
    pub fn school_year_start(&self, sy: SchoolYear) -> Date {
        let start = self.school_year.start.in_year(sy.0);
        self.school_year_override(sy)
            .and_then(|o| o.start)
            .unwrap_or(start)
    }

    /// The region's dates for `sy`, when it overrides that year (most regions override none:
    /// no name is made for the lookup then).
    fn school_year_override(&self, sy: SchoolYear) -> Option<&SchoolYearOverride> {
        let years = &self.school_year.years;
        if years.is_empty() {
            return None;
        }
        years.get(&sy.to_string())
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
