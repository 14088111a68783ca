//! What the figures are counted from: per child, the facts that matter to the Leerplein, each
//! with the moment the log received it (the broker's append time). A figure "as it was known
//! on 1 April" counts the facts received by then; the same figure "as known now" counts every
//! fact about the days before the peildatum, late ones included. Both come from the log
//! alone, so they are the same every time they are computed.

use std::collections::HashMap;

use jiff::civil::Date;
use jiff::Timestamp;
use schakel_core::domain::events::{
    ChildRef, JeugdhulpData, JeugdhulpEvent, LeerplichtData, LeerplichtEvent, SchoolData,
    SchoolEvent,
};

/// A fact about a child, as the figures need it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fact {
    /// enrolled at `school` (an institution id) from `start`
    Enrolled { school: String, start: Date },
    /// unenrolled from `school` on `end`
    Unenrolled { school: String, end: Date },
    /// a thuiszitter registration: out of school since `since`
    Thuiszitter { since: Date },
    /// a passend aanbod from `date`
    ThuiszitterResolved { date: Date, offer: String },
    /// a verzuim melding
    Verzuim {
        nr: String,
        kind: String,
        first_absence: Date,
        school: String,
    },
    /// a melding's new status (its date is the day it became known)
    VerzuimStatus { nr: String, status: String },
    /// a vrijstelling granted (`ended`: the end of one recorded)
    Vrijstelling {
        kind: String,
        from: Date,
        until: Option<Date>,
        ended: bool,
    },
    /// youth care assigned (`nr`), from `from` to `until`
    Care {
        nr: String,
        from: Date,
        until: Option<Date>,
    },
    /// an assignment withdrawn on `date`
    CareWithdrawn { nr: String, date: Date },
}

/// A fact with the moment the log received it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Known {
    /// the source event's (source, id): a fact sent again counts once
    pub id: (String, String),
    pub at: Timestamp,
    pub fact: Fact,
}

/// One child's facts, in the order the log received them.
#[derive(Debug, Clone)]
pub struct ChildLog {
    pub birth: Date,
    /// the municipality of residence, as the newest fact said it
    pub residence: Option<String>,
    pub facts: Vec<Known>,
}

/// Every child's facts, by ChildKey, and how far each source system delivered.
#[derive(Debug, Default)]
pub struct Log {
    pub children: HashMap<String, ChildLog>,
    /// per source system (the CloudEvents `source`): when the log received its newest fact
    pub sources: std::collections::BTreeMap<String, Timestamp>,
}

/// The day a moment falls on in the Netherlands.
pub fn day_of(t: Timestamp) -> Date {
    // looked up once: the figures ask this for millions of facts
    static ZONE: std::sync::OnceLock<jiff::tz::TimeZone> = std::sync::OnceLock::new();
    let zone = ZONE.get_or_init(|| {
        jiff::tz::TimeZone::get("Europe/Amsterdam").unwrap_or(jiff::tz::TimeZone::UTC)
    });
    zone.to_datetime(t).date()
}

fn school_id(s: &schakel_core::domain::events::SchoolRef) -> String {
    format!("school:{}", s.brin)
}

impl Log {
    fn delivered(&mut self, source: &str, at: Timestamp) {
        let e = self.sources.entry(source.to_owned()).or_insert(at);
        *e = (*e).max(at);
    }

    fn add(&mut self, id: (&str, &str), child: &ChildRef, at: Timestamp, fact: Option<Fact>) {
        let c = self
            .children
            .entry(child.child_key.as_str().to_owned())
            .or_insert_with(|| ChildLog {
                birth: child.birth_date,
                residence: None,
                facts: Vec::new(),
            });
        c.birth = child.birth_date;
        if child.residence_municipality.is_some() {
            c.residence = child.residence_municipality.clone();
        }
        if let Some(f) = fact {
            if !c.facts.iter().any(|k| k.id.0 == id.0 && k.id.1 == id.1) {
                c.facts.push(Known {
                    id: (id.0.to_owned(), id.1.to_owned()),
                    at,
                    fact: f,
                });
            }
        }
    }

    pub fn school(&mut self, e: &SchoolEvent, at: Timestamp) {
        let f = match &e.data {
            SchoolData::EnrolmentRegistered {
                school, start_date, ..
            } => Some(Fact::Enrolled {
                school: school_id(school),
                start: *start_date,
            }),
            SchoolData::EnrolmentEnded {
                school, end_date, ..
            } => Some(Fact::Unenrolled {
                school: school_id(school),
                end: *end_date,
            }),
            _ => None,
        };
        self.delivered(&e.source, at);
        self.add((&e.source, &e.id), &e.child, at, f);
    }

    pub fn leerplicht(&mut self, e: &LeerplichtEvent, at: Timestamp) {
        let f = match &e.data {
            LeerplichtData::VerzuimReported {
                school,
                meldingsnummer,
                kind,
                first_absence_date,
            } => Fact::Verzuim {
                nr: meldingsnummer.clone(),
                kind: kind.clone(),
                first_absence: *first_absence_date,
                school: school_id(school),
            },
            LeerplichtData::VerzuimStatusChanged {
                meldingsnummer,
                status,
            } => Fact::VerzuimStatus {
                nr: meldingsnummer.clone(),
                status: status.clone(),
            },
            LeerplichtData::VrijstellingGranted { kind, from, until } => Fact::Vrijstelling {
                kind: kind.clone(),
                from: *from,
                until: *until,
                ended: false,
            },
            LeerplichtData::VrijstellingEnded { kind, from, until } => Fact::Vrijstelling {
                kind: kind.clone(),
                from: *from,
                until: *until,
                ended: true,
            },
            LeerplichtData::ThuiszitterRegistered { since, .. } => {
                Fact::Thuiszitter { since: *since }
            }
            LeerplichtData::ThuiszitterResolved { date, offer } => Fact::ThuiszitterResolved {
                date: *date,
                offer: offer.clone(),
            },
        };
        self.delivered(&e.source, at);
        self.add((&e.source, &e.id), &e.child, at, Some(f));
    }

    pub fn jeugdhulp(&mut self, e: &JeugdhulpEvent, at: Timestamp) {
        let f = match &e.data {
            JeugdhulpData::AssignmentIssued {
                toewijzing_nummer,
                ingangsdatum,
                einddatum,
                ..
            } => Some(Fact::Care {
                nr: toewijzing_nummer.clone(),
                from: *ingangsdatum,
                until: *einddatum,
            }),
            JeugdhulpData::AssignmentWithdrawn {
                toewijzing_nummer,
                date,
            } => Some(Fact::CareWithdrawn {
                nr: toewijzing_nummer.clone(),
                date: *date,
            }),
            _ => None,
        };
        self.delivered(&e.source, at);
        self.add((&e.source, &e.id), &e.child, at, f);
    }

    /// Any other fact only tells the child's residence and birth date.
    pub fn child(&mut self, source: &str, child: &ChildRef, at: Timestamp) {
        self.delivered(source, at);
        self.add((source, ""), child, at, None);
    }
}
