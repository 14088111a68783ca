//! Birth dates as they are known, and ages computed from them.

use jiff::civil::Date;
use jiff::Span;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// How much of a birth date is known (iJw `DatumGebruik`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum DatePrecision {
    #[default]
    Day,
    Month,
    Year,
}

impl DatePrecision {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "day" => Some(Self::Day),
            "month" => Some(Self::Month),
            "year" => Some(Self::Year),
            _ => None,
        }
    }
}

/// A birth date with its precision. Age rules use the earliest possible date and say so.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct BirthDate {
    date: Date,
    precision: DatePrecision,
}

impl BirthDate {
    /// Normalises an imprecise date to the earliest day it can mean.
    pub fn new(date: Date, precision: DatePrecision) -> Self {
        let date = match precision {
            DatePrecision::Day => date,
            DatePrecision::Month => date.first_of_month(),
            DatePrecision::Year => date.first_of_year(),
        };
        Self { date, precision }
    }

    /// The earliest day the child can have been born on.
    pub fn earliest(&self) -> Date {
        self.date
    }

    pub fn precision(&self) -> DatePrecision {
        self.precision
    }

    pub fn is_uncertain(&self) -> bool {
        self.precision != DatePrecision::Day
    }

    /// The day the child reaches `years` years and `months` months, at the earliest.
    ///
    /// When the anniversary day does not exist in the target month (29 February in a common
    /// year, 31 August + 6 months), the age is reached on the first day of the next month, as
    /// Dutch law counts it: someone born on 29 February turns 18 on 1 March in a common year.
    ///
    /// Month arithmetic on plain numbers, for ages (`years` and `months` not negative): rules
    /// ask this several times of every child they look at (a test checks it against jiff's
    /// calendar arithmetic).
    pub fn reaches(&self, years: i16, months: i16) -> Date {
        let from = self.date;
        let total = (i32::from(from.year()) + i32::from(years)) * 12 + i32::from(from.month()) - 1
            + i32::from(months);
        let (Ok(year), Ok(month)) = (
            i16::try_from(total.div_euclid(12)),
            i8::try_from(total.rem_euclid(12) + 1),
        ) else {
            return Date::MAX;
        };
        if !(-9999..=9999).contains(&year) {
            return Date::MAX;
        }
        match Date::new(year, month, from.day()) {
            Ok(d) => d,
            // no such day in that month: the first of the next
            Err(_) => {
                let last = Date::new(year, month, 1)
                    .expect("the first of a month in range")
                    .last_of_month();
                last.tomorrow().unwrap_or(last)
            }
        }
    }
}

/// Parses `YYYY-MM-DD`.
pub fn parse_date(s: &str) -> Option<Date> {
    if s.len() != 10 {
        return None;
    }
    s.parse::<Date>().ok()
}

/// Days since 1970-01-01, the Avro `date` logical type.
pub fn to_epoch_days(d: Date) -> i32 {
    let epoch = Date::constant(1970, 1, 1);
    (d - epoch).get_days()
}

/// The inverse of [`to_epoch_days`].
pub fn from_epoch_days(days: i32) -> Option<Date> {
    let epoch = Date::constant(1970, 1, 1);
    // an out-of-range count (e.g. from a corrupt record) is None, never a panic
    let span = Span::new().try_days(i64::from(days)).ok()?;
    epoch.checked_add(span).ok()
}

/// Parses durations written as `5s`, `30m`, `2h`, `1d` or ISO 8601 (`PT5M`).
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    if let Some(days) = s
        .strip_suffix('d')
        .and_then(|d| d.trim().parse::<u64>().ok())
    {
        return Ok(Duration::from_secs(days * 86_400));
    }
    let d: jiff::SignedDuration = s
        .parse()
        .map_err(|e| format!("invalid duration {s:?}: {e}"))?;
    Duration::try_from(d).map_err(|_| format!("negative duration {s:?}"))
}

pub fn de_duration<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    let s = <String as serde::Deserialize>::deserialize(d)?;
    parse_duration(&s).map_err(serde::de::Error::custom)
}

pub fn de_durations<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<Duration>, D::Error> {
    let v = <Vec<String> as serde::Deserialize>::deserialize(d)?;
    v.iter()
        .map(|s| parse_duration(s).map_err(serde::de::Error::custom))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// What `reaches` computed with jiff's calendar arithmetic, before it did it on numbers.
    fn reaches_by_span(b: &BirthDate, years: i16, months: i16) -> Date {
        let span = Span::new().years(years).months(months);
        match b.earliest().checked_add(span) {
            Ok(d) if d.day() < b.earliest().day() => d.last_of_month().tomorrow().unwrap_or(d),
            Ok(d) => d,
            Err(_) => Date::MAX,
        }
    }

    #[test]
    fn ages_on_numbers_are_the_calendar_s() {
        let mut day = Date::constant(1999, 1, 1);
        while day < Date::constant(2013, 1, 1) {
            let b = BirthDate::new(day, DatePrecision::Day);
            for (years, months) in [
                (0, 0),
                (3, 6),
                (3, 10),
                (4, 0),
                (5, 0),
                (16, 6),
                (17, 6),
                (18, 0),
                (23, 11),
                (0, 1),
                (1, 13),
                (30, 11),
            ] {
                assert_eq!(
                    b.reaches(years, months),
                    reaches_by_span(&b, years, months),
                    "{day} + {years}y{months}m"
                );
            }
            day = day.tomorrow().expect("a day");
        }
        for (d, y) in [
            (Date::constant(9998, 12, 31), 1),
            (Date::constant(9999, 12, 31), 0),
            (Date::constant(2000, 1, 1), 9000),
        ] {
            let b = BirthDate::new(d, DatePrecision::Day);
            assert_eq!(b.reaches(y, 1), reaches_by_span(&b, y, 1), "{d} + {y}y1m");
        }
    }

    #[test]
    fn ages() {
        let b = BirthDate::new(Date::constant(2008, 5, 31), DatePrecision::Day);
        assert_eq!(b.reaches(17, 6), Date::constant(2025, 12, 1));
        assert_eq!(b.reaches(18, 0), Date::constant(2026, 5, 31));
        let leap = BirthDate::new(Date::constant(2008, 2, 29), DatePrecision::Day);
        assert_eq!(leap.reaches(18, 0), Date::constant(2026, 3, 1));
        assert_eq!(leap.reaches(16, 0), Date::constant(2024, 2, 29));
        let end_of_august = BirthDate::new(Date::constant(2022, 8, 31), DatePrecision::Day);
        assert_eq!(end_of_august.reaches(3, 6), Date::constant(2026, 3, 1));
        let month = BirthDate::new(Date::constant(2008, 5, 17), DatePrecision::Month);
        assert_eq!(month.earliest(), Date::constant(2008, 5, 1));
        assert!(month.is_uncertain());
        let year = BirthDate::new(Date::constant(2008, 5, 17), DatePrecision::Year);
        assert_eq!(year.earliest(), Date::constant(2008, 1, 1));
    }

    #[test]
    fn date_parsing() {
        assert_eq!(parse_date("2024-02-29"), Some(Date::constant(2024, 2, 29)));
        assert_eq!(parse_date("2023-02-29"), None);
        assert_eq!(parse_date("2024-2-9"), None);
        assert_eq!(parse_date("20240209"), None);
    }

    #[test]
    fn out_of_range_epoch_days_are_refused() {
        assert_eq!(from_epoch_days(i32::MAX), None);
        assert_eq!(from_epoch_days(-7_304_485), None);
    }

    proptest! {
        #[test]
        fn epoch_days_roundtrip(days in -50_000i32..50_000) {
            let d = from_epoch_days(days).unwrap();
            prop_assert_eq!(to_epoch_days(d), days);
        }
    }
}
