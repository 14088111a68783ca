//! Golden figures: a synthetic region whose expected figures the test computes on its own,
//! from the scenario it generated (not from the log), on three peildata, with facts that
//! arrive late.

use jiff::civil::{date, Date};
use jiff::Timestamp;
use schakel_core::domain::dates::DatePrecision;
use schakel_core::domain::events::{
    ChildRef, LeerplichtData, LeerplichtEvent, SchoolEvent, SchoolRef, SourceEvent,
};
use schakel_core::domain::ids::ChildKey;

use super::figures::{thuiszitters_by_duration, thuiszitters_by_kind, vrijstellingen, AsOf, Scope};
use super::log::Log;

mod handoffs;
mod region;
mod rows;
mod thuiszitters;
use region::*;

/// The end of a day in the Netherlands (a fact received by then is known on that day).
fn end_of(d: Date) -> Timestamp {
    d.tomorrow()
        .unwrap()
        .to_zoned(jiff::tz::TimeZone::get("Europe/Amsterdam").unwrap())
        .unwrap()
        .timestamp()
        .checked_sub(jiff::SignedDuration::from_secs(1))
        .unwrap()
}

fn at(d: Date) -> Timestamp {
    d.to_zoned(jiff::tz::TimeZone::get("Europe/Amsterdam").unwrap())
        .unwrap()
        .timestamp()
        .checked_add(jiff::SignedDuration::from_hours(10))
        .unwrap()
}
