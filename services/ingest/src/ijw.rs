//! iJw 3.0 and 3.2 messages (JW301 toewijzing, JW305 start zorg, JW307 stop zorg, JW315
//! verzoek om toewijzing) read into the jeugdhulp events of EVENTS.md.
//!
//! The parser builds a small element tree by namespace and local name (prefixes do not
//! matter), then maps each product of each client to one CloudEvent in the JSON form that
//! `POST /v1/events` takes, so both paths share one validation. Each product gets its own
//! result, modelled on the iJw retour: `0200` accepted, or a code and text per failed check
//! (docs/ijw.md lists them).

use jiff::civil::{Date, Time};
use jiff::tz::TimeZone;
use quick_xml::events::Event;
use quick_xml::name::ResolveResult;
use quick_xml::NsReader;
use serde::Serialize;
use serde_json::{json, Map, Value};

use crate::problem::{ErrorKind, FieldError};
use schakel_core::domain::catalogue::EventType;

/// Deepest element nesting accepted (iJw messages are about 5 deep).
const MAX_DEPTH: usize = 24;
/// Most elements in one message.
const MAX_ELEMENTS: usize = 200_000;

/// One element: namespace, local name, text and children.
#[derive(Debug, Default, Clone)]
pub struct El {
    pub ns: String,
    pub name: String,
    pub text: String,
    pub children: Vec<El>,
}

impl El {
    pub fn child(&self, name: &str) -> Option<&El> {
        self.children.iter().find(|c| c.name == name)
    }
    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a El> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }
    /// The trimmed text of a child, if present and not empty.
    pub fn text_of(&self, name: &str) -> Option<&str> {
        self.child(name)
            .map(|c| c.text.trim())
            .filter(|t| !t.is_empty())
    }
}

/// Parses XML into an element tree; errors say where the XML is broken.
pub fn parse_tree(xml: &str) -> Result<El, String> {
    let mut reader = NsReader::from_str(xml);
    reader.config_mut().trim_text(true);
    let mut stack: Vec<El> = Vec::new();
    let mut root: Option<El> = None;
    let mut count = 0usize;
    loop {
        let pos = reader.buffer_position();
        let (ns, ev) = reader
            .read_resolved_event()
            .map_err(|e| format!("XML near byte {pos}: {e}"))?;
        let ns_of = |r: &ResolveResult| match r {
            ResolveResult::Bound(n) => String::from_utf8_lossy(n.as_ref()).into_owned(),
            _ => String::new(),
        };
        match ev {
            Event::Start(ref e) | Event::Empty(ref e) => {
                count += 1;
                if count > MAX_ELEMENTS {
                    return Err(format!("more than {MAX_ELEMENTS} elements"));
                }
                if stack.len() >= MAX_DEPTH {
                    return Err(format!("elements nested deeper than {MAX_DEPTH}"));
                }
                stack.push(El {
                    ns: ns_of(&ns),
                    name: String::from_utf8_lossy(e.local_name().as_ref()).into_owned(),
                    ..El::default()
                });
                if matches!(ev, Event::Empty(_)) {
                    close(&mut stack, &mut root)?;
                }
            }
            Event::End(_) => close(&mut stack, &mut root)?,
            Event::Text(t) => {
                let s = t.unescape().map_err(|e| format!("XML text: {e}"))?;
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&s);
                }
            }
            Event::CData(t) => {
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&String::from_utf8_lossy(&t));
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if !stack.is_empty() {
        return Err("the XML ends inside an element".into());
    }
    root.ok_or_else(|| "no root element".into())
}

fn close(stack: &mut Vec<El>, root: &mut Option<El>) -> Result<(), String> {
    let el = stack.pop().ok_or("an end tag without a start tag")?;
    match stack.last_mut() {
        Some(parent) => parent.children.push(el),
        None => {
            if root.is_some() {
                return Err("more than one root element".into());
            }
            *root = Some(el);
        }
    }
    Ok(())
}

/// The message types Schakel reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Kind {
    #[serde(rename = "JW301")]
    Jw301,
    #[serde(rename = "JW305")]
    Jw305,
    #[serde(rename = "JW307")]
    Jw307,
    #[serde(rename = "JW315")]
    Jw315,
}

impl Kind {
    fn product_element(self) -> &'static str {
        match self {
            Kind::Jw301 => "ToegewezenProduct",
            Kind::Jw305 => "StartProduct",
            Kind::Jw307 => "StopProduct",
            Kind::Jw315 => "AangevraagdProduct",
        }
    }
    fn code(self) -> &'static str {
        match self {
            Kind::Jw301 => "jw301",
            Kind::Jw305 => "jw305",
            Kind::Jw307 => "jw307",
            Kind::Jw315 => "jw315",
        }
    }
}

/// A message read far enough to know its type, version and header.
#[derive(Debug, Clone)]
pub struct Message {
    pub kind: Kind,
    /// "3.0" or "3.2"
    pub version: String,
    pub root: El,
}

/// Reads a `Bericht` and tells its type and version from its namespace
/// `http://www.istandaarden.nl/ijw/3_2/jwNNN/schema`.
pub fn read_message(xml: &str) -> Result<Message, String> {
    let root = parse_tree(xml)?;
    if root.name != "Bericht" {
        return Err(format!(
            "the root element is {}, not an iJw Bericht",
            root.name
        ));
    }
    let rest = root
        .ns
        .strip_prefix("http://www.istandaarden.nl/ijw/")
        .and_then(|r| r.strip_suffix("/schema"))
        .ok_or_else(|| {
            format!(
                "namespace {:?} is not an iJw message namespace (http://www.istandaarden.nl/ijw/3_2/jwNNN/schema)",
                root.ns
            )
        })?;
    let (version, kind) = rest.split_once('/').ok_or("incomplete iJw namespace")?;
    let version = match version {
        "3_0" => "3.0",
        "3_2" => "3.2",
        v => {
            return Err(format!(
                "iJw release {v} is not supported (3.0 and 3.2 are)"
            ))
        }
    };
    let kind = match kind {
        "jw301" => Kind::Jw301,
        "jw305" => Kind::Jw305,
        "jw307" => Kind::Jw307,
        "jw315" => Kind::Jw315,
        k => {
            return Err(format!(
                "message {k} is not read by Schakel (JW301, JW305, JW307 and JW315 are)"
            ))
        }
    };
    Ok(Message {
        kind,
        version: version.into(),
        root,
    })
}

/// A failed check, as in an iJw retour: a code and its explanation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    pub code: &'static str,
    pub toelichting: String,
}

/// One product of the message: the event it becomes, or the checks it failed.
#[derive(Debug, Clone)]
pub struct ProductRecord {
    /// 1-based number of the client in the message
    pub client: usize,
    /// ToewijzingNummer, or ReferentieAanbieder for a JW315
    pub referentie: String,
    pub event: Result<Value, Vec<Check>>,
}

/// The retour code of a failed field check (docs/ijw.md): an end date before its start is
/// 8006 whichever field it is; every other code is that of the field.
pub fn check_for(e: &FieldError) -> Check {
    let (field, message) = (e.field.as_str(), e.message.as_str());
    let code = if e.kind == ErrorKind::Order {
        "8006"
    } else if field.starts_with("data.child.bsn") {
        "8001"
    } else if field.starts_with("data.child.birthDate") {
        "8002"
    } else if field.starts_with("data.toewijzingNummer") {
        "8003"
    } else if field.starts_with("data.product") {
        "8004"
    } else if [
        "data.ingangsdatum",
        "data.einddatum",
        "data.begindatum",
        "data.date",
    ]
    .iter()
    .any(|f| field.starts_with(f))
    {
        "8005"
    } else if field.starts_with("data.toewijzingTijdstip") {
        "8007"
    } else if field.starts_with("data.gemeente")
        || field.starts_with("source")
        || field.starts_with("data.child.residenceMunicipality")
    {
        "8008"
    } else if field.starts_with("data.child.name") {
        "8010"
    } else if field.starts_with("data.referentieAanbieder") {
        "8011"
    } else {
        "8099"
    };
    Check {
        code,
        toelichting: format!("{field}: {message}"),
    }
}

fn check(code: &'static str, text: impl Into<String>) -> Check {
    Check {
        code,
        toelichting: text.into(),
    }
}

/// A date and time in the Netherlands' local time as an instant (RFC 3339, UTC).
fn local_stamp(date: &str, time: &str) -> Option<String> {
    let d: Date = date.parse().ok()?;
    let t: Time = time.parse().ok()?;
    let z = d
        .to_datetime(t)
        .to_zoned(TimeZone::get("Europe/Amsterdam").ok()?)
        .ok()?;
    Some(z.timestamp().to_string())
}

fn product_json(p: &El) -> Value {
    let mut m = Map::new();
    if let Some(c) = p.text_of("Categorie") {
        m.insert("categorie".into(), json!(c));
    }
    if let Some(c) = p.text_of("Code") {
        m.insert("code".into(), json!(c));
    }
    Value::Object(m)
}

fn insert_opt(m: &mut Map<String, Value>, key: &str, v: Option<&str>) {
    if let Some(v) = v {
        m.insert(key.into(), json!(v));
    }
}

/// Every product of every client, each as a CloudEvent for `POST /v1/events` (validated by
/// the caller) or the checks that failed while reading it.
pub fn products(msg: &Message) -> Vec<ProductRecord> {
    let header = msg.root.child("Header");
    let h = |n: &str| header.and_then(|h| h.text_of(n)).unwrap_or("");
    // the municipality: the sender of a toewijzing, the receiver of the provider's messages
    let gemeente = match msg.kind {
        Kind::Jw301 => h("Afzender"),
        _ => h("Ontvanger"),
    }
    .to_owned();
    let identificatie = h("Identificatie").to_owned();
    let dagtekening = h("Dagtekening").to_owned();
    let mut out = Vec::new();
    for (ci, client) in msg.root.all("Client").enumerate() {
        let mut child = Map::new();
        let mut client_checks = Vec::new();
        insert_opt(&mut child, "bsn", client.text_of("Bsn"));
        if let Some(g) = client.child("Geboortedatum") {
            insert_opt(&mut child, "birthDate", g.text_of("Datum"));
            match g.text_of("DatumGebruik") {
                None => {}
                Some("1") => {
                    child.insert("birthDatePrecision".into(), json!("month"));
                }
                Some("2") => {
                    child.insert("birthDatePrecision".into(), json!("year"));
                }
                Some("3") => client_checks.push(check(
                    "8002",
                    "Geboortedatum: DatumGebruik 3 (datum onbekend); Schakel needs at least the year",
                )),
                Some(other) => client_checks.push(check(
                    "8002",
                    format!("Geboortedatum.DatumGebruik {other:?} is not 1, 2 or 3"),
                )),
            }
        }
        if let Some(n) = client.child("Naam") {
            let family = [n.text_of("Voorvoegsel"), n.text_of("Achternaam")]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" ");
            let mut name = Map::new();
            insert_opt(&mut name, "given", n.text_of("Voornamen"));
            if !family.is_empty() {
                name.insert("family".into(), json!(family));
            }
            if !name.is_empty() {
                child.insert("name".into(), Value::Object(name));
            }
        }
        if !gemeente.is_empty() {
            child.insert("residenceMunicipality".into(), json!(gemeente));
        }
        for p in client.all(msg.kind.product_element()) {
            let nr = p.text_of("ToewijzingNummer").unwrap_or("");
            let referentie = match msg.kind {
                Kind::Jw315 => p.text_of("ReferentieAanbieder").unwrap_or(""),
                _ => nr,
            }
            .to_owned();
            let mut checks = client_checks.clone();
            let status = p.text_of("StatusAanlevering");
            let withdraw = match (msg.kind, status) {
                (_, None) if matches!(msg.kind, Kind::Jw301 | Kind::Jw315) => false,
                (_, Some("1")) => false,
                (Kind::Jw301 | Kind::Jw305 | Kind::Jw307, Some("3")) => true,
                (_, None) => {
                    checks.push(check("8009", "StatusAanlevering is required (1 or 3)"));
                    false
                }
                (_, Some(s)) => {
                    checks.push(check(
                        "8009",
                        format!(
                            "StatusAanlevering {s:?}: 1 (aanlevering) or 3 (verwijderen) expected"
                        ),
                    ));
                    false
                }
            };
            // administratieve correctie (vervallen): the toewijzing counts as never sent
            let withdraw =
                withdraw || (msg.kind == Kind::Jw301 && p.text_of("RedenWijziging") == Some("01"));
            let (ty, data, key) = match (msg.kind, withdraw) {
                (Kind::Jw301, false) => {
                    let mut d = Map::new();
                    insert_opt(&mut d, "toewijzingNummer", p.text_of("ToewijzingNummer"));
                    if let Some(pr) = p.child("Product") {
                        d.insert("product".into(), product_json(pr));
                    }
                    insert_opt(&mut d, "ingangsdatum", p.text_of("Ingangsdatum"));
                    insert_opt(&mut d, "einddatum", p.text_of("Einddatum"));
                    let (datum, tijd) = (
                        p.text_of("Toewijzingsdatum").unwrap_or(""),
                        p.text_of("Toewijzingstijd").unwrap_or(""),
                    );
                    match local_stamp(datum, tijd) {
                        Some(s) => {
                            d.insert("toewijzingTijdstip".into(), json!(s));
                        }
                        None => checks.push(check(
                            "8007",
                            "Toewijzingsdatum and Toewijzingstijd are required and must be a valid date (JJJJ-MM-DD) and time (UU:MM:SS)",
                        )),
                    }
                    d.insert("gemeente".into(), json!(gemeente));
                    (EventType::AssignmentIssued, d, format!("{datum}T{tijd}"))
                }
                (Kind::Jw301, true) => {
                    let mut d = Map::new();
                    insert_opt(&mut d, "toewijzingNummer", p.text_of("ToewijzingNummer"));
                    let date = p
                        .text_of("Toewijzingsdatum")
                        .or(Some(dagtekening.as_str()))
                        .filter(|s| !s.is_empty());
                    insert_opt(&mut d, "date", date);
                    (EventType::AssignmentWithdrawn, d, "withdrawn".to_owned())
                }
                (Kind::Jw305 | Kind::Jw307, true) => {
                    let mut d = Map::new();
                    insert_opt(&mut d, "toewijzingNummer", p.text_of("ToewijzingNummer"));
                    d.insert(
                        "record".into(),
                        json!(if msg.kind == Kind::Jw305 {
                            "start"
                        } else {
                            "stop"
                        }),
                    );
                    insert_opt(&mut d, "begindatum", p.text_of("Begindatum"));
                    (EventType::CareWithdrawn, d, "withdrawn".to_owned())
                }
                (Kind::Jw305, false) => {
                    let mut d = Map::new();
                    insert_opt(&mut d, "toewijzingNummer", p.text_of("ToewijzingNummer"));
                    insert_opt(&mut d, "begindatum", p.text_of("Begindatum"));
                    (EventType::CareStarted, d, "1".to_owned())
                }
                (Kind::Jw307, false) => {
                    let mut d = Map::new();
                    insert_opt(&mut d, "toewijzingNummer", p.text_of("ToewijzingNummer"));
                    insert_opt(&mut d, "begindatum", p.text_of("Begindatum"));
                    insert_opt(&mut d, "einddatum", p.text_of("Einddatum"));
                    insert_opt(&mut d, "redenBeeindiging", p.text_of("RedenBeeindiging"));
                    (EventType::CareStopped, d, "1".to_owned())
                }
                (Kind::Jw315, _) => {
                    let mut d = Map::new();
                    insert_opt(
                        &mut d,
                        "referentieAanbieder",
                        p.text_of("ReferentieAanbieder"),
                    );
                    if let Some(pr) = p.child("Product") {
                        d.insert("product".into(), product_json(pr));
                    }
                    insert_opt(&mut d, "ingangsdatum", p.text_of("ToewijzingIngangsdatum"));
                    insert_opt(&mut d, "einddatum", p.text_of("ToewijzingEinddatum"));
                    d.insert("gemeente".into(), json!(gemeente));
                    (EventType::AssignmentRequested, d, "1".to_owned())
                }
            };
            if !checks.is_empty() {
                out.push(ProductRecord {
                    client: ci + 1,
                    referentie,
                    event: Err(checks),
                });
                continue;
            }
            let mut data = data;
            data.insert("child".into(), Value::Object(child.clone()));
            // the same message sent again gets the same ids (deduplicated downstream); a
            // new message that re-delivers a record gets new ones
            let id = format!(
                "ijw:{}:{}:{}:{}:{}",
                msg.kind.code(),
                gemeente,
                identificatie,
                referentie,
                key
            );
            out.push(ProductRecord {
                client: ci + 1,
                referentie,
                event: Ok(crate::validate::envelope(
                    ty,
                    id,
                    format!("urn:nld:gemeente:{gemeente}:systeem:ijw"),
                    Value::Object(data),
                )),
            });
        }
    }
    out
}
