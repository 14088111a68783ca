//! The data of the `school.*` types: enrolments, applications, admissions, advice and
//! support (a LAS publishes them).

use super::*;
use schakel_core::domain::catalogue::EventType;

const SECTORS: &[&str] = &["po", "vo", "so", "vso", "sbo", "mbo"];
const END_REASONS: &[&str] = &["verhuizing", "andere-school", "einde-onderwijs", "overig"];
const DECISIONS: &[&str] = &["toegelaten", "afgewezen"];
const ADVICE_KINDS: &[&str] = &["voorlopig", "definitief"];
const LEVELS: &[&str] = &[
    "pro",
    "vmbo-bb",
    "vmbo-bb/kb",
    "vmbo-kb",
    "vmbo-kb/gt",
    "vmbo-gt",
    "vmbo-gt/havo",
    "havo",
    "havo/vwo",
    "vwo",
];
const SUPPORTS: &[&str] = &["opp", "arrangement", "tlv", "oza", "kernteam"];

/// The data of a `school.*` type.
pub(super) fn data(ty: EventType, d: &Obj, f: &mut Fields<'_>) -> Option<Scoped> {
    let school_scope =
        |s: &SchoolRef| vec![("data.school.brin".to_owned(), format!("school:{}", s.brin))];
    match ty {
        EventType::EnrolmentRegistered => {
            let school = school_ref(d, "school", true, f);
            let sector = f.one_of(d, "data", "sector", SECTORS);
            let max = match sector.as_deref() {
                Some("vo" | "vso") => 6,
                Some("mbo") => 4,
                _ => 8,
            };
            let grade = f.integer(d, "data", "grade", 1..=max);
            let start = f.date(d, "data", "startDate", true);
            let school = school?;
            Some((
                school_scope(&school),
                Body::School(SchoolData::EnrolmentRegistered {
                    school,
                    sector: sector?,
                    grade: grade? as i32,
                    start_date: start?,
                }),
            ))
        }
        EventType::EnrolmentEnded => {
            let school = school_ref(d, "school", true, f);
            let end = f.date(d, "data", "endDate", true);
            let reason = f.one_of(d, "data", "reason", END_REASONS);
            let destination = school_ref(d, "destination", false, f);
            let startkwalificatie = f.boolean(d, "data", "startkwalificatie", false);
            let school = school?;
            Some((
                school_scope(&school),
                Body::School(SchoolData::EnrolmentEnded {
                    school,
                    end_date: end?,
                    reason: reason?,
                    destination,
                    startkwalificatie,
                }),
            ))
        }
        EventType::ApplicationRegistered => {
            let school = school_ref(d, "school", true, f);
            let date = f.date(d, "data", "date", true);
            let school = school?;
            Some((
                school_scope(&school),
                Body::School(SchoolData::ApplicationRegistered {
                    school,
                    date: date?,
                }),
            ))
        }
        EventType::AdmissionDecided => {
            let school = school_ref(d, "school", true, f);
            let date = f.date(d, "data", "date", true);
            let decision = f.one_of(d, "data", "decision", DECISIONS);
            let school = school?;
            Some((
                school_scope(&school),
                Body::School(SchoolData::AdmissionDecided {
                    school,
                    date: date?,
                    decision: decision?,
                }),
            ))
        }
        EventType::AdviceGiven => {
            let kind = f.one_of(d, "data", "kind", ADVICE_KINDS);
            let level = f.one_of(d, "data", "level", LEVELS);
            let date = f.date(d, "data", "date", true);
            Some((
                Vec::new(),
                Body::School(SchoolData::AdviceGiven {
                    kind: kind?,
                    level: level?,
                    date: date?,
                }),
            ))
        }
        EventType::SupportStarted | EventType::SupportEnded => {
            let school = school_ref(d, "school", true, f);
            let support = f.one_of(d, "data", "support", SUPPORTS);
            let date = f.date(d, "data", "date", true);
            let (school, support, date) = (school?, support?, date?);
            let scope = school_scope(&school);
            let data = if ty == EventType::SupportStarted {
                SchoolData::SupportStarted {
                    school,
                    support,
                    date,
                }
            } else {
                SchoolData::SupportEnded {
                    school,
                    support,
                    date,
                }
            };
            Some((scope, Body::School(data)))
        }
        _ => unknown_type(f),
    }
}
