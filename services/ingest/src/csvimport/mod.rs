//! CSV exports (LAS, voorschool, leerplicht) read row by row into the CloudEvents of
//! `POST /v1/events`, so imports share its validation. Streaming: rows are read from any
//! `Read` and handed out in chunks; memory does not grow with the file.
//!
//! Dutch Excel is expected: a UTF-8 BOM, `;` as separator (sniffed from the header line),
//! dates as DD-MM-YYYY, Windows-1252 text. Columns are documented in docs/imports.md.

use std::io::Read;

use schakel_core::domain::ids::Pseudonymizer;
use serde::Serialize;
use serde_json::{json, Map, Value};

use crate::problem::{ErrorKind, FieldError};
use crate::validate::{self, Accepted};
use schakel_core::domain::catalogue::EventType;

/// The kinds of export that can be imported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ImportKind {
    Enrolments,
    Placements,
    Verzuim,
    Vrijstellingen,
    Thuiszitters,
}

/// A column: its name, whether it is required, and the JSON field it fills (for errors).
struct Col {
    name: &'static str,
    required: bool,
    field: &'static str,
}

const fn col(name: &'static str, required: bool, field: &'static str) -> Col {
    Col {
        name,
        required,
        field,
    }
}

const CHILD: [Col; 6] = [
    col("bsn", false, "data.child.bsn"),
    col("onderwijsnummer", false, "data.child.onderwijsnummer"),
    col("geboortedatum", true, "data.child.birthDate"),
    col("gemeente", false, "data.child.residenceMunicipality"),
    col("voornamen", false, "data.child.name.given"),
    col("achternaam", false, "data.child.name.family"),
];

const ENROLMENTS: [Col; 8] = [
    col("leerlingnummer", true, "id"),
    col("brin", true, "data.school.brin"),
    col("vestiging", true, "data.school.vestiging"),
    col("sector", true, "data.sector"),
    col("groep", true, "data.grade"),
    col("startdatum", true, "data.startDate"),
    col("einddatum", false, "data.endDate"),
    col("reden_uitschrijving", false, "data.reason"),
];
const PLACEMENTS: [Col; 5] = [
    col("lrk", true, "data.location.lrk"),
    col("vve_indicatie", true, "data.vveIndication"),
    col("startdatum", true, "data.date"),
    col("einddatum", false, "data.date"),
    col("mentor", false, "data.mentor"),
];
const VERZUIM: [Col; 6] = [
    col("meldingsnummer", true, "data.meldingsnummer"),
    col("brin", true, "data.school.brin"),
    col("vestiging", true, "data.school.vestiging"),
    col("soort", true, "data.kind"),
    col("eerste_verzuimdag", true, "data.firstAbsenceDate"),
    col("status", false, "data.status"),
];
const VRIJSTELLINGEN: [Col; 3] = [
    col("soort", true, "data.kind"),
    col("van", true, "data.from"),
    col("tot", false, "data.until"),
];
const THUISZITTERS: [Col; 6] = [
    col("sinds", true, "data.since"),
    col("brin", false, "data.school.brin"),
    col("vestiging", false, "data.school.vestiging"),
    col("opgelost_op", false, "data.date"),
    col("aanbod", false, "data.offer"),
    col("meldingsnummer", false, "id"),
];

impl ImportKind {
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "enrolments" => Self::Enrolments,
            "placements" => Self::Placements,
            "verzuim" => Self::Verzuim,
            "vrijstellingen" => Self::Vrijstellingen,
            "thuiszitters" => Self::Thuiszitters,
            _ => return None,
        })
    }

    pub const ALL: &'static str = "enrolments, placements, verzuim, vrijstellingen, thuiszitters";

    /// The source kind a token needs for this import.
    pub fn source_kind(self) -> &'static str {
        match self {
            Self::Enrolments => "school",
            Self::Placements => "voorschool",
            _ => "leerplicht",
        }
    }

    fn own_columns(self) -> &'static [Col] {
        match self {
            Self::Enrolments => &ENROLMENTS,
            Self::Placements => &PLACEMENTS,
            Self::Verzuim => &VERZUIM,
            Self::Vrijstellingen => &VRIJSTELLINGEN,
            Self::Thuiszitters => &THUISZITTERS,
        }
    }

    fn columns(self) -> impl Iterator<Item = &'static Col> {
        CHILD.iter().chain(self.own_columns())
    }

    /// Every column name of this kind (for help texts and errors).
    pub fn column_names(self) -> Vec<&'static str> {
        self.columns().map(|c| c.name).collect()
    }
}

/// A problem with one cell of a row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CellError {
    pub column: String,
    pub message: String,
}

/// A row that was not imported, by its line in the file (the header is line 1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rejected {
    pub line: u64,
    pub errors: Vec<CellError>,
}

/// The outcome of one data row.
#[derive(Debug)]
pub enum RowOutcome {
    Accepted(Vec<Accepted>),
    Rejected(Rejected),
}

mod header;
mod read;
mod rows;

pub use header::Header;
pub use read::read_csv;
pub use rows::{iso_date, row_events};
