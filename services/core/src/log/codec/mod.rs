//! Avro single-object encoding against schemas compiled into the binary, so no registry is
//! needed. apache-avro parses the schemas, gives their Parsing Canonical Form and CRC-64-AVRO
//! fingerprint, reads datums and resolves a writer's schema against the reader's; `write`
//! writes the binary encoding (checked against apache-avro's writer in the tests). Values
//! travel through serde as JSON: records are objects, enums strings, `date` is `YYYY-MM-DD`,
//! `timestamp-millis` RFC 3339, and a union of several record types is written
//! `{"RecordName": {...}}` (serde's externally tagged enums); `["null", T]` is a plain option.

mod de;
mod from_avro;
mod schema;
mod write;

use std::collections::HashMap;
use std::sync::Arc;

use apache_avro::reader::datum::GenericDatumReader;
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::domain::catalogue::Topic;

pub use schema::Schema;

/// Why a value could not be encoded or decoded. None of these is helped by a retry.
#[derive(Debug, thiserror::Error)]
pub enum CodecError {
    #[error("invalid schema: {0}")]
    Schema(String),
    #[error("cannot encode: {0}")]
    Encode(String),
    #[error("cannot decode: {0}")]
    Decode(String),
    #[error("cannot resolve writer schema against reader schema: {0}")]
    Resolve(String),
    #[error("not single-object encoded")]
    Framing,
    #[error("unknown schema fingerprint {0:016x}")]
    UnknownFingerprint(u64),
    #[error("no schema for topic {0}")]
    UnknownTopic(String),
    #[error("does not fit the Rust type: {0}")]
    Shape(String),
}

const MAGIC: [u8; 2] = [0xC3, 0x01];

/// Encodes `value` with `schema` in single-object encoding.
pub fn encode<T: Serialize>(schema: &Schema, value: &T) -> Result<Vec<u8>, CodecError> {
    let json = serde_json::to_value(value).map_err(|e| CodecError::Encode(e.to_string()))?;
    encode_json(schema, &json)
}

/// Encodes a JSON value with `schema` in single-object encoding.
pub fn encode_json(schema: &Schema, json: &serde_json::Value) -> Result<Vec<u8>, CodecError> {
    let mut out = Vec::with_capacity(128);
    out.extend_from_slice(&MAGIC);
    out.extend_from_slice(&schema.fingerprint().to_le_bytes());
    write::write(schema.avro, schema.names(), json, &mut out)
        .map_err(|m| CodecError::Encode(m.message()))?;
    Ok(out)
}

/// The writer fingerprint of a single-object encoded message.
pub fn fingerprint_of(bytes: &[u8]) -> Result<u64, CodecError> {
    if bytes.len() < 10 || bytes[..2] != MAGIC {
        return Err(CodecError::Framing);
    }
    Ok(u64::from_le_bytes(
        bytes[2..10].try_into().expect("8 bytes"),
    ))
}

/// Reads a datum written with `writer` in the shape of `reader` (resolved when they differ).
fn read_with(
    writer: &Schema,
    reader: &Schema,
    datum: &[u8],
) -> Result<apache_avro::types::Value, CodecError> {
    let mut rd = datum;
    let value = if writer.fingerprint() == reader.fingerprint() {
        writer.reader.read_value(&mut rd)
    } else {
        // an older record: resolved against the reader schema (rare, so built per call)
        GenericDatumReader::builder(writer.avro)
            .resolved_writer_schemata(writer.names.clone())
            .reader_schema(reader.avro)
            .resolved_reader_schemata(reader.names.clone())
            .build()
            .map_err(|e| CodecError::Resolve(e.to_string()))?
            .read_value(&mut rd)
    }
    .map_err(|e| CodecError::Decode(e.to_string()))?;
    if !rd.is_empty() {
        return Err(CodecError::Decode("trailing bytes after datum".into()));
    }
    Ok(value)
}

/// Decodes a datum written with `writer` into the shape of `reader`, as JSON.
pub fn decode_json_with(
    writer: &Schema,
    reader: &Schema,
    datum: &[u8],
) -> Result<serde_json::Value, CodecError> {
    let value = read_with(writer, reader, datum)?;
    from_avro::to_json(reader.avro, reader.names(), value)
}

/// The schemas a binary knows: the current one per topic and every older version, by
/// fingerprint, so records written by older producers stay readable.
#[derive(Debug, Clone, Default)]
pub struct Registry {
    current: HashMap<Topic, Arc<Schema>>,
    known: HashMap<u64, Arc<Schema>>,
}

impl Registry {
    /// Adds the current schema of a topic.
    pub fn add_current(&mut self, topic: Topic, text: &str) -> Result<(), CodecError> {
        let s = Arc::new(Schema::parse(text)?);
        self.known.insert(s.fingerprint(), s.clone());
        self.current.insert(topic, s);
        Ok(())
    }

    /// Adds an older schema version that may still be found in the log.
    pub fn add_history(&mut self, text: &str) -> Result<(), CodecError> {
        let s = Arc::new(Schema::parse(text)?);
        self.known.insert(s.fingerprint(), s);
        Ok(())
    }

    pub fn current(&self, topic: Topic) -> Result<&Arc<Schema>, CodecError> {
        self.current
            .get(&topic)
            .ok_or_else(|| CodecError::UnknownTopic(topic.name().to_owned()))
    }

    pub fn encode<T: Serialize>(&self, topic: Topic, value: &T) -> Result<Vec<u8>, CodecError> {
        encode(self.current(topic)?, value)
    }

    /// Decodes a single-object message into the current schema's shape, then into `T`.
    /// (Straight from the Avro value into `T`, as `T` would take the JSON of
    /// [`Registry::decode_json`].)
    pub fn decode<T: DeserializeOwned>(&self, topic: Topic, bytes: &[u8]) -> Result<T, CodecError> {
        let (writer, reader) = self.schemas(topic, bytes)?;
        let value = read_with(writer, reader, &bytes[10..])?;
        T::deserialize(de::De {
            value,
            schema: reader.avro,
            names: reader.names(),
        })
        .map_err(|e| CodecError::Shape(e.to_string()))
    }

    pub fn decode_json(&self, topic: Topic, bytes: &[u8]) -> Result<serde_json::Value, CodecError> {
        let (writer, reader) = self.schemas(topic, bytes)?;
        decode_json_with(writer, reader, &bytes[10..])
    }

    /// The schema a message was written with, and the topic's current one.
    fn schemas(&self, topic: Topic, bytes: &[u8]) -> Result<(&Schema, &Schema), CodecError> {
        let fp = fingerprint_of(bytes)?;
        let writer = self
            .known
            .get(&fp)
            .ok_or(CodecError::UnknownFingerprint(fp))?;
        Ok((writer, self.current(topic)?))
    }
}

#[cfg(test)]
mod tests;
