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
const VRIJSTELLINGEN: &[&str] = &["5-onder-a", "5-onder-b", "5-onder-c", "art-15", "art-3a"];
const OFFERS: &[&str] = &["onderwijs", "zorg", "combinatie", "dagbesteding"];

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
    let school_scope =
        |s: &SchoolRef| vec![("data.school.brin".to_owned(), format!("school:{}", s.brin))];
    match name {
        "school.enrolment-registered" => {
            f.no_unknown(
                d,
                "data",
                &["child", "school", "sector", "grade", "startDate"],
            );
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
        "school.enrolment-ended" => {
            f.no_unknown(
                d,
                "data",
                &[
                    "child",
                    "school",
                    "endDate",
                    "reason",
                    "destination",
                    "startkwalificatie",
                ],
            );
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
        "school.application-registered" => {
            f.no_unknown(d, "data", &["child", "school", "date"]);
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
        "school.admission-decided" => {
            f.no_unknown(d, "data", &["child", "school", "date", "decision"]);
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
        "school.advice-given" => {
            f.no_unknown(d, "data", &["child", "kind", "level", "date"]);
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
        "school.support-started" | "school.support-ended" => {
            f.no_unknown(d, "data", &["child", "school", "support", "date"]);
            let school = school_ref(d, "school", true, f);
            let support = f.one_of(d, "data", "support", SUPPORTS);
            let date = f.date(d, "data", "date", true);
            let (school, support, date) = (school?, support?, date?);
            let scope = school_scope(&school);
            let data = if name.ends_with("started") {
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
        "voorschool.placement-started" | "voorschool.placement-ended" => {
            f.no_unknown(
                d,
                "data",
                &["child", "location", "vveIndication", "date", "mentor"],
            );
            let loc = f.object(d, "data", "location", true);
            let lrk = loc.and_then(|l| {
                f.no_unknown(l, "data.location", &["lrk"]);
                f.parsed(l, "data.location", "lrk", true, LrkNumber::parse)
            });
            let vve = f.boolean(d, "data", "vveIndication", true);
            let date = f.date(d, "data", "date", true);
            let mentor = f
                .parsed(d, "data", "mentor", false, ContactId::parse)
                .map(String::from);
            let lrk = lrk?;
            let scope = vec![("data.location.lrk".to_owned(), format!("lrk:{lrk}"))];
            let location = LocationRef { lrk: lrk.into() };
            let (vve_indication, date) = (vve?, date?);
            let data = if name.ends_with("started") {
                VoorschoolData::PlacementStarted {
                    location,
                    vve_indication,
                    date,
                    mentor,
                }
            } else {
                VoorschoolData::PlacementEnded {
                    location,
                    vve_indication,
                    date,
                    mentor,
                }
            };
            Some((scope, Body::Voorschool(data)))
        }
        "leerplicht.verzuim-reported" => {
            f.no_unknown(
                d,
                "data",
                &[
                    "child",
                    "school",
                    "meldingsnummer",
                    "kind",
                    "firstAbsenceDate",
                ],
            );
            let school = school_ref(d, "school", true, f);
            let nr = f.parsed(d, "data", "meldingsnummer", true, slug(32));
            let kind = f.one_of(d, "data", "kind", schakel_core::domain::verzuim::KINDS);
            let first = f.date(d, "data", "firstAbsenceDate", true);
            Some((
                Vec::new(),
                Body::Leerplicht(LeerplichtData::VerzuimReported {
                    school: school?,
                    meldingsnummer: nr?,
                    kind: kind?,
                    first_absence_date: first?,
                }),
            ))
        }
        "leerplicht.verzuim-status-changed" => {
            f.no_unknown(d, "data", &["child", "meldingsnummer", "status"]);
            let nr = f.parsed(d, "data", "meldingsnummer", true, slug(32));
            let status = f.one_of(d, "data", "status", schakel_core::domain::verzuim::STATUSES);
            Some((
                Vec::new(),
                Body::Leerplicht(LeerplichtData::VerzuimStatusChanged {
                    meldingsnummer: nr?,
                    status: status?,
                }),
            ))
        }
        "leerplicht.vrijstelling-granted" | "leerplicht.vrijstelling-ended" => {
            f.no_unknown(d, "data", &["child", "kind", "from", "until"]);
            let kind = f.one_of(d, "data", "kind", VRIJSTELLINGEN);
            let from = f.date(d, "data", "from", true);
            let until = f.date(d, "data", "until", false);
            f.not_before(from, until, "data", "until", "from");
            let (kind, from) = (kind?, from?);
            let data = if name.ends_with("granted") {
                LeerplichtData::VrijstellingGranted { kind, from, until }
            } else {
                LeerplichtData::VrijstellingEnded { kind, from, until }
            };
            Some((Vec::new(), Body::Leerplicht(data)))
        }
        "leerplicht.thuiszitter-registered" => {
            f.no_unknown(d, "data", &["child", "since", "school"]);
            let since = f.date(d, "data", "since", true);
            let school = school_ref(d, "school", false, f);
            Some((
                Vec::new(),
                Body::Leerplicht(LeerplichtData::ThuiszitterRegistered {
                    since: since?,
                    school,
                }),
            ))
        }
        "leerplicht.thuiszitter-resolved" => {
            f.no_unknown(d, "data", &["child", "date", "offer"]);
            let date = f.date(d, "data", "date", true);
            let offer = f.one_of(d, "data", "offer", OFFERS);
            Some((
                Vec::new(),
                Body::Leerplicht(LeerplichtData::ThuiszitterResolved {
                    date: date?,
                    offer: offer?,
                }),
            ))
        }
        "jeugdhulp.assignment-issued" => jeugdhulp_assignment(d, f),
        "jeugdhulp.assignment-withdrawn" => {
            f.no_unknown(d, "data", &["child", "toewijzingNummer", "date"]);
            let nr = f.parsed(d, "data", "toewijzingNummer", true, slug(20));
            let date = f.date(d, "data", "date", true);
            Some((
                Vec::new(),
                Body::Jeugdhulp(JeugdhulpData::AssignmentWithdrawn {
                    toewijzing_nummer: nr?,
                    date: date?,
                }),
            ))
        }
        "jeugdhulp.care-started" => {
            f.no_unknown(d, "data", &["child", "toewijzingNummer", "begindatum"]);
            let nr = f.parsed(d, "data", "toewijzingNummer", true, slug(20));
            let begin = f.date(d, "data", "begindatum", true);
            Some((
                Vec::new(),
                Body::Jeugdhulp(JeugdhulpData::CareStarted {
                    toewijzing_nummer: nr?,
                    begindatum: begin?,
                }),
            ))
        }
        "jeugdhulp.care-stopped" => {
            f.no_unknown(
                d,
                "data",
                &[
                    "child",
                    "toewijzingNummer",
                    "begindatum",
                    "einddatum",
                    "redenBeeindiging",
                ],
            );
            let nr = f.parsed(d, "data", "toewijzingNummer", true, slug(20));
            let begin = f.date(d, "data", "begindatum", true);
            let end = f.date(d, "data", "einddatum", true);
            f.not_before(begin, end, "data", "einddatum", "begindatum");
            let reden = f.parsed(d, "data", "redenBeeindiging", false, slug(8));
            Some((
                Vec::new(),
                Body::Jeugdhulp(JeugdhulpData::CareStopped {
                    toewijzing_nummer: nr?,
                    begindatum: begin?,
                    einddatum: end?,
                    reden_beeindiging: reden,
                }),
            ))
        }
        "jeugdhulp.care-withdrawn" => {
            f.no_unknown(
                d,
                "data",
                &["child", "toewijzingNummer", "record", "begindatum"],
            );
            let nr = f.parsed(d, "data", "toewijzingNummer", true, slug(20));
            let record = f.one_of(d, "data", "record", &["start", "stop"]);
            let begin = f.date(d, "data", "begindatum", true);
            Some((
                Vec::new(),
                Body::Jeugdhulp(JeugdhulpData::CareWithdrawn {
                    toewijzing_nummer: nr?,
                    record: record?,
                    begindatum: begin?,
                }),
            ))
        }
        "jeugdhulp.assignment-requested" => {
            f.no_unknown(
                d,
                "data",
                &[
                    "child",
                    "referentieAanbieder",
                    "product",
                    "ingangsdatum",
                    "einddatum",
                    "gemeente",
                ],
            );
            let reference = f.parsed(d, "data", "referentieAanbieder", true, slug(40));
            let product = product(d, f);
            let start = f.date(d, "data", "ingangsdatum", false);
            let end = f.date(d, "data", "einddatum", false);
            f.not_before(start, end, "data", "einddatum", "ingangsdatum");
            let gemeente: String = f
                .parsed(d, "data", "gemeente", true, Gemeentecode::parse)?
                .into();
            let scope = vec![("data.gemeente".to_owned(), format!("gemeente:{gemeente}"))];
            Some((
                scope,
                Body::Jeugdhulp(JeugdhulpData::AssignmentRequested {
                    referentie_aanbieder: reference?,
                    product: product?,
                    ingangsdatum: start,
                    einddatum: end,
                    gemeente,
                }),
            ))
        }
        _ => {
            f.err("type", "is not a known event type (see EVENTS.md)");
            None
        }
    }
}

/// `data.product`: an iJw productcategorie and optional productcode.
fn product(d: &Obj, f: &mut Fields<'_>) -> Option<Product> {
    f.object(d, "data", "product", true).and_then(|p| {
        f.no_unknown(p, "data.product", &["categorie", "code"]);
        let cat = f.parsed(p, "data.product", "categorie", true, |s: &str| {
            if s.len() == 2 && s.bytes().all(|b| b.is_ascii_digit()) {
                Ok(s.to_owned())
            } else {
                Err("must be a 2-digit iJw productcategorie")
            }
        });
        let code = f.parsed(p, "data.product", "code", false, |s: &str| {
            if (1..=5).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric()) {
                Ok(s.to_owned())
            } else {
                Err("must be an iJw productcode of 1 to 5 letters or digits")
            }
        });
        Some(Product {
            categorie: cat?,
            code,
        })
    })
}

fn jeugdhulp_assignment(d: &Obj, f: &mut Fields<'_>) -> Option<Scoped> {
    f.no_unknown(
        d,
        "data",
        &[
            "child",
            "toewijzingNummer",
            "product",
            "ingangsdatum",
            "einddatum",
            "toewijzingTijdstip",
            "verlengdeJeugdhulp",
            "gemeente",
        ],
    );
    let nr = f.parsed(d, "data", "toewijzingNummer", true, slug(20));
    let product = product(d, f);
    let start = f.date(d, "data", "ingangsdatum", true);
    let end = f.date(d, "data", "einddatum", false);
    f.not_before(start, end, "data", "einddatum", "ingangsdatum");
    let stamp = f.timestamp(d, "data", "toewijzingTijdstip");
    let verlengd = f.boolean(d, "data", "verlengdeJeugdhulp", false);
    let gemeente = f.parsed(d, "data", "gemeente", true, Gemeentecode::parse);
    let gemeente: String = gemeente?.into();
    let scope = vec![("data.gemeente".to_owned(), format!("gemeente:{gemeente}"))];
    let start: Date = start?;
    Some((
        scope,
        Body::Jeugdhulp(JeugdhulpData::AssignmentIssued {
            toewijzing_nummer: nr?,
            product: product?,
            ingangsdatum: start,
            einddatum: end,
            toewijzing_tijdstip: stamp?,
            verlengde_jeugdhulp: verlengd,
            gemeente,
        }),
    ))
}
