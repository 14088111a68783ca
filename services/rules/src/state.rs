//! What the rules engine remembers of one child, kept small: a region of a million children
//! must fit in a few hundred megabytes (see `make bench-rules`).

use jiff::civil::Date;
use schakel_core::domain::dates::BirthDate;
use schakel_core::domain::events::{ChildRef, SchoolRef};
use schakel_core::domain::handoff::Progress;
use serde::{Deserialize, Serialize};

use crate::rules::Rule;
use crate::signal::Step;

/// The id of the event a fact came from, for explanations. Up to 38 bytes (a UUID has 36) are
/// kept in the fact itself, longer ids on the heap: a fact costs no allocation of its own for
/// its id. Read as a `str`; written to a snapshot as a string, as before.
#[derive(Clone, PartialEq, Eq)]
pub struct FactId(IdRepr);

const INLINE_ID: usize = 38;

#[derive(Clone, PartialEq, Eq)]
enum IdRepr {
    /// the first `len` bytes of `buf` (the rest zero)
    Inline {
        len: u8,
        buf: [u8; INLINE_ID],
    },
    Heap(Box<str>),
}

impl From<&str> for FactId {
    fn from(s: &str) -> Self {
        if s.len() <= INLINE_ID {
            let mut buf = [0u8; INLINE_ID];
            buf[..s.len()].copy_from_slice(s.as_bytes());
            FactId(IdRepr::Inline {
                len: s.len() as u8,
                buf,
            })
        } else {
            FactId(IdRepr::Heap(s.into()))
        }
    }
}

impl std::ops::Deref for FactId {
    type Target = str;
    fn deref(&self) -> &str {
        match &self.0 {
            IdRepr::Inline { len, buf } => {
                std::str::from_utf8(&buf[..*len as usize]).expect("made from a str")
            }
            IdRepr::Heap(s) => s,
        }
    }
}

impl std::fmt::Debug for FactId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(&**self, f)
    }
}

impl Serialize for FactId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self)
    }
}

impl<'de> Deserialize<'de> for FactId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visit;
        impl serde::de::Visitor<'_> for Visit {
            type Value = FactId;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an event id")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<FactId, E> {
                Ok(FactId::from(v))
            }
        }
        d.deserialize_str(Visit)
    }
}

/// A vector that holds exactly its elements (16 bytes when empty, no spare capacity): a child
/// has a handful of facts, and a region a million children.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Slim<T>(Box<[T]>);

impl<T> Default for Slim<T> {
    fn default() -> Self {
        Self(Box::default())
    }
}

impl<T> Slim<T> {
    pub fn push(&mut self, v: T) {
        let len = self.0.len();
        self.insert(len, v);
    }

    pub fn insert(&mut self, at: usize, v: T) {
        let mut vec = std::mem::take(&mut self.0).into_vec();
        vec.reserve_exact(1);
        vec.insert(at, v);
        self.0 = vec.into_boxed_slice();
    }
}

impl<'a, T> IntoIterator for &'a Slim<T> {
    type Item = &'a T;
    type IntoIter = std::slice::Iter<'a, T>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl<'a, T> IntoIterator for &'a mut Slim<T> {
    type Item = &'a mut T;
    type IntoIter = std::slice::IterMut<'a, T>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter_mut()
    }
}

impl<T> std::ops::Deref for Slim<T> {
    type Target = [T];
    fn deref(&self) -> &[T] {
        &self.0
    }
}

impl<T> std::ops::DerefMut for Slim<T> {
    fn deref_mut(&mut self) -> &mut [T] {
        &mut self.0
    }
}

/// A school vestiging: BRIN (4 bytes) and vestigingsnummer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct School {
    brin: [u8; 4],
    vestiging: u8,
}

impl School {
    pub fn new(brin: &str, vestiging: &str) -> Self {
        let mut b = [b' '; 4];
        for (i, c) in brin.bytes().take(4).enumerate() {
            b[i] = c;
        }
        Self {
            brin: b,
            vestiging: vestiging.parse().unwrap_or(0),
        }
    }

    pub fn from_ref(r: &SchoolRef) -> Self {
        Self::new(&r.brin, &r.vestiging)
    }

    pub fn brin(&self) -> &str {
        std::str::from_utf8(&self.brin).unwrap_or("????").trim_end()
    }

    /// The institution id in the directory: `school:<BRIN>`.
    pub fn institution(&self) -> String {
        format!("school:{}", self.brin())
    }

    pub fn same_school(&self, other: &School) -> bool {
        self.brin == other.brin
    }
}

/// The sectors of an enrolment, as far as rules tell them apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Sector {
    /// po, sbo, so
    Primary,
    /// vo, vso
    Secondary,
    Mbo,
}

impl Sector {
    pub fn parse(s: &str) -> Self {
        match s {
            "po" | "sbo" | "so" => Sector::Primary,
            "mbo" => Sector::Mbo,
            _ => Sector::Secondary,
        }
    }
}

/// A gemeentecode in two bytes.
pub type Gemeente = u16;

pub fn gemeente(code: &str) -> Option<Gemeente> {
    code.parse().ok()
}

pub fn gemeente_code(g: Gemeente) -> String {
    format!("{g:04}")
}

/// One youth-care toewijzing, in its current version (latest `toewijzingTijdstip` wins).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assignment {
    pub nummer: Box<str>,
    pub ingang: Date,
    pub eind: Option<Date>,
    /// `toewijzingTijdstip`, in milliseconds
    pub stamp: i64,
    pub verlengd: bool,
    pub gemeente: Gemeente,
    pub withdrawn: bool,
    /// Care stopped (JW307) on this date.
    pub stopped: Option<Date>,
    pub id: FactId,
}

impl Assignment {
    /// The last day of care, if known.
    pub fn last_day(&self) -> Option<Date> {
        match (self.eind, self.stopped) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Whether the assignment is in force on `d`.
    pub fn active_on(&self, d: Date) -> bool {
        self.active_between(d, d)
    }

    /// Whether the assignment is in force on some day of `[from, to]`.
    pub fn active_between(&self, from: Date, to: Date) -> bool {
        !self.withdrawn && self.ingang <= to && self.last_day().is_none_or(|e| e >= from)
    }
}

/// Status of a verzuim melding, as far as rules need it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum MeldingStatus {
    Open,
    /// afgesloten: the verzuim ended
    Closed(Date),
    /// ingetrokken: the melding was wrong
    Withdrawn,
}

/// A fact about the child that some rule uses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Fact {
    Enrolment {
        school: School,
        sector: Sector,
        grade: u8,
        start: Date,
        end: Option<Date>,
        startkwalificatie: bool,
        id: FactId,
    },
    Application {
        school: School,
        date: Date,
        id: FactId,
    },
    Admission {
        school: School,
        date: Date,
        accepted: bool,
        id: FactId,
    },
    Support {
        school: School,
        kind: Box<str>,
        start: Date,
        end: Option<Date>,
        id: FactId,
    },
    Placement {
        lrk: u32,
        vve: bool,
        start: Date,
        end: Option<Date>,
        id: FactId,
    },
    Verzuim {
        school: School,
        nummer: Box<str>,
        lrv: bool,
        first_absence: Date,
        status: MeldingStatus,
        /// the DUO status, for the lifecycle check
        stage: schakel_core::domain::verzuim::Status,
        id: FactId,
    },
    Vrijstelling {
        kind: Box<str>,
        from: Date,
        until: Option<Date>,
        id: FactId,
    },
    Thuiszitter {
        since: Date,
        school: Option<School>,
        id: FactId,
    },
    PassendAanbod {
        date: Date,
        id: FactId,
    },
    Assignment(Box<Assignment>),
}

impl Fact {
    pub fn id(&self) -> &str {
        match self {
            Fact::Enrolment { id, .. }
            | Fact::Application { id, .. }
            | Fact::Admission { id, .. }
            | Fact::Support { id, .. }
            | Fact::Placement { id, .. }
            | Fact::Verzuim { id, .. }
            | Fact::Vrijstelling { id, .. }
            | Fact::Thuiszitter { id, .. }
            | Fact::PassendAanbod { id, .. } => id,
            Fact::Assignment(a) => &a.id,
        }
    }
}

/// A signal that has opened, with the dates fixed when it opened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Track {
    pub rule: Rule,
    pub episode: i32,
    /// bit per [`Step`] that fired
    pub steps: u16,
    pub remind: Option<Date>,
    pub due: Option<Date>,
    pub escalate: Option<Date>,
    pub progress: Progress,
    /// the first day of an unbroken run of days on which the signal was moot
    pub moot_since: Option<Date>,
    pub closed: bool,
}

impl Track {
    pub fn has(&self, step: Step) -> bool {
        self.steps & step.bit() != 0
    }

    pub fn mark(&mut self, step: Step) {
        self.steps |= step.bit();
    }
}

/// Everything the engine knows about one child.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChildState {
    pub birth: BirthDate,
    /// residence as first reported (0: unknown)
    pub residence: Gemeente,
    /// later residences, from the day a source reported them
    pub moves: Slim<(Date, Gemeente)>,
    /// the next day rules must look at this child
    pub wakeup: Option<Date>,
    /// hashes of (source, id) of every fact folded in, to ignore duplicates
    pub seen: Slim<u64>,
    pub facts: Slim<Fact>,
    pub tracks: Slim<Track>,
    /// the span that wrote the newest fact: the signals a tick fires for the child continue
    /// its trace
    pub cause: Option<schakel_core::log::trace::SpanRef>,
}

impl ChildState {
    pub fn new(child: &ChildRef) -> Self {
        Self {
            birth: child.birth(),
            residence: child
                .residence_municipality
                .as_deref()
                .and_then(gemeente)
                .unwrap_or(0),
            moves: Slim::default(),
            wakeup: None,
            seen: Slim::default(),
            facts: Slim::default(),
            tracks: Slim::default(),
            cause: None,
        }
    }

    /// Takes the newest birth date a source reported, and the residence from `at` on.
    pub fn update_child(&mut self, child: &ChildRef, at: Date) {
        self.birth = child.birth();
        let Some(g) = child.residence_municipality.as_deref().and_then(gemeente) else {
            return;
        };
        if self.residence == 0 {
            self.residence = g;
        } else if self.residence_on(at) != Some(g) {
            let pos = self.moves.partition_point(|(d, _)| *d <= at);
            self.moves.insert(pos, (at, g));
        }
    }

    /// The municipality of residence on `d`.
    pub fn residence_on(&self, d: Date) -> Option<Gemeente> {
        self.moves
            .iter()
            .rev()
            .find(|(from, _)| *from <= d)
            .map(|(_, g)| *g)
            .or((self.residence != 0).then_some(self.residence))
    }

    pub fn track(&self, rule: Rule, episode: i32) -> Option<&Track> {
        self.tracks
            .iter()
            .find(|t| t.rule == rule && t.episode == episode)
    }

    pub fn has_open_track(&self, rule: Rule) -> bool {
        self.tracks.iter().any(|t| t.rule == rule && !t.closed)
    }

    pub fn assignments(&self) -> impl Iterator<Item = &Assignment> {
        self.facts.iter().filter_map(|f| match f {
            Fact::Assignment(a) => Some(&**a),
            _ => None,
        })
    }

    pub fn assignments_mut(&mut self) -> impl Iterator<Item = &mut Assignment> {
        self.facts.iter_mut().filter_map(|f| match f {
            Fact::Assignment(a) => Some(&mut **a),
            _ => None,
        })
    }

    /// Enrolments: (school, sector, grade, start, end, startkwalificatie, id).
    pub fn enrolments(&self) -> impl Iterator<Item = Enrolment<'_>> {
        self.facts.iter().filter_map(|f| match f {
            Fact::Enrolment {
                school,
                sector,
                grade,
                start,
                end,
                startkwalificatie,
                id,
            } => Some(Enrolment {
                school: *school,
                sector: *sector,
                grade: *grade,
                start: *start,
                end: *end,
                startkwalificatie: *startkwalificatie,
                id,
            }),
            _ => None,
        })
    }

    /// Whether some enrolment covers `d` or starts after it (a known inschrijving counts
    /// from the day it is known, even if the pupil starts later).
    pub fn enrolled_from(&self, d: Date) -> bool {
        self.enrolments().any(|e| e.end.is_none_or(|end| end >= d))
    }

    /// Whether a vrijstelling covers `d`.
    pub fn exempt_on(&self, d: Date) -> bool {
        self.facts.iter().any(|f| {
            matches!(f, Fact::Vrijstelling { from, until, .. }
                if *from <= d && until.is_none_or(|u| u >= d))
        })
    }

    /// Whether the child has youth care (an active toewijzing) on `d`.
    pub fn care_on(&self, d: Date) -> bool {
        self.assignments().any(|a| a.active_on(d))
    }

    /// The id of the oldest fact the engine keeps: the source of the child's data, cited by
    /// rules that fire on an absence (no enrolment, no aanmelding).
    pub fn first_fact(&self) -> Option<&str> {
        self.facts.first().map(Fact::id)
    }
}

/// A view of one enrolment fact.
#[derive(Debug, Clone, Copy)]
pub struct Enrolment<'a> {
    pub school: School,
    pub sector: Sector,
    pub grade: u8,
    pub start: Date,
    pub end: Option<Date>,
    pub startkwalificatie: bool,
    pub id: &'a str,
}

/// `d` plus `n` days.
pub fn plus_days(d: Date, n: i32) -> Date {
    match jiff::Span::new().try_days(i64::from(n)) {
        Ok(span) => d.saturating_add(span),
        Err(_) if n > 0 => Date::MAX,
        Err(_) => Date::MIN,
    }
}

/// `d` plus `n` school days (Monday to Friday; holidays are not known to the engine).
pub fn plus_school_days(d: Date, n: i32) -> Date {
    let mut out = d;
    let mut left = n;
    while left > 0 {
        out = plus_days(out, 1);
        if out.weekday().to_monday_one_offset() <= 5 {
            left -= 1;
        }
    }
    out
}

/// FNV-1a over parts separated by a zero byte: a hash that never changes between versions,
/// so it may be kept in snapshots and signal ids.
pub fn fnv64(parts: &[&[u8]]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for (i, p) in parts.iter().enumerate() {
        if i > 0 {
            h ^= 0;
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        for b in *p {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    h
}

#[cfg(test)]
mod tests {
    use super::FactId;

    #[test]
    fn a_fact_id_reads_and_is_written_as_the_string_it_was() {
        let long = "y".repeat(39);
        let edge = "x".repeat(38);
        for s in [
            "",
            "0b6f2a4e-7c1d-4d8e-9a51-3f0c2b7e9d10",
            edge.as_str(),
            long.as_str(),
            "ééé-ü",
        ] {
            let id = FactId::from(s);
            assert_eq!(&*id, s);
            assert_eq!(format!("{id:?}"), format!("{s:?}"));
            // snapshots written before keep their form both ways
            let boxed: Box<str> = s.into();
            let old = bincode::serialize(&boxed).unwrap();
            assert_eq!(bincode::serialize(&id).unwrap(), old);
            assert_eq!(bincode::deserialize::<FactId>(&old).unwrap(), id);
            let json = serde_json::to_string(&id).unwrap();
            assert_eq!(serde_json::from_str::<FactId>(&json).unwrap(), id);
        }
        assert!(std::mem::size_of::<FactId>() <= 40);
    }
}
