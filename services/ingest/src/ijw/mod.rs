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

mod endpoint;
mod products;
mod tree;

pub use endpoint::post_ijw;
pub use products::products;
pub use tree::{parse_tree, El};

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
