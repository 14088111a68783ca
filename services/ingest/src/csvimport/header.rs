//! The header row: which column holds what, under the names and aliases exports use.

use super::*;

/// The header: which column index holds which name.
#[derive(Debug, Clone)]
pub struct Header {
    pub(super) kind: ImportKind,
    pub(super) names: Vec<String>,
}

pub(super) fn norm(name: &str) -> String {
    name.trim()
        .trim_start_matches('\u{feff}')
        .to_lowercase()
        .replace([' ', '-'], "_")
}

/// Maps the aliases that LAS exports use to our column names.
fn canonical(kind: ImportKind, name: &str) -> String {
    let n = norm(name);
    match (kind, n.as_str()) {
        (_, "leerjaar") => "groep".into(),
        (_, "burgerservicenummer") => "bsn".into(),
        (_, "geboorte_datum") => "geboortedatum".into(),
        (_, "woongemeente") => "gemeente".into(),
        (_, "brin_nummer" | "brinnummer") => "brin".into(),
        (_, "begindatum" | "datum_inschrijving") => "startdatum".into(),
        (_, "datum_uitschrijving") => "einddatum".into(),
        _ => n,
    }
}

impl Header {
    /// Reads the header row; every missing required and unknown column is named.
    pub fn new(kind: ImportKind, row: &[String]) -> Result<Self, Vec<FieldError>> {
        let names: Vec<String> = row.iter().map(|c| canonical(kind, c)).collect();
        let mut errors = Vec::new();
        for c in kind.columns() {
            if c.required && !names.iter().any(|n| n == c.name) {
                errors.push(FieldError {
                    index: 0,
                    field: c.name.into(),
                    message: "this column is required".into(),
                    kind: ErrorKind::Missing,
                });
            }
        }
        if !names.iter().any(|n| n == "bsn" || n == "onderwijsnummer") {
            errors.push(FieldError {
                index: 0,
                field: "bsn".into(),
                message: "a bsn or onderwijsnummer column is required".into(),
                kind: ErrorKind::Missing,
            });
        }
        for (i, n) in names.iter().enumerate() {
            if !kind.columns().any(|c| c.name == n) {
                errors.push(FieldError::new(
                    0,
                    row[i].clone(),
                    ErrorKind::Unknown,
                    format!(
                        "unknown column; {} takes {}",
                        kind.name(),
                        kind.column_names().join(", ")
                    ),
                ));
            } else if names[..i].contains(n) {
                errors.push(FieldError {
                    index: 0,
                    field: row[i].clone(),
                    message: "this column appears twice".into(),
                    kind: ErrorKind::Invalid,
                });
            }
        }
        if errors.is_empty() {
            Ok(Self { kind, names })
        } else {
            Err(errors)
        }
    }

    pub(super) fn get<'r>(&self, row: &'r [String], name: &str) -> Option<&'r str> {
        let i = self.names.iter().position(|n| n == name)?;
        row.get(i).map(|s| s.trim()).filter(|s| !s.is_empty())
    }
}

impl ImportKind {
    /// The kind as it appears in the URL and in `hub.imports.v1`.
    pub fn name(self) -> &'static str {
        match self {
            ImportKind::Enrolments => "enrolments",
            ImportKind::Placements => "placements",
            ImportKind::Verzuim => "verzuim",
            ImportKind::Vrijstellingen => "vrijstellingen",
            ImportKind::Thuiszitters => "thuiszitters",
        }
    }
}
