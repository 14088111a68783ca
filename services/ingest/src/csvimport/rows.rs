//! One data row into the CloudEvents of its kind, or the problems per column.

use super::header::norm;
use super::*;

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
