//! Turns posted CloudEvents into typed, pseudonymised facts, naming every wrong field.

use jiff::civil::Date;
use jiff::Timestamp;
use schakel_core::domain::catalogue::{EventType, SourceKind};
use schakel_core::domain::dates::{BirthDate, DatePrecision};
use schakel_core::domain::events::{
    ChildRef, JeugdhulpData, LeerplichtData, LocationRef, Product, SchoolData, SchoolRef,
    SourceEvent, VoorschoolData,
};
use schakel_core::domain::ids::{
    Brin, Bsn, ChildId, ContactId, Gemeentecode, LrkNumber, Onderwijsnummer, Pseudonymizer,
    Vestiging,
};
use schakel_core::vault::Identity;
use serde_json::Value;

use crate::fields::{Fields, Obj};
use crate::problem::{ErrorKind, FieldError};

mod jeugdhulp;
mod leerplicht;
mod school;
mod voorschool;

/// A valid fact, ready to be written.
#[derive(Debug, Clone)]
pub enum Typed {
    School(SourceEvent<SchoolData>),
    Voorschool(SourceEvent<VoorschoolData>),
    Leerplicht(SourceEvent<LeerplichtData>),
    Jeugdhulp(SourceEvent<JeugdhulpData>),
}

impl Typed {
    pub fn event_type(&self) -> EventType {
        match self {
            Typed::School(e) => e.kind,
            Typed::Voorschool(e) => e.kind,
            Typed::Leerplicht(e) => e.kind,
            Typed::Jeugdhulp(e) => e.kind,
        }
    }

    pub fn child_key(&self) -> &schakel_core::domain::ids::ChildKey {
        match self {
            Typed::School(e) => &e.child.child_key,
            Typed::Voorschool(e) => &e.child.child_key,
            Typed::Leerplicht(e) => &e.child.child_key,
            Typed::Jeugdhulp(e) => &e.child.child_key,
        }
    }
}

/// A valid event and the scope it needs.
#[derive(Debug, Clone)]
pub struct Accepted {
    pub typed: Typed,
    /// the source kind of its type
    pub kind: SourceKind,
    /// institutions the token must cover, with the field that names each
    pub institutions: Vec<(String, String)>,
    /// the BSN or onderwijsnummer and name, for the vault only
    pub identity: Identity,
}

/// The CloudEvent (structured mode, JSON) of a fact read from another format (a CSV row, an
/// iJw product), as a source system would post it: it is validated like any posted event.
pub fn envelope(ty: EventType, id: String, source: String, data: Value) -> Value {
    serde_json::json!({
        "specversion": "1.0",
        "id": id,
        "source": source,
        "type": ty.name(),
        "time": Timestamp::now().to_string(),
        "datacontenttype": "application/json",
        "data": data,
    })
}

/// Validates a batch; either every event is valid or every problem is returned.
pub fn validate_batch(
    events: &[Value],
    pseudo: &Pseudonymizer,
) -> Result<Vec<Accepted>, Vec<FieldError>> {
    let mut errors = Vec::new();
    let mut out = Vec::with_capacity(events.len());
    for (index, ev) in events.iter().enumerate() {
        let mut f = Fields::new(index, &mut errors);
        if let Some(a) = validate_event(ev, pseudo, &mut f) {
            out.push(a);
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

/// The institution a source URN names: `urn:nld:brin:12AB:…`, `urn:nld:gemeente:0392:…` or
/// `urn:nld:lrk:123456789:…`.
pub fn source_institution(source: &str) -> Result<String, &'static str> {
    const MSG: &str =
        "must be a URN urn:nld:brin:<BRIN>:…, urn:nld:gemeente:<code>:… or urn:nld:lrk:<nummer>:…";
    let parts: Vec<&str> = source.split(':').collect();
    if parts.len() < 4 || parts[0] != "urn" || parts[1] != "nld" {
        return Err(MSG);
    }
    let inst = match parts[2] {
        "brin" => Brin::parse(parts[3]).map(|b| format!("school:{b}")),
        "gemeente" => Gemeentecode::parse(parts[3]).map(|g| format!("gemeente:{g}")),
        "lrk" => LrkNumber::parse(parts[3]).map(|l| format!("lrk:{l}")),
        _ => return Err(MSG),
    };
    inst.map_err(|_| MSG)
}

fn validate_event(ev: &Value, pseudo: &Pseudonymizer, f: &mut Fields<'_>) -> Option<Accepted> {
    let Some(obj) = ev.as_object() else {
        f.err("", ErrorKind::Event, "an event must be a JSON object");
        return None;
    };
    match f.value(obj, "specversion").and_then(Value::as_str) {
        Some("1.0") => {}
        _ => f.invalid("specversion", "must be \"1.0\""),
    }
    let id = f.parsed(obj, "", "id", true, |s| {
        if s.len() <= 256 {
            Ok(s.to_owned())
        } else {
            Err("must be at most 256 characters")
        }
    });
    let source = f.string(obj, "", "source", true);
    let source_inst = source.as_deref().and_then(|s| match source_institution(s) {
        Ok(i) => Some(i),
        Err(m) => {
            f.invalid("source", m);
            None
        }
    });
    let time = f.timestamp(obj, "", "time");
    if let Some(ct) = f.value(obj, "datacontenttype") {
        if ct.as_str() != Some("application/json") {
            f.invalid("datacontenttype", "must be \"application/json\"");
        }
    }
    let ty = f.string(obj, "", "type", true);
    let ty = ty.and_then(
        |t| match EventType::parse(&t).filter(|t| t.source().is_some()) {
            Some(known) => Some(known),
            None => {
                unknown_type(f);
                None
            }
        },
    );
    let data = f.object(obj, "", "data", true);
    let child = data.and_then(|d| child(d, pseudo, time, f));
    let (ty, data) = (ty?, data?);
    let parsed = typed_data(ty, data, f);
    let (id, source, source_inst, time, (child, identity), (mut institutions, body)) =
        (id?, source?, source_inst?, time?, child?, parsed?);
    institutions.insert(0, ("source".to_owned(), source_inst));
    let typed = match body {
        Body::School(d) => Typed::School(SourceEvent::new(id, source, time, child, d)),
        Body::Voorschool(d) => Typed::Voorschool(SourceEvent::new(id, source, time, child, d)),
        Body::Leerplicht(d) => Typed::Leerplicht(SourceEvent::new(id, source, time, child, d)),
        Body::Jeugdhulp(d) => Typed::Jeugdhulp(SourceEvent::new(id, source, time, child, d)),
    };
    debug_assert_eq!(typed.event_type(), ty, "each type reads into its own data");
    Some(Accepted {
        typed,
        kind: ty.source().expect("a source type"),
        institutions,
        identity,
    })
}

fn child(
    data: &Obj,
    pseudo: &Pseudonymizer,
    time: Option<Timestamp>,
    f: &mut Fields<'_>,
) -> Option<(ChildRef, Identity)> {
    const P: &str = "data.child";
    let c = f.object(data, "data", "child", true)?;
    f.known(c, &["bsn", "onderwijsnummer"]);
    let id = match (c.contains_key("bsn"), c.contains_key("onderwijsnummer")) {
        (true, true) => {
            f.invalid(
                format!("{P}.onderwijsnummer"),
                "send either bsn or onderwijsnummer, not both",
            );
            None
        }
        (false, false) => {
            f.err(
                format!("{P}.bsn"),
                ErrorKind::Missing,
                "is required (or onderwijsnummer when no BSN is known)",
            );
            None
        }
        (true, false) => f.parsed(c, P, "bsn", true, Bsn::parse).map(ChildId::Bsn),
        (false, true) => f
            .parsed(c, P, "onderwijsnummer", true, Onderwijsnummer::parse)
            .map(ChildId::Onderwijsnummer),
    };
    let birth = f.date(c, P, "birthDate", true);
    let precision = match f.value(c, "birthDatePrecision") {
        None | Some(Value::Null) => Some(DatePrecision::Day),
        Some(_) => f
            .one_of(c, P, "birthDatePrecision", &["day", "month", "year"])
            .and_then(|s| DatePrecision::parse(&s)),
    };
    if let (Some(b), Some(t)) = (birth, time) {
        if b > t.to_zoned(jiff::tz::TimeZone::UTC).date() {
            f.invalid(
                format!("{P}.birthDate"),
                "must not be after the event's time",
            );
        }
    }
    let (mut given, mut family) = (None, None);
    if let Some(name) = f.object(c, P, "name", false) {
        let np = format!("{P}.name");
        given = f.parsed(name, &np, "given", false, name_part);
        family = f.parsed(name, &np, "family", false, name_part);
        f.done(name, &np);
    }
    let residence = f.parsed(c, P, "residenceMunicipality", false, Gemeentecode::parse);
    f.done(c, P);
    let (id, birth, precision) = (id?, birth?, precision?);
    let birth = BirthDate::new(birth, precision);
    let child = ChildRef {
        child_key: pseudo.child_key(&id),
        birth_date: birth.earliest(),
        birth_date_precision: precision,
        residence_municipality: residence.map(String::from),
    };
    Some((child, Identity::new(&id, given, family)))
}

/// A given name or family name: 1 to 200 characters, no control characters.
fn name_part(s: &str) -> Result<String, &'static str> {
    let t = s.trim();
    if t.is_empty() || t.chars().count() > 200 || t.chars().any(char::is_control) {
        Err("must be 1 to 200 characters without control characters")
    } else {
        Ok(t.to_owned())
    }
}

enum Body {
    School(SchoolData),
    Voorschool(VoorschoolData),
    Leerplicht(LeerplichtData),
    Jeugdhulp(JeugdhulpData),
}

type Scoped = (Vec<(String, String)>, Body);

fn school_ref(m: &Obj, key: &str, required: bool, f: &mut Fields<'_>) -> Option<SchoolRef> {
    let s = f.object(m, "data", key, required)?;
    let path = format!("data.{key}");
    let brin = f.parsed(s, &path, "brin", true, Brin::parse);
    let vestiging = f.parsed(s, &path, "vestiging", true, Vestiging::parse);
    f.done(s, &path);
    Some(SchoolRef {
        brin: brin?.into(),
        vestiging: vestiging?.into(),
    })
}

fn slug(max: usize) -> impl Fn(&str) -> Result<String, String> {
    move |s: &str| {
        if s.len() <= max
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_./".contains(&b))
        {
            Ok(s.to_owned())
        } else {
            Err(format!(
                "must be at most {max} letters, digits, '-', '_', '.' or '/'"
            ))
        }
    }
}

/// The data of source type `ty`, read by the file of its source kind; then every key of
/// `data` no read asked for is reported.
fn typed_data(ty: EventType, d: &Obj, f: &mut Fields<'_>) -> Option<Scoped> {
    let scoped = match ty.source() {
        Some(SourceKind::School) => school::data(ty, d, f),
        Some(SourceKind::Voorschool) => voorschool::data(ty, d, f),
        Some(SourceKind::Leerplicht) => leerplicht::data(ty, d, f),
        Some(SourceKind::Jeugdhulp) => jeugdhulp::data(ty, d, f),
        None => unknown_type(f),
    };
    f.done(d, "data");
    scoped
}

/// A type this kind's file does not read: not a source type of the catalogue.
fn unknown_type(f: &mut Fields<'_>) -> Option<Scoped> {
    f.err(
        "type",
        ErrorKind::Event,
        "is not a known event type (see EVENTS.md)",
    );
    None
}
