//! Turns posted CloudEvents into typed, pseudonymised facts, naming every wrong field.

use jiff::civil::Date;
use jiff::Timestamp;
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
use crate::problem::FieldError;

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
    pub fn topic(&self) -> &'static str {
        match self {
            Typed::School(_) => "source.school.v1",
            Typed::Voorschool(_) => "source.voorschool.v1",
            Typed::Leerplicht(_) => "source.leerplicht.v1",
            Typed::Jeugdhulp(_) => "source.jeugdhulp.v1",
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
    /// the source kind of its type: school, voorschool, leerplicht or jeugdhulp
    pub kind: &'static str,
    /// institutions the token must cover, with the field that names each
    pub institutions: Vec<(String, String)>,
    /// the BSN or onderwijsnummer and name, for the vault only
    pub identity: Identity,
}

/// The event types of EVENTS.md that source systems may post.
pub const TYPES: &[&str] = &[
    "nl.schakel.school.enrolment-registered.v1",
    "nl.schakel.school.enrolment-ended.v1",
    "nl.schakel.school.application-registered.v1",
    "nl.schakel.school.admission-decided.v1",
    "nl.schakel.school.advice-given.v1",
    "nl.schakel.school.support-started.v1",
    "nl.schakel.school.support-ended.v1",
    "nl.schakel.voorschool.placement-started.v1",
    "nl.schakel.voorschool.placement-ended.v1",
    "nl.schakel.leerplicht.verzuim-reported.v1",
    "nl.schakel.leerplicht.verzuim-status-changed.v1",
    "nl.schakel.leerplicht.vrijstelling-granted.v1",
    "nl.schakel.leerplicht.vrijstelling-ended.v1",
    "nl.schakel.leerplicht.thuiszitter-registered.v1",
    "nl.schakel.leerplicht.thuiszitter-resolved.v1",
    "nl.schakel.jeugdhulp.assignment-issued.v1",
    "nl.schakel.jeugdhulp.assignment-withdrawn.v1",
    "nl.schakel.jeugdhulp.care-started.v1",
    "nl.schakel.jeugdhulp.care-stopped.v1",
    "nl.schakel.jeugdhulp.care-withdrawn.v1",
    "nl.schakel.jeugdhulp.assignment-requested.v1",
];

/// Validates a batch; either every event is valid or every problem is returned.
pub fn validate_batch(
    events: &[Value],
    pseudo: &Pseudonymizer,
) -> Result<Vec<Accepted>, Vec<FieldError>> {
    let mut errors = Vec::new();
    let mut out = Vec::with_capacity(events.len());
    for (index, ev) in events.iter().enumerate() {
        let mut f = Fields {
            index,
            errors: &mut errors,
        };
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
        f.err("", "an event must be a JSON object");
        return None;
    };
    match obj.get("specversion").and_then(Value::as_str) {
        Some("1.0") => {}
        _ => f.err("specversion", "must be \"1.0\""),
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
            f.err("source", m);
            None
        }
    });
    let time = f.timestamp(obj, "", "time");
    if let Some(ct) = obj.get("datacontenttype") {
        if ct.as_str() != Some("application/json") {
            f.err("datacontenttype", "must be \"application/json\"");
        }
    }
    let ty = f.string(obj, "", "type", true);
    let ty = ty.and_then(|t| match TYPES.iter().find(|x| **x == t) {
        Some(known) => Some(*known),
        None => {
            f.err("type", "is not a known event type (see EVENTS.md)");
            None
        }
    });
    let data = f.object(obj, "", "data", true);
    let child = data.and_then(|d| child(d, pseudo, time, f));
    let (ty, data) = (ty?, data?);
    let parsed = typed_data(ty, data, f);
    let (id, source, source_inst, time, (child, identity), (mut institutions, body)) =
        (id?, source?, source_inst?, time?, child?, parsed?);
    institutions.insert(0, ("source".to_owned(), source_inst));
    let kind = ty.split('.').nth(2).expect("catalogue types have a kind");
    let kind: &'static str = ["school", "voorschool", "leerplicht", "jeugdhulp"]
        .into_iter()
        .find(|k| *k == kind)
        .expect("catalogue kinds");
    let typed = match body {
        Body::School(d) => Typed::School(SourceEvent {
            id,
            source,
            kind: ty.to_owned(),
            time,
            child,
            data: d,
        }),
        Body::Voorschool(d) => Typed::Voorschool(SourceEvent {
            id,
            source,
            kind: ty.to_owned(),
            time,
            child,
            data: d,
        }),
        Body::Leerplicht(d) => Typed::Leerplicht(SourceEvent {
            id,
            source,
            kind: ty.to_owned(),
            time,
            child,
            data: d,
        }),
        Body::Jeugdhulp(d) => Typed::Jeugdhulp(SourceEvent {
            id,
            source,
            kind: ty.to_owned(),
            time,
            child,
            data: d,
        }),
    };
    Some(Accepted {
        typed,
        kind,
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
    f.no_unknown(
        c,
        P,
        &[
            "bsn",
            "onderwijsnummer",
            "birthDate",
            "birthDatePrecision",
            "name",
            "residenceMunicipality",
        ],
    );
    let id = match (c.contains_key("bsn"), c.contains_key("onderwijsnummer")) {
        (true, true) => {
            f.err(
                format!("{P}.onderwijsnummer"),
                "send either bsn or onderwijsnummer, not both",
            );
            None
        }
        (false, false) => {
            f.err(
                format!("{P}.bsn"),
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
    let precision = match c.get("birthDatePrecision") {
        None | Some(Value::Null) => Some(DatePrecision::Day),
        Some(_) => f
            .one_of(c, P, "birthDatePrecision", &["day", "month", "year"])
            .and_then(|s| DatePrecision::parse(&s)),
    };
    if let (Some(b), Some(t)) = (birth, time) {
        if b > t.to_zoned(jiff::tz::TimeZone::UTC).date() {
            f.err(
                format!("{P}.birthDate"),
                "must not be after the event's time",
            );
        }
    }
    let (mut given, mut family) = (None, None);
    if let Some(name) = f.object(c, P, "name", false) {
        let np = format!("{P}.name");
        f.no_unknown(name, &np, &["given", "family"]);
        given = f.parsed(name, &np, "given", false, name_part);
        family = f.parsed(name, &np, "family", false, name_part);
    }
    let residence = f.parsed(c, P, "residenceMunicipality", false, Gemeentecode::parse);
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
    f.no_unknown(s, &path, &["brin", "vestiging"]);
    let brin = f.parsed(s, &path, "brin", true, Brin::parse);
    let vestiging = f.parsed(s, &path, "vestiging", true, Vestiging::parse);
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

fn typed_data(ty: &str, d: &Obj, f: &mut Fields<'_>) -> Option<Scoped> {
    let name = ty
        .strip_prefix("nl.schakel.")
        .and_then(|t| t.strip_suffix(".v1"))
        .unwrap_or(ty);
    match name.split_once('.').map_or("", |(kind, _)| kind) {
        "school" => school::data(name, d, f),
        "voorschool" => voorschool::data(name, d, f),
        "leerplicht" => leerplicht::data(name, d, f),
        "jeugdhulp" => jeugdhulp::data(name, d, f),
        _ => unknown_type(f),
    }
}

fn unknown_type(f: &mut Fields<'_>) -> Option<Scoped> {
    f.err("type", "is not a known event type (see EVENTS.md)");
    None
}
