//! The facts about a child that rules use, and the small types they are made of.

use jiff::civil::Date;
use schakel_core::domain::events::SchoolRef;
use serde::{Deserialize, Serialize};

use super::FactId;

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

/// Whether `code` is `g` as [`gemeente_code`] writes it, without writing it: rules ask this of
/// every child they look at.
pub fn is_gemeente_code(code: &str, g: Gemeente) -> bool {
    let mut digits = [0u8; 5];
    let mut n = g;
    for d in digits.iter_mut().rev() {
        *d = b'0' + (n % 10) as u8;
        n /= 10;
    }
    let len = if g >= 10_000 { 5 } else { 4 };
    code.as_bytes() == &digits[5 - len..]
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_gemeente_code_is_recognised_as_it_is_written() {
        for g in [0, 7, 363, 1_680, 9_999, 10_000, Gemeente::MAX] {
            assert!(is_gemeente_code(&gemeente_code(g), g), "{g}");
            assert!(
                !is_gemeente_code(&gemeente_code(g.wrapping_add(1)), g),
                "{g}"
            );
        }
        assert!(is_gemeente_code("0363", 363));
        for other in ["363", "00363", "+363", "GM0363", ""] {
            assert!(!is_gemeente_code(other, 363), "{other}");
        }
    }
}
