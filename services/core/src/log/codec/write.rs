//! Writes a JSON value (the project's convention, see the module docs) in the Avro binary
//! encoding of a schema parsed by apache-avro, refusing what does not fit with the path of the
//! field that is wrong.
//!
//! The bytes go straight into the output: apache-avro's datum writer wants an
//! `apache_avro::types::Value` tree per record and looks every record field up in a hash map
//! built per record, which measured about a quarter more work per record than the codec this
//! one replaced (docs/decisions.md). What is written here is checked against apache-avro's
//! own writer in the tests; reading, resolution and fingerprints are apache-avro's.

use apache_avro::schema::{NamesRef, RecordSchema, UnionSchema};
use base64::Engine;
use jiff::Timestamp;
use serde_json::{Map, Value as Json};

use super::schema::{deref, short_name, AvroSchema};
use crate::domain::dates::{parse_date, to_epoch_days};

/// What was wrong and where: the path is collected on the way out, innermost segment first.
pub(crate) struct Misfit {
    rev_path: Vec<String>,
    want: String,
}

impl Misfit {
    fn want(what: impl Into<String>) -> Self {
        Self {
            rev_path: Vec::new(),
            want: what.into(),
        }
    }

    fn under(mut self, segment: impl Into<String>) -> Self {
        self.rev_path.push(segment.into());
        self
    }

    /// `data.school.brin: expected string` (`$` is the value itself).
    pub(crate) fn message(&self) -> String {
        let mut path = String::new();
        for seg in self.rev_path.iter().rev() {
            if !path.is_empty() && !seg.starts_with('[') {
                path.push('.');
            }
            path.push_str(seg);
        }
        if path.is_empty() {
            path.push('$');
        }
        format!("{path}: {}", self.want)
    }
}

type Fit = Result<(), Misfit>;

fn expected(what: &str) -> Misfit {
    Misfit::want(format!("expected {what}"))
}

/// Avro's `long`: zig-zag, then 7 bits per byte, low bits first.
fn long(n: i64, out: &mut Vec<u8>) {
    let mut z = ((n << 1) ^ (n >> 63)) as u64;
    while z >= 0x80 {
        out.push((z as u8) | 0x80);
        z >>= 7;
    }
    out.push(z as u8);
}

fn bytes(b: &[u8], out: &mut Vec<u8>) {
    long(b.len() as i64, out);
    out.extend_from_slice(b);
}

/// Writes `json` as a datum of `schema`.
pub(crate) fn write(
    schema: &AvroSchema,
    names: &NamesRef<'static>,
    json: &Json,
    out: &mut Vec<u8>,
) -> Fit {
    let schema = deref(schema, names).map_err(Misfit::want)?;
    match schema {
        AvroSchema::Null => json.is_null().then_some(()).ok_or_else(|| expected("null")),
        AvroSchema::Boolean => {
            let b = json.as_bool().ok_or_else(|| expected("boolean"))?;
            out.push(u8::from(b));
            Ok(())
        }
        AvroSchema::Int => {
            let n = json.as_i64().and_then(|n| i32::try_from(n).ok());
            long(n.ok_or_else(|| expected("int"))?.into(), out);
            Ok(())
        }
        AvroSchema::Long => {
            long(json.as_i64().ok_or_else(|| expected("long"))?, out);
            Ok(())
        }
        AvroSchema::Float => {
            let f = json.as_f64().ok_or_else(|| expected("float"))?;
            out.extend_from_slice(&(f as f32).to_le_bytes());
            Ok(())
        }
        AvroSchema::Double => {
            let f = json.as_f64().ok_or_else(|| expected("double"))?;
            out.extend_from_slice(&f.to_le_bytes());
            Ok(())
        }
        AvroSchema::String => {
            bytes(
                json.as_str().ok_or_else(|| expected("string"))?.as_bytes(),
                out,
            );
            Ok(())
        }
        AvroSchema::Bytes => {
            bytes(&base64(json).ok_or_else(|| expected("base64 bytes"))?, out);
            Ok(())
        }
        AvroSchema::Fixed(f) => match base64(json) {
            Some(b) if b.len() == f.size => {
                out.extend_from_slice(&b);
                Ok(())
            }
            _ => Err(expected(&format!("base64 of {} bytes", f.size))),
        },
        AvroSchema::Date => {
            let days = match json {
                Json::String(s) => parse_date(s).map(to_epoch_days),
                Json::Number(n) => n.as_i64().and_then(|n| i32::try_from(n).ok()),
                _ => None,
            };
            long(days.ok_or_else(|| expected("date YYYY-MM-DD"))?.into(), out);
            Ok(())
        }
        AvroSchema::TimestampMillis => {
            let ms = match json {
                Json::String(s) => s.parse::<Timestamp>().ok().map(|t| t.as_millisecond()),
                Json::Number(n) => n.as_i64(),
                _ => None,
            };
            long(ms.ok_or_else(|| expected("RFC 3339 timestamp"))?, out);
            Ok(())
        }
        AvroSchema::Enum(e) => {
            let s = json.as_str().ok_or_else(|| expected("enum symbol"))?;
            match e.symbols.iter().position(|x| x == s) {
                Some(i) => {
                    long(i as i64, out);
                    Ok(())
                }
                None => Err(expected(&format!("one of {}", e.symbols.join(", ")))),
            }
        }
        AvroSchema::Array(a) => {
            let items = json.as_array().ok_or_else(|| expected("array"))?;
            if !items.is_empty() {
                long(items.len() as i64, out);
                for (i, v) in items.iter().enumerate() {
                    write(&a.items, names, v, out).map_err(|m| m.under(format!("[{i}]")))?;
                }
            }
            out.push(0);
            Ok(())
        }
        AvroSchema::Map(m) => {
            let obj = json.as_object().ok_or_else(|| expected("map"))?;
            if !obj.is_empty() {
                long(obj.len() as i64, out);
                for (k, v) in obj {
                    bytes(k.as_bytes(), out);
                    write(&m.types, names, v, out).map_err(|e| e.under(k.as_str()))?;
                }
            }
            out.push(0);
            Ok(())
        }
        AvroSchema::Record(r) => match json {
            Json::Object(obj) => record(r, names, obj, out),
            _ => Err(expected("object")),
        },
        AvroSchema::Union(u) => union(u, names, json, out),
        other => Err(Misfit::want(format!("unsupported schema type {other:?}"))),
    }
}

fn base64(json: &Json) -> Option<Vec<u8>> {
    base64::engine::general_purpose::STANDARD
        .decode(json.as_str()?)
        .ok()
}

/// A record's fields in schema order; a missing field takes its default, or null. Keys the
/// schema does not know are not written.
fn record(
    r: &RecordSchema,
    names: &NamesRef<'static>,
    obj: &Map<String, Json>,
    out: &mut Vec<u8>,
) -> Fit {
    for f in &r.fields {
        let written = match (obj.get(&f.name), &f.default) {
            (Some(v), _) => write(&f.schema, names, v, out),
            (None, Some(d)) => default(&f.schema, names, d, out),
            (None, None) => {
                write(&f.schema, names, &Json::Null, out).map_err(|_| Misfit::want("missing"))
            }
        };
        written.map_err(|e| e.under(f.name.as_str()))?;
    }
    Ok(())
}

/// A schema default, given in Avro's JSON encoding: a union's is a value of its first branch,
/// bytes are code points 0–255.
fn default(schema: &AvroSchema, names: &NamesRef<'static>, d: &Json, out: &mut Vec<u8>) -> Fit {
    match deref(schema, names).map_err(Misfit::want)? {
        AvroSchema::Union(u) => {
            let first = u
                .variants()
                .first()
                .ok_or_else(|| expected("a union branch"))?;
            long(0, out);
            default(first, names, d, out)
        }
        AvroSchema::Bytes => {
            bytes(&code_points(d), out);
            Ok(())
        }
        AvroSchema::Fixed(_) => {
            out.extend_from_slice(&code_points(d));
            Ok(())
        }
        s => write(s, names, d, out),
    }
}

fn code_points(d: &Json) -> Vec<u8> {
    d.as_str()
        .unwrap_or_default()
        .chars()
        .map(|c| c as u8)
        .collect()
}

/// Whether `json` has the JSON kind that `schema` is written from.
fn accepts(schema: &AvroSchema, json: &Json) -> bool {
    use AvroSchema as S;
    match (schema, json) {
        (S::Null, Json::Null) | (S::Boolean, Json::Bool(_)) => true,
        (S::Int | S::Long, Json::Number(n)) => n.is_i64(),
        (S::Float | S::Double, Json::Number(_)) => true,
        (S::String | S::Bytes | S::Enum(_) | S::Fixed(_), Json::String(_)) => true,
        (S::Date | S::TimestampMillis, Json::String(_) | Json::Number(_)) => true,
        (S::Record(_) | S::Map(_), Json::Object(_)) => true,
        (S::Array(_), Json::Array(_)) => true,
        _ => false,
    }
}

/// `["null", T]` is a plain option; a union of several types tags a record branch as
/// `{"ShortName": value}` and takes any other value by the first branch that fits it.
fn union(u: &UnionSchema, names: &NamesRef<'static>, json: &Json, out: &mut Vec<u8>) -> Fit {
    let branches = u.variants();
    // the common case, an optional field, without the general search below
    if let [a, b] = branches {
        let null_first = matches!(a, AvroSchema::Null);
        if null_first || matches!(b, AvroSchema::Null) {
            let (null, some) = if null_first { (0, 1) } else { (1, 0) };
            if json.is_null() {
                long(null, out);
                return Ok(());
            }
            long(some, out);
            return write(&branches[some as usize], names, json, out);
        }
    }
    let resolved: Vec<&AvroSchema> = branches
        .iter()
        .map(|b| deref(b, names))
        .collect::<Result<_, _>>()
        .map_err(Misfit::want)?;
    let non_null = resolved
        .iter()
        .filter(|b| !matches!(b, AvroSchema::Null))
        .count();
    let tagged = |b: &AvroSchema| non_null > 1 && matches!(b, AvroSchema::Record(_));
    if let Json::Object(obj) = json {
        if let (true, Some((tag, inner))) = (obj.len() == 1 && non_null > 1, obj.iter().next()) {
            let hit = resolved.iter().position(|b| {
                tagged(b)
                    && (short_name(b) == Some(tag.as_str())
                        || b.name().is_some_and(|n| n.fullname(None) == *tag))
            });
            if let Some(i) = hit {
                long(i as i64, out);
                return write(resolved[i], names, inner, out).map_err(|e| e.under(tag.as_str()));
            }
        }
    }
    // the first branch that takes the value; a branch that fails leaves nothing behind
    let start = out.len();
    for (i, b) in resolved.iter().enumerate() {
        if accepts(b, json) && !tagged(b) {
            long(i as i64, out);
            if write(b, names, json, out).is_ok() {
                return Ok(());
            }
            out.truncate(start);
        }
    }
    Err(expected("a value of one of the union's types"))
}
