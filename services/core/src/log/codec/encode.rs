//! Writes a JSON value in the Avro binary encoding of a schema.

use base64::Engine;
use jiff::Timestamp;
use serde_json::Value as Json;

use super::schema::{short_name, Node, NodeId, Schema};
use super::CodecError;
use crate::domain::dates::{parse_date, to_epoch_days};

pub(crate) fn write_long(n: i64, out: &mut Vec<u8>) {
    let mut z = ((n << 1) ^ (n >> 63)) as u64;
    while z >= 0x80 {
        out.push((z as u8 & 0x7f) | 0x80);
        z >>= 7;
    }
    out.push(z as u8);
}

fn write_bytes(b: &[u8], out: &mut Vec<u8>) {
    write_long(b.len() as i64, out);
    out.extend_from_slice(b);
}

fn mismatch(path: &str, want: &str) -> CodecError {
    CodecError::Encode(format!(
        "{}: expected {want}",
        if path.is_empty() { "$" } else { path }
    ))
}

/// Whether `value` can be written as `node` without a union wrapper.
fn accepts(schema: &Schema, node: NodeId, value: &Json) -> bool {
    match (schema.node(node), value) {
        (Node::Null, Json::Null) => true,
        (Node::Boolean, Json::Bool(_)) => true,
        (Node::Int | Node::Long, Json::Number(n)) => n.is_i64(),
        (Node::Float | Node::Double, Json::Number(_)) => true,
        (Node::String | Node::Bytes | Node::Enum { .. } | Node::Fixed { .. }, Json::String(_)) => {
            true
        }
        (Node::Date | Node::TimestampMillis, Json::String(_) | Json::Number(_)) => true,
        (Node::Record { .. } | Node::Map(_), Json::Object(_)) => true,
        (Node::Array(_), Json::Array(_)) => true,
        _ => false,
    }
}

/// Encodes `value` as `node` of `schema`, appending to `out`.
pub(crate) fn write(
    schema: &Schema,
    node: NodeId,
    value: &Json,
    path: &str,
    out: &mut Vec<u8>,
) -> Result<(), CodecError> {
    match schema.node(node) {
        Node::Null => value
            .is_null()
            .then_some(())
            .ok_or_else(|| mismatch(path, "null")),
        Node::Boolean => {
            out.push(u8::from(
                value.as_bool().ok_or_else(|| mismatch(path, "boolean"))?,
            ));
            Ok(())
        }
        Node::Int => {
            let n = value.as_i64().filter(|n| i32::try_from(*n).is_ok());
            write_long(n.ok_or_else(|| mismatch(path, "int"))?, out);
            Ok(())
        }
        Node::Long => {
            write_long(value.as_i64().ok_or_else(|| mismatch(path, "long"))?, out);
            Ok(())
        }
        Node::Float => {
            let f = value.as_f64().ok_or_else(|| mismatch(path, "float"))?;
            out.extend_from_slice(&(f as f32).to_le_bytes());
            Ok(())
        }
        Node::Double => {
            let f = value.as_f64().ok_or_else(|| mismatch(path, "double"))?;
            out.extend_from_slice(&f.to_le_bytes());
            Ok(())
        }
        Node::String => {
            write_bytes(
                value
                    .as_str()
                    .ok_or_else(|| mismatch(path, "string"))?
                    .as_bytes(),
                out,
            );
            Ok(())
        }
        Node::Bytes => {
            let s = value
                .as_str()
                .ok_or_else(|| mismatch(path, "base64 bytes"))?;
            let b = base64::engine::general_purpose::STANDARD
                .decode(s)
                .map_err(|_| mismatch(path, "base64 bytes"))?;
            write_bytes(&b, out);
            Ok(())
        }
        Node::Fixed { size, .. } => {
            let s = value
                .as_str()
                .ok_or_else(|| mismatch(path, "base64 fixed"))?;
            let b = base64::engine::general_purpose::STANDARD
                .decode(s)
                .map_err(|_| mismatch(path, "base64 fixed"))?;
            if b.len() != *size {
                return Err(mismatch(path, &format!("{size} bytes")));
            }
            out.extend_from_slice(&b);
            Ok(())
        }
        Node::Date => {
            let days = match value {
                Json::String(s) => parse_date(s).map(to_epoch_days),
                Json::Number(n) => n.as_i64().and_then(|n| i32::try_from(n).ok()),
                _ => None,
            };
            write_long(
                i64::from(days.ok_or_else(|| mismatch(path, "date YYYY-MM-DD"))?),
                out,
            );
            Ok(())
        }
        Node::TimestampMillis => {
            let ms = match value {
                Json::String(s) => s.parse::<Timestamp>().ok().map(|t| t.as_millisecond()),
                Json::Number(n) => n.as_i64(),
                _ => None,
            };
            write_long(ms.ok_or_else(|| mismatch(path, "RFC 3339 timestamp"))?, out);
            Ok(())
        }
        Node::Enum { symbols, .. } => {
            let s = value
                .as_str()
                .ok_or_else(|| mismatch(path, "enum symbol"))?;
            let idx = symbols
                .iter()
                .position(|x| x == s)
                .ok_or_else(|| mismatch(path, &format!("one of {}", symbols.join(", "))))?;
            write_long(idx as i64, out);
            Ok(())
        }
        Node::Array(items) => {
            let arr = value.as_array().ok_or_else(|| mismatch(path, "array"))?;
            if !arr.is_empty() {
                write_long(arr.len() as i64, out);
                for (i, v) in arr.iter().enumerate() {
                    write(schema, *items, v, &format!("{path}[{i}]"), out)?;
                }
            }
            write_long(0, out);
            Ok(())
        }
        Node::Map(values) => {
            let obj = value.as_object().ok_or_else(|| mismatch(path, "map"))?;
            if !obj.is_empty() {
                write_long(obj.len() as i64, out);
                for (k, v) in obj {
                    write_bytes(k.as_bytes(), out);
                    write(schema, *values, v, &format!("{path}.{k}"), out)?;
                }
            }
            write_long(0, out);
            Ok(())
        }
        Node::Record { fields, .. } => {
            let obj = value.as_object().ok_or_else(|| mismatch(path, "object"))?;
            for f in fields {
                let fpath = if path.is_empty() {
                    f.name.clone()
                } else {
                    format!("{path}.{}", f.name)
                };
                match obj.get(&f.name) {
                    Some(v) => write(schema, f.schema, v, &fpath, out)?,
                    None => match &f.default {
                        Some(d) => write_default(schema, f.schema, d, &fpath, out)?,
                        None => write(schema, f.schema, &Json::Null, &fpath, out)
                            .map_err(|_| CodecError::Encode(format!("{fpath}: missing")))?,
                    },
                }
            }
            Ok(())
        }
        Node::Union(branches) => {
            let named: Vec<_> = branches
                .iter()
                .filter(|b| schema.name_of(**b).is_some())
                .collect();
            let non_null = branches
                .iter()
                .filter(|b| !matches!(schema.node(**b), Node::Null))
                .count();
            // a union of several types wraps named branches as {"ShortName": value}
            if non_null > 1 {
                if let Json::Object(obj) = value {
                    if obj.len() == 1 {
                        let (k, inner) = obj.iter().next().expect("one entry");
                        for b in &named {
                            let full = schema.name_of(**b).expect("named");
                            if full == k || short_name(full) == k {
                                let idx = branches.iter().position(|x| x == *b).expect("branch");
                                write_long(idx as i64, out);
                                return write(schema, **b, inner, path, out);
                            }
                        }
                    }
                }
            }
            for (idx, b) in branches.iter().enumerate() {
                if accepts(schema, *b, value)
                    && !(non_null > 1
                        && schema.name_of(*b).is_some()
                        && matches!(schema.node(*b), Node::Record { .. }))
                {
                    let mut tmp = Vec::new();
                    if write(schema, *b, value, path, &mut tmp).is_ok() {
                        write_long(idx as i64, out);
                        out.extend_from_slice(&tmp);
                        return Ok(());
                    }
                }
            }
            Err(mismatch(path, "a value of one of the union's types"))
        }
    }
}

/// Writes a schema default (given in Avro's JSON encoding) as `node`.
fn write_default(
    schema: &Schema,
    node: NodeId,
    default: &Json,
    path: &str,
    out: &mut Vec<u8>,
) -> Result<(), CodecError> {
    match schema.node(node) {
        // a union's default is a value of its first branch
        Node::Union(branches) => {
            write_long(0, out);
            write_default(schema, branches[0], default, path, out)
        }
        Node::Bytes | Node::Fixed { .. } => {
            let raw: Vec<u8> = default
                .as_str()
                .unwrap_or_default()
                .chars()
                .map(|c| c as u8)
                .collect();
            match schema.node(node) {
                Node::Fixed { .. } => out.extend_from_slice(&raw),
                _ => write_bytes(&raw, out),
            }
            Ok(())
        }
        _ => write(schema, node, default, path, out),
    }
}
