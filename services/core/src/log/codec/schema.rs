//! A parsed Avro schema (apache-avro's) with its Parsing Canonical Form, its CRC-64-AVRO
//! fingerprint and the datum reader built for it once.

use std::fmt;
use std::sync::Arc;

use apache_avro::rabin::Rabin;
use apache_avro::reader::datum::GenericDatumReader;
use apache_avro::schema::{Name, NamesRef, ResolvedSchema};

use super::CodecError;

pub(crate) type AvroSchema = apache_avro::Schema;

/// The largest string, bytes or array a datum may hold (Kafka's records are far smaller).
const MAX_ALLOCATION: usize = 16 << 20;

/// A parsed schema. Schemas are parsed once per process (the topics' schemas are compiled
/// into the binary) and live as long as it: the parsed tree is leaked so the reader that
/// borrows it can be built once and shared by every thread.
#[derive(Clone)]
pub struct Schema {
    pub(crate) avro: &'static AvroSchema,
    pub(crate) names: ResolvedSchema<'static>,
    /// reads data written with this schema into this schema's shape (no resolution needed)
    pub(crate) reader: Arc<GenericDatumReader<'static>>,
    canonical: String,
    fingerprint: u64,
}

impl Schema {
    pub fn parse(text: &str) -> Result<Self, CodecError> {
        // a corrupt length prefix is an error, not a huge allocation (the first call sets it)
        apache_avro::util::max_allocation_bytes(MAX_ALLOCATION);
        let bad = |e: apache_avro::Error| CodecError::Schema(e.to_string());
        let avro: &'static AvroSchema =
            Box::leak(Box::new(AvroSchema::parse_str(text).map_err(bad)?));
        let names = ResolvedSchema::new(avro).map_err(bad)?;
        let reader = GenericDatumReader::builder(avro)
            .resolved_writer_schemata(names.clone())
            .build()
            .map_err(bad)?;
        let (canonical, fingerprint) = canonical_form(avro)?;
        Ok(Self {
            avro,
            names,
            reader: Arc::new(reader),
            canonical,
            fingerprint,
        })
    }

    /// The Parsing Canonical Form (what the fingerprint is taken of).
    pub fn canonical_form(&self) -> &str {
        &self.canonical
    }

    /// The CRC-64-AVRO (Rabin) fingerprint of the canonical form.
    pub fn fingerprint(&self) -> u64 {
        self.fingerprint
    }

    pub(crate) fn names(&self) -> &NamesRef<'static> {
        self.names.get_names()
    }
}

impl fmt::Debug for Schema {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Schema")
            .field("fingerprint", &format_args!("{:016x}", self.fingerprint))
            .field("canonical", &self.canonical)
            .finish()
    }
}

/// The Parsing Canonical Form as the specification and the reference implementations (Java,
/// Python) write it. apache-avro 0.22 keeps `{"type":"int"}` for a primitive that carries a
/// logical type where the specification's [PRIMITIVES] rule asks for `"int"`, which changes
/// the fingerprint of every schema with a date or a timestamp; so the logical types are
/// stripped first (they never belong to the canonical form) and the crate writes the rest.
/// Returns the form and its CRC-64-AVRO fingerprint.
fn canonical_form(avro: &AvroSchema) -> Result<(String, u64), CodecError> {
    fn strip(v: &mut serde_json::Value) {
        match v {
            serde_json::Value::Object(map) => {
                map.remove("logicalType");
                map.values_mut().for_each(strip);
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(strip),
            _ => {}
        }
    }
    let bad = |e: String| CodecError::Schema(e);
    let mut json = serde_json::to_value(avro).map_err(|e| bad(e.to_string()))?;
    strip(&mut json);
    let plain = AvroSchema::parse(&json).map_err(|e| bad(e.to_string()))?;
    let fingerprint = plain.fingerprint::<Rabin>().bytes;
    let fingerprint = u64::from_le_bytes(fingerprint.try_into().expect("CRC-64-AVRO has 8 bytes"));
    Ok((plain.canonical_form(), fingerprint))
}

/// Follows a reference to a named type.
pub(crate) fn deref<'a>(
    schema: &'a AvroSchema,
    names: &'a NamesRef<'static>,
) -> Result<&'a AvroSchema, String> {
    match schema {
        AvroSchema::Ref { name } => names
            .get(name)
            .copied()
            .ok_or_else(|| format!("unknown named type {}", name.fullname(None))),
        s => Ok(s),
    }
}

/// The short name of a named type (`Stopped` for `t.Stopped`), which tags a record in a union.
pub(crate) fn short_name(schema: &AvroSchema) -> Option<&str> {
    schema.name().map(Name::name)
}
