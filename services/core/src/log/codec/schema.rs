//! Avro schemas: parsing, Parsing Canonical Form and the CRC-64-AVRO fingerprint.

use std::collections::{HashMap, HashSet};

use serde_json::Value as Json;

use super::CodecError;

/// Index of a node in a schema's arena.
pub type NodeId = usize;

/// One schema node. Logical types that we map to text (`date`, `timestamp-millis`) get their
/// own variants; the canonical form and the binary encoding are those of the underlying type.
#[derive(Debug, Clone)]
pub enum Node {
    Null,
    Boolean,
    Int,
    Long,
    Float,
    Double,
    Bytes,
    String,
    Date,
    TimestampMillis,
    Record {
        name: String,
        fields: Vec<Field>,
    },
    Enum {
        name: String,
        symbols: Vec<String>,
        default: Option<String>,
    },
    Array(NodeId),
    Map(NodeId),
    Union(Vec<NodeId>),
    Fixed {
        name: String,
        size: usize,
    },
}

/// A record field.
#[derive(Debug, Clone)]
pub struct Field {
    pub name: String,
    pub aliases: Vec<String>,
    pub schema: NodeId,
    pub default: Option<Json>,
}

/// A parsed schema with its canonical form and fingerprint.
#[derive(Debug, Clone)]
pub struct Schema {
    pub(crate) nodes: Vec<Node>,
    pub(crate) root: NodeId,
    canonical: String,
    fingerprint: u64,
}

impl Schema {
    pub fn parse(text: &str) -> Result<Self, CodecError> {
        let json: Json =
            serde_json::from_str(text).map_err(|e| CodecError::Schema(e.to_string()))?;
        let mut p = Parser {
            nodes: Vec::new(),
            names: HashMap::new(),
        };
        let root = p.parse(&json, "")?;
        let mut canonical = String::new();
        write_canonical(&p.nodes, root, &mut HashSet::new(), &mut canonical);
        let fingerprint = crc64_avro(canonical.as_bytes());
        Ok(Self {
            nodes: p.nodes,
            root,
            canonical,
            fingerprint,
        })
    }

    /// The Parsing Canonical Form, as the spec defines it.
    pub fn canonical_form(&self) -> &str {
        &self.canonical
    }

    /// CRC-64-AVRO (Rabin) of the canonical form.
    pub fn fingerprint(&self) -> u64 {
        self.fingerprint
    }

    pub(crate) fn node(&self, id: NodeId) -> &Node {
        &self.nodes[id]
    }

    /// The full name of a named node, if it has one.
    pub(crate) fn name_of(&self, id: NodeId) -> Option<&str> {
        match &self.nodes[id] {
            Node::Record { name, .. } | Node::Enum { name, .. } | Node::Fixed { name, .. } => {
                Some(name)
            }
            _ => None,
        }
    }
}

/// The part of a full name after the last dot.
pub(crate) fn short_name(full: &str) -> &str {
    full.rsplit('.').next().unwrap_or(full)
}

struct Parser {
    nodes: Vec<Node>,
    names: HashMap<String, NodeId>,
}

fn err(msg: impl Into<String>) -> CodecError {
    CodecError::Schema(msg.into())
}

impl Parser {
    fn push(&mut self, n: Node) -> NodeId {
        self.nodes.push(n);
        self.nodes.len() - 1
    }

    fn full_name(name: &str, obj: &serde_json::Map<String, Json>, ns: &str) -> String {
        if name.contains('.') {
            return name.to_owned();
        }
        let ns = obj.get("namespace").and_then(Json::as_str).unwrap_or(ns);
        if ns.is_empty() {
            name.to_owned()
        } else {
            format!("{ns}.{name}")
        }
    }

    fn parse(&mut self, json: &Json, ns: &str) -> Result<NodeId, CodecError> {
        match json {
            Json::String(s) => self.parse_name(s, ns),
            Json::Array(branches) => {
                let ids = branches
                    .iter()
                    .map(|b| self.parse(b, ns))
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(self.push(Node::Union(ids)))
            }
            Json::Object(obj) => self.parse_object(obj, ns),
            _ => Err(err("a schema is a string, an array or an object")),
        }
    }

    fn parse_name(&mut self, s: &str, ns: &str) -> Result<NodeId, CodecError> {
        let node = match s {
            "null" => Node::Null,
            "boolean" => Node::Boolean,
            "int" => Node::Int,
            "long" => Node::Long,
            "float" => Node::Float,
            "double" => Node::Double,
            "bytes" => Node::Bytes,
            "string" => Node::String,
            name => {
                let qualified = if name.contains('.') || ns.is_empty() {
                    name.to_owned()
                } else {
                    format!("{ns}.{name}")
                };
                return self
                    .names
                    .get(&qualified)
                    .or_else(|| self.names.get(name))
                    .copied()
                    .ok_or_else(|| err(format!("unknown type {name}")));
            }
        };
        Ok(self.push(node))
    }

    fn parse_object(
        &mut self,
        obj: &serde_json::Map<String, Json>,
        ns: &str,
    ) -> Result<NodeId, CodecError> {
        let ty = obj.get("type").ok_or_else(|| err("missing type"))?;
        let logical = obj.get("logicalType").and_then(Json::as_str);
        let ty = match ty {
            Json::String(s) => s.as_str(),
            other => return self.parse(other, ns),
        };
        match (ty, logical) {
            ("int", Some("date")) => return Ok(self.push(Node::Date)),
            ("long", Some("timestamp-millis")) => return Ok(self.push(Node::TimestampMillis)),
            _ => {}
        }
        fn name_of<'o>(
            obj: &'o serde_json::Map<String, Json>,
            ty: &str,
        ) -> Result<&'o str, CodecError> {
            obj.get("name")
                .and_then(Json::as_str)
                .ok_or_else(|| err(format!("{ty} needs a name")))
        }
        match ty {
            "record" | "error" => {
                let full = Self::full_name(name_of(obj, ty)?, obj, ns);
                let inner_ns = full
                    .rsplit_once('.')
                    .map(|(n, _)| n.to_owned())
                    .unwrap_or_default();
                let id = self.push(Node::Record {
                    name: full.clone(),
                    fields: Vec::new(),
                });
                self.names.insert(full, id);
                let mut fields = Vec::new();
                for f in obj
                    .get("fields")
                    .and_then(Json::as_array)
                    .ok_or_else(|| err("record needs fields"))?
                {
                    let name = f
                        .get("name")
                        .and_then(Json::as_str)
                        .ok_or_else(|| err("field needs a name"))?;
                    let schema = self.parse(
                        f.get("type").ok_or_else(|| err("field needs a type"))?,
                        &inner_ns,
                    )?;
                    let aliases = f
                        .get("aliases")
                        .and_then(Json::as_array)
                        .map(|a| {
                            a.iter()
                                .filter_map(Json::as_str)
                                .map(str::to_owned)
                                .collect()
                        })
                        .unwrap_or_default();
                    fields.push(Field {
                        name: name.to_owned(),
                        aliases,
                        schema,
                        default: f.get("default").cloned(),
                    });
                }
                if let Node::Record { fields: slot, .. } = &mut self.nodes[id] {
                    *slot = fields;
                }
                Ok(id)
            }
            "enum" => {
                let full = Self::full_name(name_of(obj, ty)?, obj, ns);
                let symbols = obj
                    .get("symbols")
                    .and_then(Json::as_array)
                    .ok_or_else(|| err("enum needs symbols"))?
                    .iter()
                    .map(|s| {
                        s.as_str()
                            .map(str::to_owned)
                            .ok_or_else(|| err("symbols are strings"))
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                let default = obj.get("default").and_then(Json::as_str).map(str::to_owned);
                let id = self.push(Node::Enum {
                    name: full.clone(),
                    symbols,
                    default,
                });
                self.names.insert(full, id);
                Ok(id)
            }
            "fixed" => {
                let full = Self::full_name(name_of(obj, ty)?, obj, ns);
                let size = obj
                    .get("size")
                    .and_then(Json::as_u64)
                    .ok_or_else(|| err("fixed needs a size"))?;
                let id = self.push(Node::Fixed {
                    name: full.clone(),
                    size: size as usize,
                });
                self.names.insert(full, id);
                Ok(id)
            }
            "array" => {
                let items = self.parse(
                    obj.get("items").ok_or_else(|| err("array needs items"))?,
                    ns,
                )?;
                Ok(self.push(Node::Array(items)))
            }
            "map" => {
                let values = self.parse(
                    obj.get("values").ok_or_else(|| err("map needs values"))?,
                    ns,
                )?;
                Ok(self.push(Node::Map(values)))
            }
            other => self.parse_name(other, ns),
        }
    }
}

fn write_canonical(nodes: &[Node], id: NodeId, seen: &mut HashSet<NodeId>, out: &mut String) {
    let quoted = |s: &str| serde_json::to_string(s).expect("string serialises");
    match &nodes[id] {
        Node::Null => out.push_str("\"null\""),
        Node::Boolean => out.push_str("\"boolean\""),
        Node::Int | Node::Date => out.push_str("\"int\""),
        Node::Long | Node::TimestampMillis => out.push_str("\"long\""),
        Node::Float => out.push_str("\"float\""),
        Node::Double => out.push_str("\"double\""),
        Node::Bytes => out.push_str("\"bytes\""),
        Node::String => out.push_str("\"string\""),
        Node::Record { name, fields } => {
            if !seen.insert(id) {
                out.push_str(&quoted(name));
                return;
            }
            out.push_str(&format!(
                "{{\"name\":{},\"type\":\"record\",\"fields\":[",
                quoted(name)
            ));
            for (i, f) in fields.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&format!("{{\"name\":{},\"type\":", quoted(&f.name)));
                write_canonical(nodes, f.schema, seen, out);
                out.push('}');
            }
            out.push_str("]}");
        }
        Node::Enum { name, symbols, .. } => {
            if !seen.insert(id) {
                out.push_str(&quoted(name));
                return;
            }
            let symbols: Vec<String> = symbols.iter().map(|s| quoted(s)).collect();
            out.push_str(&format!(
                "{{\"name\":{},\"type\":\"enum\",\"symbols\":[{}]}}",
                quoted(name),
                symbols.join(",")
            ));
        }
        Node::Fixed { name, size } => {
            if !seen.insert(id) {
                out.push_str(&quoted(name));
                return;
            }
            out.push_str(&format!(
                "{{\"name\":{},\"type\":\"fixed\",\"size\":{size}}}",
                quoted(name)
            ));
        }
        Node::Array(items) => {
            out.push_str("{\"type\":\"array\",\"items\":");
            write_canonical(nodes, *items, seen, out);
            out.push('}');
        }
        Node::Map(values) => {
            out.push_str("{\"type\":\"map\",\"values\":");
            write_canonical(nodes, *values, seen, out);
            out.push('}');
        }
        Node::Union(branches) => {
            out.push('[');
            for (i, b) in branches.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(nodes, *b, seen, out);
            }
            out.push(']');
        }
    }
}

const EMPTY: u64 = 0xc15d_213a_a4d7_a795;

fn crc_table() -> &'static [u64; 256] {
    static TABLE: std::sync::OnceLock<[u64; 256]> = std::sync::OnceLock::new();
    TABLE.get_or_init(|| {
        let mut t = [0u64; 256];
        for (i, slot) in t.iter_mut().enumerate() {
            let mut fp = i as u64;
            for _ in 0..8 {
                fp = (fp >> 1) ^ (EMPTY & (0u64.wrapping_sub(fp & 1)));
            }
            *slot = fp;
        }
        t
    })
}

/// The 64-bit Rabin fingerprint the Avro spec calls CRC-64-AVRO.
pub fn crc64_avro(bytes: &[u8]) -> u64 {
    let table = crc_table();
    let mut fp = EMPTY;
    for b in bytes {
        fp = (fp >> 8) ^ table[((fp ^ u64::from(*b)) & 0xff) as usize];
    }
    fp
}
