//! Turns a decoded Avro value back into the project's JSON convention, guided by the schema the
//! value has (the reader's, after resolution).

use apache_avro::schema::NamesRef;
use apache_avro::types::Value;
use base64::Engine;
use jiff::Timestamp;
use serde_json::{Map, Value as Json};

use super::schema::{deref, short_name, AvroSchema};
use super::CodecError;
use crate::domain::dates::from_epoch_days;

fn shape(what: &str) -> CodecError {
    CodecError::Decode(format!("value does not have its schema's shape: {what}"))
}

fn b64(b: &[u8]) -> Json {
    Json::String(base64::engine::general_purpose::STANDARD.encode(b))
}

pub(crate) fn to_json(
    schema: &AvroSchema,
    names: &NamesRef<'static>,
    value: Value,
) -> Result<Json, CodecError> {
    let schema = deref(schema, names).map_err(CodecError::Decode)?;
    Ok(match value {
        Value::Null => Json::Null,
        Value::Boolean(b) => Json::Bool(b),
        Value::Int(n) => Json::from(n),
        Value::Long(n) => Json::from(n),
        Value::Float(f) => {
            serde_json::Number::from_f64(f64::from(f)).map_or(Json::Null, Json::Number)
        }
        Value::Double(f) => serde_json::Number::from_f64(f).map_or(Json::Null, Json::Number),
        Value::String(s) | Value::Enum(_, s) => Json::String(s),
        Value::Bytes(b) | Value::Fixed(_, b) => b64(&b),
        Value::Date(days) => from_epoch_days(days)
            .map(|d| Json::String(d.to_string()))
            .ok_or_else(|| CodecError::Decode("date out of range".into()))?,
        Value::TimestampMillis(ms) => Timestamp::from_millisecond(ms)
            .map(|t| Json::String(t.to_string()))
            .map_err(|_| CodecError::Decode("timestamp out of range".into()))?,
        Value::Array(items) => {
            let AvroSchema::Array(a) = schema else {
                return Err(shape("array"));
            };
            Json::Array(
                items
                    .into_iter()
                    .map(|v| to_json(&a.items, names, v))
                    .collect::<Result<_, _>>()?,
            )
        }
        Value::Map(entries) => {
            let AvroSchema::Map(m) = schema else {
                return Err(shape("map"));
            };
            let mut out = Map::new();
            for (k, v) in entries {
                out.insert(k, to_json(&m.types, names, v)?);
            }
            Json::Object(out)
        }
        Value::Record(fields) => {
            let AvroSchema::Record(r) = schema else {
                return Err(shape("record"));
            };
            let mut out = Map::new();
            for (i, (name, v)) in fields.into_iter().enumerate() {
                // fields come in schema order; look a name up only when they do not
                let f = match r.fields.get(i) {
                    Some(f) if f.name == name => f,
                    _ => r
                        .lookup
                        .get(&name)
                        .map(|&j| &r.fields[j])
                        .ok_or_else(|| shape("record field"))?,
                };
                out.insert(name, to_json(&f.schema, names, v)?);
            }
            Json::Object(out)
        }
        Value::Union(i, inner) => {
            let AvroSchema::Union(u) = schema else {
                return Err(shape("union"));
            };
            let branch = u
                .variants()
                .get(i as usize)
                .ok_or_else(|| shape("union branch"))?;
            let branch = deref(branch, names).map_err(CodecError::Decode)?;
            let v = to_json(branch, names, *inner)?;
            let non_null = u
                .variants()
                .iter()
                .filter(|b| !matches!(b, AvroSchema::Null))
                .count();
            // a record in a union of several types is tagged with its short name
            match (non_null > 1, branch) {
                (true, AvroSchema::Record(_)) => {
                    let tag = short_name(branch).expect("a record has a name").to_owned();
                    Json::Object(Map::from_iter([(tag, v)]))
                }
                _ => v,
            }
        }
        other => {
            return Err(CodecError::Decode(format!(
                "unsupported Avro value {other:?}"
            )))
        }
    })
}
