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

/// The header: which column index holds which name.
#[derive(Debug, Clone)]
pub struct Header {
    kind: ImportKind,
    names: Vec<String>,
}

fn norm(name: &str) -> String {
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

    fn get<'r>(&self, row: &'r [String], name: &str) -> Option<&'r str> {
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

/// A date as Dutch Excel writes it (DD-MM-YYYY, D-M-YYYY, DD/MM/YYYY) or ISO, as ISO.
pub fn iso_date(s: &str) -> String {
    let t = s.trim();
    let parts: Vec<&str> = t.split(['-', '/', '.']).collect();
    if parts.len() == 3 && parts[2].len() == 4 && parts[0].len() <= 2 && parts[1].len() <= 2 {
        if let (Ok(d), Ok(m)) = (parts[0].parse::<u8>(), parts[1].parse::<u8>()) {
            return format!("{}-{m:02}-{d:02}", parts[2]);
        }
    }
    t.to_owned()
}

fn boolean(s: &str) -> Value {
    match s.trim().to_lowercase().as_str() {
        "ja" | "j" | "true" | "1" | "yes" => json!(true),
        "nee" | "n" | "false" | "0" | "no" => json!(false),
        other => json!(other),
    }
}

/// Verzuim kinds as DUO and leerplicht systems write them, mapped to EVENTS.md.
fn verzuim_kind(s: &str) -> String {
    let n = norm(s);
    match n.as_str() {
        "16_uur" | "16uur" | "16_uur_in_4_weken" | "relatief_verzuim" => "16-uur".into(),
        "lrv" | "langdurig_relatief_verzuim" => "lrv".into(),
        "luxe" | "luxe_verzuim" => "luxe".into(),
        "18+" | "18_plus" | "18plus" | "18+_verzuim" => "18-plus".into(),
        "overig" | "overig_verzuim" => "overig".into(),
        _ => s.trim().to_owned(),
    }
}

fn status(s: &str) -> String {
    norm(s).replace('_', "-")
}

/// Turns one data row into events (valid) or the problems per column.
pub fn row_events(
    header: &Header,
    row: &[String],
    line: u64,
    pseudo: &Pseudonymizer,
) -> RowOutcome {
    if row.len() != header.names.len() {
        return RowOutcome::Rejected(Rejected {
            line,
            errors: vec![CellError {
                column: String::new(),
                message: format!(
                    "expected {} columns, found {}",
                    header.names.len(),
                    row.len()
                ),
            }],
        });
    }
    let g = |n: &str| header.get(row, n);
    let mut child = Map::new();
    for (col, key) in [
        ("bsn", "bsn"),
        ("onderwijsnummer", "onderwijsnummer"),
        ("gemeente", "residenceMunicipality"),
    ] {
        if let Some(v) = g(col) {
            child.insert(key.into(), json!(v));
        }
    }
    if let Some(b) = g("geboortedatum") {
        child.insert("birthDate".into(), json!(iso_date(b)));
    }
    let mut name = Map::new();
    if let Some(v) = g("voornamen") {
        name.insert("given".into(), json!(v));
    }
    if let Some(v) = g("achternaam") {
        name.insert("family".into(), json!(v));
    }
    if !name.is_empty() {
        child.insert("name".into(), Value::Object(name));
    }
    let child = Value::Object(child);
    let school =
        || json!({"brin": g("brin").unwrap_or(""), "vestiging": g("vestiging").unwrap_or("")});
    let gemeente = g("gemeente").unwrap_or("");
    let date = |n: &str| g(n).map(iso_date);
    let mut events: Vec<(EventType, String, Value)> = Vec::new();
    let kind = header.kind;
    match kind {
        ImportKind::Enrolments => {
            let source = format!("urn:nld:brin:{}:systeem:import", g("brin").unwrap_or(""));
            let groep = g("groep").map(|s| {
                s.trim_start_matches(|c: char| c.is_alphabetic() || c == ' ')
                    .parse::<i64>()
                    .map(Value::from)
                    .unwrap_or_else(|_| json!(s))
            });
            events.push((
                EventType::EnrolmentRegistered,
                source.clone(),
                json!({"child": child, "school": school(), "sector": g("sector").map(str::to_lowercase),
                       "grade": groep, "startDate": date("startdatum")}),
            ));
            if let Some(end) = date("einddatum") {
                events.push((
                    EventType::EnrolmentEnded,
                    source,
                    json!({"child": child, "school": school(), "endDate": end,
                           "reason": g("reden_uitschrijving").unwrap_or("overig")}),
                ));
            }
        }
        ImportKind::Placements => {
            let source = format!("urn:nld:lrk:{}:systeem:import", g("lrk").unwrap_or(""));
            let mut d = json!({"child": child, "location": {"lrk": g("lrk")},
                               "vveIndication": g("vve_indicatie").map(boolean), "date": date("startdatum")});
            if let Some(m) = g("mentor") {
                d["mentor"] = json!(m);
            }
            events.push((EventType::PlacementStarted, source.clone(), d.clone()));
            if let Some(end) = date("einddatum") {
                d["date"] = json!(end);
                events.push((EventType::PlacementEnded, source, d));
            }
        }
        ImportKind::Verzuim => {
            let source = format!("urn:nld:gemeente:{gemeente}:systeem:import");
            events.push((
                EventType::VerzuimReported,
                source.clone(),
                json!({"child": child, "school": school(), "meldingsnummer": g("meldingsnummer"),
                       "kind": g("soort").map(verzuim_kind), "firstAbsenceDate": date("eerste_verzuimdag")}),
            ));
            if let Some(s) = g("status") {
                events.push((
                    EventType::VerzuimStatusChanged,
                    source,
                    json!({"child": child, "meldingsnummer": g("meldingsnummer"), "status": status(s)}),
                ));
            }
        }
        ImportKind::Vrijstellingen => {
            let source = format!("urn:nld:gemeente:{gemeente}:systeem:import");
            let mut d = json!({"child": child, "kind": g("soort").map(|s| norm(s).replace('_', "-")),
                               "from": date("van")});
            if let Some(t) = date("tot") {
                d["until"] = json!(t);
            }
            events.push((EventType::VrijstellingGranted, source, d));
        }
        ImportKind::Thuiszitters => {
            let source = format!("urn:nld:gemeente:{gemeente}:systeem:import");
            let mut d = json!({"child": child, "since": date("sinds")});
            if g("brin").is_some() {
                d["school"] = school();
            }
            events.push((EventType::ThuiszitterRegistered, source.clone(), d));
            if let Some(done) = date("opgelost_op") {
                events.push((
                    EventType::ThuiszitterResolved,
                    source,
                    json!({"child": child, "date": done, "offer": g("aanbod")}),
                ));
            }
        }
    }
    // ids: keyed hash of the row's content, so a re-run of the same file gives the same ids
    // (a corrected row is a new fact) and no BSN can be guessed back from an id
    let content = row.join("\u{1f}");
    let events: Vec<Value> = events
        .into_iter()
        .enumerate()
        .map(|(i, (ty, source, data))| {
            let id = pseudo.keyed_id(&[kind.name(), &i.to_string(), &content]);
            validate::envelope(ty, format!("import:{}:{id}", kind.name()), source, data)
        })
        .collect();
    match validate::validate_batch(&events, pseudo) {
        Ok(a) => RowOutcome::Accepted(a),
        Err(errors) => {
            let mut out: Vec<CellError> = Vec::new();
            for e in errors {
                let ce = CellError {
                    column: kind.column_of(&e.field),
                    message: e.message,
                };
                if !out.contains(&ce) {
                    out.push(ce);
                }
            }
            RowOutcome::Rejected(Rejected { line, errors: out })
        }
    }
}

impl ImportKind {
    /// The column of the CSV that fills an event field (`data.status` → `status`).
    pub fn column_of(self, field: &str) -> String {
        self.columns()
            .find(|c| field == c.field || field.starts_with(&format!("{}.", c.field)))
            .map(|c| c.name.to_owned())
            .unwrap_or_else(|| column_of_source(self, field))
    }
}

fn column_of_source(kind: ImportKind, field: &str) -> String {
    match (kind, field) {
        (ImportKind::Enrolments, "source") => "brin".into(),
        (ImportKind::Placements, "source") => "lrk".into(),
        (_, "source") => "gemeente".into(),
        (_, f) => f.to_owned(),
    }
}

/// Text of one cell: UTF-8, or else Windows-1252 as older Excel writes it.
fn cell(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_owned(),
        Err(_) => bytes.iter().map(|&b| cp1252(b)).collect(),
    }
}

fn cp1252(b: u8) -> char {
    const HIGH: [char; 32] = [
        '€', '\u{81}', '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', '\u{8d}', 'Ž',
        '\u{8f}', '\u{90}', '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', '\u{9d}',
        'ž', 'Ÿ',
    ];
    match b {
        0x80..=0x9f => HIGH[(b - 0x80) as usize],
        _ => b as char,
    }
}

/// Reads a CSV export: the header, then every row in order. `on_row` gets each row's line
/// number and outcome. Errors are only about the file as a whole (header, unreadable input).
pub fn read_csv<R: Read>(
    kind: ImportKind,
    mut input: R,
    pseudo: &Pseudonymizer,
    mut on_row: impl FnMut(u64, RowOutcome) -> bool,
) -> Result<u64, Vec<FieldError>> {
    // sniff the separator from the header line
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while head.len() < 64 * 1024 {
        match input.read(&mut byte) {
            Ok(0) => break,
            Ok(_) => {
                head.push(byte[0]);
                if byte[0] == b'\n' {
                    break;
                }
            }
            Err(e) => return Err(whole(format!("the file cannot be read: {e}"))),
        }
    }
    let start = if head.starts_with(b"\xef\xbb\xbf") {
        3
    } else {
        0
    };
    let first = &head[start..];
    let count = |c: u8| first.iter().filter(|&&b| b == c).count();
    let sep = [b';', b',', b'\t']
        .into_iter()
        .max_by_key(|c| count(*c))
        .unwrap_or(b',');
    // CRLF (Excel) and lone CRs are read as LF; line numbers come from where each line ends,
    // as the CSV reader does not count the blank lines it skips
    let ends = std::rc::Rc::new(std::cell::RefCell::new(LineEnds::default()));
    let body = LfLines {
        inner: std::io::Cursor::new(head[start..].to_vec()).chain(input),
        after_cr: false,
        offset: 0,
        ends: ends.clone(),
    };
    let line_of = |byte: u64| ends.borrow_mut().line_of(byte);
    let mut rdr = csv::ReaderBuilder::new()
        .delimiter(sep)
        .has_headers(false)
        .flexible(true)
        .from_reader(body);
    let mut rec = csv::ByteRecord::new();
    let header = match rdr.read_byte_record(&mut rec) {
        Ok(true) => rec.iter().map(cell).collect::<Vec<_>>(),
        Ok(false) => return Err(whole("the file is empty: a header row is required".into())),
        Err(e) => return Err(whole(format!("the header row cannot be read: {e}"))),
    };
    let header = Header::new(kind, &header)?;
    let mut rows = 0u64;
    loop {
        // the line a record starts on (an unreadable one: where the reader stood)
        let mut line = line_of(rdr.position().byte());
        match rdr.read_byte_record(&mut rec) {
            Ok(false) => break,
            Ok(true) => {
                line = rec.position().map_or(line, |p| line_of(p.byte()));
                let cells: Vec<String> = rec.iter().map(cell).collect();
                if cells.len() == 1 && cells[0].trim().is_empty() {
                    continue; // an empty line
                }
                rows += 1;
                if !on_row(line, row_events(&header, &cells, line, pseudo)) {
                    break;
                }
            }
            Err(e) => {
                rows += 1;
                let r = Rejected {
                    line,
                    errors: vec![CellError {
                        column: String::new(),
                        message: format!("unreadable row: {e}"),
                    }],
                };
                if !on_row(line, RowOutcome::Rejected(r)) {
                    break;
                }
                if matches!(e.kind(), csv::ErrorKind::Io(_)) {
                    break;
                }
            }
        }
    }
    Ok(rows)
}

/// Line ends as LF only: CRLF (Excel) and a lone CR (old Mac exports) each become one LF, also
/// across reads. The CSV reader then counts one line per line end, so every row starts on a
/// line of its own (resuming an import skips rows by line number).
struct LfLines<R> {
    inner: R,
    /// the last byte read was a CR, so an LF that follows belongs to it
    after_cr: bool,
    /// bytes handed out so far
    offset: u64,
    ends: std::rc::Rc<std::cell::RefCell<LineEnds>>,
}

/// Where the lines end that the CSV reader has not yet passed (its read-ahead, no more).
#[derive(Default)]
struct LineEnds {
    pending: std::collections::VecDeque<u64>,
    passed: u64,
}

impl LineEnds {
    /// The 1-based line of a record the CSV reader says starts at `offset`; offsets must not
    /// go back. The reader's offset may point at blank lines it skipped before the record.
    fn line_of(&mut self, mut offset: u64) -> u64 {
        while let Some(&e) = self.pending.front() {
            if e > offset {
                break;
            }
            // a line end before the record, or at its offset: a skipped blank line
            if e == offset {
                offset += 1;
            }
            self.pending.pop_front();
            self.passed += 1;
        }
        self.passed + 1
    }
}

impl<R: Read> Read for LfLines<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        loop {
            let n = self.inner.read(buf)?;
            if n == 0 {
                return Ok(0);
            }
            // in place: the output never outgrows the input
            let mut out = 0;
            for i in 0..n {
                let b = buf[i];
                if b == b'\n' && self.after_cr {
                    self.after_cr = false;
                    continue;
                }
                self.after_cr = b == b'\r';
                let b = if b == b'\r' { b'\n' } else { b };
                if b == b'\n' {
                    self.ends
                        .borrow_mut()
                        .pending
                        .push_back(self.offset + out as u64);
                }
                buf[out] = b;
                out += 1;
            }
            self.offset += out as u64;
            if out > 0 {
                return Ok(out);
            }
        }
    }
}

fn whole(message: String) -> Vec<FieldError> {
    vec![FieldError::new(0, "file", ErrorKind::Invalid, message)]
}
