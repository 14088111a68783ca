//! The units policy values are written in: ages (`16y6m`) and days of the year (`04-15`),
//! parsed when the config is read.

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
