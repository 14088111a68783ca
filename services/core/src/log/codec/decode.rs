//! Reads Avro binary data into JSON values, resolving a writer schema against a reader schema.

use base64::Engine;
use jiff::Timestamp;
use serde_json::{Map, Value as Json};

use super::schema::{short_name, Node, NodeId, Schema};
use super::CodecError;
use crate::domain::dates::{from_epoch_days, parse_date, to_epoch_days};

fn trunc() -> CodecError {
    CodecError::Decode("truncated datum".into())
}

/// A cursor over the datum bytes.
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    pub(crate) fn new(buf: &'a [u8]) -> Self {
        Self { buf }
    }

    pub(crate) fn remaining(&self) -> usize {
        self.buf.len()
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], CodecError> {
        if self.buf.len() < n {
            return Err(trunc());
        }
        let (head, tail) = self.buf.split_at(n);
        self.buf = tail;
        Ok(head)
    }

    fn long(&mut self) -> Result<i64, CodecError> {
        let mut z: u64 = 0;
        let mut shift = 0;
        loop {
            let b = *self.take(1)?.first().expect("one byte");
            if shift >= 64 {
                return Err(CodecError::Decode("varint too long".into()));
            }
            z |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                break;
            }
            shift += 7;
        }
        Ok((z >> 1) as i64 ^ -((z & 1) as i64))
    }

    fn len(&mut self) -> Result<usize, CodecError> {
        let n = self.long()?;
        let n = usize::try_from(n).map_err(|_| CodecError::Decode("negative length".into()))?;
        if n > self.buf.len() {
            return Err(trunc());
        }
        Ok(n)
    }

    fn bytes(&mut self) -> Result<&'a [u8], CodecError> {
        let n = self.len()?;
        self.take(n)
    }

    fn string(&mut self) -> Result<String, CodecError> {
        String::from_utf8(self.bytes()?.to_vec())
            .map_err(|_| CodecError::Decode("string is not UTF-8".into()))
    }

    fn f32(&mut self) -> Result<f32, CodecError> {
        Ok(f32::from_le_bytes(
            self.take(4)?.try_into().expect("4 bytes"),
        ))
    }

    fn f64(&mut self) -> Result<f64, CodecError> {
        Ok(f64::from_le_bytes(
            self.take(8)?.try_into().expect("8 bytes"),
        ))
    }

    /// The item count of the next block, reading past a block's byte size if present.
    fn block(&mut self) -> Result<usize, CodecError> {
        let n = self.long()?;
        if n < 0 {
            self.long()?;
            return Ok(n.unsigned_abs() as usize);
        }
        Ok(n as usize)
    }
}

fn b64(b: &[u8]) -> Json {
    Json::String(base64::engine::general_purpose::STANDARD.encode(b))
}

fn date_json(days: i32) -> Result<Json, CodecError> {
    from_epoch_days(days)
        .map(|d| Json::String(d.to_string()))
        .ok_or_else(|| CodecError::Decode("date out of range".into()))
}

fn timestamp_json(ms: i64) -> Result<Json, CodecError> {
    Timestamp::from_millisecond(ms)
        .map(|t| Json::String(t.to_string()))
        .map_err(|_| CodecError::Decode("timestamp out of range".into()))
}

/// Whether a union of `schema` wraps the value of `branch` as {"ShortName": value}.
fn wraps(schema: &Schema, branches: &[NodeId], branch: NodeId) -> bool {
    let non_null = branches
        .iter()
        .filter(|b| !matches!(schema.node(**b), Node::Null))
        .count();
    non_null > 1 && matches!(schema.node(branch), Node::Record { .. })
}

fn wrap(schema: &Schema, branch: NodeId, v: Json) -> Json {
    let name = short_name(schema.name_of(branch).expect("record is named")).to_owned();
    let mut m = Map::new();
    m.insert(name, v);
    Json::Object(m)
}

/// The underlying primitive a node is encoded as, for resolution.
#[derive(PartialEq, Eq, Clone, Copy)]
enum Prim {
    Int,
    Long,
    Float,
    Double,
    Other,
}

fn prim(n: &Node) -> Prim {
    match n {
        Node::Int | Node::Date => Prim::Int,
        Node::Long | Node::TimestampMillis => Prim::Long,
        Node::Float => Prim::Float,
        Node::Double => Prim::Double,
        _ => Prim::Other,
    }
}

/// Whether data written as `w` can be read as `r` (the spec's "match" for union branches).
fn matches(ws: &Schema, w: NodeId, rs: &Schema, r: NodeId) -> bool {
    let (wn, rn) = (ws.node(w), rs.node(r));
    match (prim(wn), prim(rn)) {
        (Prim::Other, Prim::Other) => {}
        (a, b) => {
            return a == b
                || matches!(
                    (a, b),
                    (Prim::Int, Prim::Long | Prim::Float | Prim::Double)
                        | (Prim::Long, Prim::Float | Prim::Double)
                        | (Prim::Float, Prim::Double)
                )
        }
    }
    match (wn, rn) {
        (Node::Null, Node::Null) | (Node::Boolean, Node::Boolean) => true,
        (Node::String | Node::Bytes, Node::String | Node::Bytes) => true,
        (Node::Array(_), Node::Array(_)) | (Node::Map(_), Node::Map(_)) => true,
        (Node::Record { name: a, .. }, Node::Record { name: b, .. })
        | (Node::Enum { name: a, .. }, Node::Enum { name: b, .. })
        | (Node::Fixed { name: a, .. }, Node::Fixed { name: b, .. }) => {
            short_name(a) == short_name(b)
        }
        _ => false,
    }
}

/// Reads a value written as `w` (writer schema) into the shape of `r` (reader schema).
pub(crate) fn read(
    ws: &Schema,
    w: NodeId,
    rs: &Schema,
    r: NodeId,
    rd: &mut Reader<'_>,
) -> Result<Json, CodecError> {
    if let Node::Union(wb) = ws.node(w) {
        let idx = usize::try_from(rd.long()?)
            .map_err(|_| CodecError::Decode("bad union index".into()))?;
        let branch = *wb
            .get(idx)
            .ok_or_else(|| CodecError::Decode("bad union index".into()))?;
        return read(ws, branch, rs, r, rd);
    }
    if let Node::Union(rb) = rs.node(r) {
        let target = rb
            .iter()
            .copied()
            .find(|b| matches(ws, w, rs, *b))
            .ok_or_else(|| {
                CodecError::Resolve("no union branch matches the written type".into())
            })?;
        let v = read(ws, w, rs, target, rd)?;
        return Ok(if wraps(rs, rb, target) {
            wrap(rs, target, v)
        } else {
            v
        });
    }
    let (wn, rn) = (ws.node(w), rs.node(r));
    match (prim(wn), prim(rn)) {
        (Prim::Other, Prim::Other) => {}
        (wp, _) => {
            let n: f64;
            let i: i64;
            match wp {
                Prim::Int | Prim::Long => {
                    i = rd.long()?;
                    n = i as f64;
                }
                Prim::Float => {
                    n = f64::from(rd.f32()?);
                    i = 0;
                }
                Prim::Double => {
                    n = rd.f64()?;
                    i = 0;
                }
                Prim::Other => return Err(CodecError::Resolve("incompatible types".into())),
            }
            return match rn {
                Node::Date => date_json(
                    i32::try_from(i).map_err(|_| CodecError::Decode("date out of range".into()))?,
                ),
                Node::TimestampMillis => timestamp_json(i),
                Node::Int | Node::Long if matches!(wp, Prim::Int | Prim::Long) => Ok(Json::from(i)),
                Node::Float | Node::Double => Ok(serde_json::Number::from_f64(n)
                    .map(Json::Number)
                    .unwrap_or(Json::Null)),
                _ => Err(CodecError::Resolve("incompatible numeric types".into())),
            };
        }
    }
    match (wn, rn) {
        (Node::Null, Node::Null) => Ok(Json::Null),
        (Node::Boolean, Node::Boolean) => {
            let b = *rd.take(1)?.first().expect("one byte");
            Ok(Json::Bool(b != 0))
        }
        (Node::String, Node::String) => rd.string().map(Json::String),
        (Node::Bytes, Node::String) => rd.string().map(Json::String),
        (Node::String | Node::Bytes, Node::Bytes) => rd.bytes().map(b64),
        (Node::Fixed { size, .. }, Node::Fixed { size: rsize, .. }) if size == rsize => {
            rd.take(*size).map(b64)
        }
        (
            Node::Enum { symbols, .. },
            Node::Enum {
                symbols: rsym,
                default,
                ..
            },
        ) => {
            let idx = usize::try_from(rd.long()?)
                .map_err(|_| CodecError::Decode("bad enum index".into()))?;
            let sym = symbols
                .get(idx)
                .ok_or_else(|| CodecError::Decode("bad enum index".into()))?;
            if rsym.contains(sym) {
                Ok(Json::String(sym.clone()))
            } else {
                default.clone().map(Json::String).ok_or_else(|| {
                    CodecError::Resolve(format!("symbol {sym} unknown to the reader"))
                })
            }
        }
        (Node::Array(wi), Node::Array(ri)) => {
            let mut out = Vec::new();
            loop {
                let n = rd.block()?;
                if n == 0 {
                    break;
                }
                for _ in 0..n {
                    out.push(read(ws, *wi, rs, *ri, rd)?);
                }
            }
            Ok(Json::Array(out))
        }
        (Node::Map(wv), Node::Map(rv)) => {
            let mut out = Map::new();
            loop {
                let n = rd.block()?;
                if n == 0 {
                    break;
                }
                for _ in 0..n {
                    let k = rd.string()?;
                    out.insert(k, read(ws, *wv, rs, *rv, rd)?);
                }
            }
            Ok(Json::Object(out))
        }
        (Node::Record { fields: wf, .. }, Node::Record { fields: rf, name }) => {
            let mut out = Map::new();
            for f in wf {
                let target = rf
                    .iter()
                    .find(|r| r.name == f.name || r.aliases.contains(&f.name));
                match target {
                    Some(t) => {
                        let v = read(ws, f.schema, rs, t.schema, rd)?;
                        out.insert(t.name.clone(), v);
                    }
                    None => skip(ws, f.schema, rd)?,
                }
            }
            for f in rf {
                if !out.contains_key(&f.name) {
                    let d = f.default.as_ref().ok_or_else(|| {
                        CodecError::Resolve(format!(
                            "{name}.{} has no value and no default",
                            f.name
                        ))
                    })?;
                    out.insert(f.name.clone(), default_json(rs, f.schema, d)?);
                }
            }
            Ok(Json::Object(out))
        }
        _ => Err(CodecError::Resolve("incompatible types".into())),
    }
}

/// Converts a schema default (Avro JSON encoding) into the JSON shape `read` produces.
fn default_json(rs: &Schema, r: NodeId, d: &Json) -> Result<Json, CodecError> {
    match rs.node(r) {
        Node::Union(b) => {
            let v = default_json(rs, b[0], d)?;
            Ok(if wraps(rs, b, b[0]) {
                wrap(rs, b[0], v)
            } else {
                v
            })
        }
        Node::Date => match d {
            Json::Number(n) => date_json(n.as_i64().unwrap_or_default() as i32),
            Json::String(s) => parse_date(s)
                .map(|x| date_json(to_epoch_days(x)))
                .unwrap_or_else(|| Err(CodecError::Resolve("bad date default".into()))),
            _ => Err(CodecError::Resolve("bad date default".into())),
        },
        Node::TimestampMillis => timestamp_json(d.as_i64().unwrap_or_default()),
        Node::Bytes | Node::Fixed { .. } => {
            let raw: Vec<u8> = d
                .as_str()
                .unwrap_or_default()
                .chars()
                .map(|c| c as u8)
                .collect();
            Ok(b64(&raw))
        }
        _ => Ok(d.clone()),
    }
}

/// Reads past a value written as `w`.
fn skip(ws: &Schema, w: NodeId, rd: &mut Reader<'_>) -> Result<(), CodecError> {
    match ws.node(w) {
        Node::Null => Ok(()),
        Node::Boolean => rd.take(1).map(drop),
        Node::Int | Node::Long | Node::Date | Node::TimestampMillis | Node::Enum { .. } => {
            rd.long().map(drop)
        }
        Node::Float => rd.take(4).map(drop),
        Node::Double => rd.take(8).map(drop),
        Node::Bytes | Node::String => rd.bytes().map(drop),
        Node::Fixed { size, .. } => rd.take(*size).map(drop),
        Node::Array(i) => loop {
            let n = rd.block()?;
            if n == 0 {
                return Ok(());
            }
            for _ in 0..n {
                skip(ws, *i, rd)?;
            }
        },
        Node::Map(v) => loop {
            let n = rd.block()?;
            if n == 0 {
                return Ok(());
            }
            for _ in 0..n {
                rd.bytes()?;
                skip(ws, *v, rd)?;
            }
        },
        Node::Record { fields, .. } => {
            for f in fields {
                skip(ws, f.schema, rd)?;
            }
            Ok(())
        }
        Node::Union(b) => {
            let idx = usize::try_from(rd.long()?)
                .map_err(|_| CodecError::Decode("bad union index".into()))?;
            skip(
                ws,
                *b.get(idx)
                    .ok_or_else(|| CodecError::Decode("bad union index".into()))?,
                rd,
            )
        }
    }
}
