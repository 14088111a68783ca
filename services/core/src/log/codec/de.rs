//! A decoded Avro value handed to serde directly, in the project's JSON convention (see the
//! module docs), without building a JSON value first: what `from_avro::to_json` would make,
//! a type sees through the same visitor calls (`serde_json::Value`'s), so every type decodes
//! alike either way. The replay of a region decodes millions of records; the JSON detour
//! cost more than reading the Avro itself (docs/bench.md, issue 15).

use std::fmt;

use apache_avro::schema::NamesRef;
use apache_avro::types::Value;
use base64::Engine;
use jiff::Timestamp;
use serde::de::{
    self, DeserializeSeed, EnumAccess, IntoDeserializer, MapAccess, SeqAccess, VariantAccess,
    Visitor,
};
use serde::forward_to_deserialize_any;

use super::schema::{deref, short_name, AvroSchema};
use crate::domain::dates::from_epoch_days;

/// Why a value did not fit the Rust type (or its schema).
#[derive(Debug)]
pub(crate) struct DeError(String);

impl fmt::Display for DeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for DeError {}

impl de::Error for DeError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        DeError(msg.to_string())
    }
}

fn shape(what: &str) -> DeError {
    DeError(format!("value does not have its schema's shape: {what}"))
}

/// A value with the schema it has (the reader's, after resolution).
pub(crate) struct De<'a> {
    pub value: Value,
    pub schema: &'a AvroSchema,
    pub names: &'a NamesRef<'static>,
}

impl<'a> De<'a> {
    fn of(value: Value, schema: &'a AvroSchema, names: &'a NamesRef<'static>) -> Self {
        Self {
            value,
            schema,
            names,
        }
    }
}

fn resolved<'a>(
    schema: &'a AvroSchema,
    names: &'a NamesRef<'static>,
) -> Result<&'a AvroSchema, DeError> {
    deref(schema, names).map_err(DeError)
}

/// A union's branch `i`, and whether it is tagged with its record name (a record in a union of
/// several non-null types, serde's externally tagged enum).
fn branch<'a>(
    schema: &'a AvroSchema,
    names: &'a NamesRef<'static>,
    i: u32,
) -> Result<(&'a AvroSchema, Option<&'a str>), DeError> {
    let AvroSchema::Union(u) = resolved(schema, names)? else {
        return Err(shape("union"));
    };
    let branch = u
        .variants()
        .get(i as usize)
        .ok_or_else(|| shape("union branch"))?;
    let branch = deref(branch, names).map_err(DeError)?;
    let non_null = u
        .variants()
        .iter()
        .filter(|b| !matches!(b, AvroSchema::Null))
        .count();
    let tag = match (non_null > 1, branch) {
        (true, AvroSchema::Record(_)) => short_name(branch),
        _ => None,
    };
    Ok((branch, tag))
}

/// A number as `serde_json::Value` hands it over: non-negative as u64, negative as i64.
fn visit_integer<'de, V: Visitor<'de>>(n: i64, visitor: V) -> Result<V::Value, DeError> {
    match u64::try_from(n) {
        Ok(u) => visitor.visit_u64(u),
        Err(_) => visitor.visit_i64(n),
    }
}

impl<'de> de::Deserializer<'de> for De<'_> {
    type Error = DeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let De {
            value,
            schema,
            names,
        } = self;
        match value {
            Value::Null => visitor.visit_unit(),
            Value::Boolean(b) => visitor.visit_bool(b),
            Value::Int(n) => visit_integer(i64::from(n), visitor),
            Value::Long(n) => visit_integer(n, visitor),
            Value::Float(f) => visitor.visit_f64(f64::from(f)),
            Value::Double(f) => visitor.visit_f64(f),
            Value::String(s) | Value::Enum(_, s) => visitor.visit_string(s),
            Value::Bytes(b) | Value::Fixed(_, b) => {
                visitor.visit_string(base64::engine::general_purpose::STANDARD.encode(b))
            }
            Value::Date(days) => match from_epoch_days(days) {
                Some(d) => visitor.visit_string(d.to_string()),
                None => Err(DeError("date out of range".into())),
            },
            Value::TimestampMillis(ms) => match Timestamp::from_millisecond(ms) {
                Ok(t) => visitor.visit_string(t.to_string()),
                Err(_) => Err(DeError("timestamp out of range".into())),
            },
            Value::Array(items) => {
                let AvroSchema::Array(a) = resolved(schema, names)? else {
                    return Err(shape("array"));
                };
                visitor.visit_seq(Items {
                    items: items.into_iter(),
                    schema: &a.items,
                    names,
                })
            }
            Value::Map(entries) => {
                let AvroSchema::Map(m) = resolved(schema, names)? else {
                    return Err(shape("map"));
                };
                // in key order, as a JSON object has them
                let mut entries: Vec<(String, Value)> = entries.into_iter().collect();
                entries.sort_unstable_by(|a, b| a.0.cmp(&b.0));
                visitor.visit_map(Entries {
                    entries: entries.into_iter(),
                    schema: Field::Same(&m.types),
                    names,
                    index: 0,
                    next: None,
                })
            }
            Value::Record(fields) => {
                let AvroSchema::Record(r) = resolved(schema, names)? else {
                    return Err(shape("record"));
                };
                visitor.visit_map(Entries {
                    entries: fields.into_iter(),
                    schema: Field::Record(r),
                    names,
                    index: 0,
                    next: None,
                })
            }
            Value::Union(i, inner) => {
                let (branch, tag) = branch(schema, names, i)?;
                let inner = De::of(*inner, branch, names);
                match tag {
                    Some(tag) => visitor.visit_map(Tagged {
                        tag: Some(tag),
                        value: Some(inner),
                    }),
                    None => inner.deserialize_any(visitor),
                }
            }
            other => Err(DeError(format!("unsupported Avro value {other:?}"))),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match self.value {
            Value::Null => visitor.visit_none(),
            Value::Union(_, ref inner) if matches!(**inner, Value::Null) => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        let De {
            value,
            schema,
            names,
        } = self;
        match value {
            Value::String(s) | Value::Enum(_, s) => {
                visitor.visit_enum(IntoDeserializer::<DeError>::into_deserializer(s))
            }
            Value::Union(i, inner) => {
                let (branch, tag) = branch(schema, names, i)?;
                let inner = De::of(*inner, branch, names);
                match tag {
                    Some(tag) => visitor.visit_enum(Variant { tag, value: inner }),
                    None => inner.deserialize_enum(name, variants, visitor),
                }
            }
            value => De::of(value, schema, names).deserialize_any(visitor),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        visitor.visit_newtype_struct(self)
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        unit unit_struct seq tuple tuple_struct map struct identifier ignored_any
    }
}

/// The items of an array.
struct Items<'a> {
    items: std::vec::IntoIter<Value>,
    schema: &'a AvroSchema,
    names: &'a NamesRef<'static>,
}

impl<'de> SeqAccess<'de> for Items<'_> {
    type Error = DeError;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, DeError> {
        match self.items.next() {
            Some(v) => seed
                .deserialize(De::of(v, self.schema, self.names))
                .map(Some),
            None => Ok(None),
        }
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.items.len())
    }
}

/// Where the schemas of a map's or record's values come from.
enum Field<'a> {
    /// a map: every value has the same schema
    Same(&'a AvroSchema),
    /// a record: each field its own (fields come in schema order; looked up by name when not)
    Record(&'a apache_avro::schema::RecordSchema),
}

/// The entries of a map or the fields of a record, as a JSON object's.
struct Entries<'a> {
    entries: std::vec::IntoIter<(String, Value)>,
    schema: Field<'a>,
    names: &'a NamesRef<'static>,
    /// the place of the next entry
    index: usize,
    next: Option<(Value, &'a AvroSchema)>,
}

impl<'de> MapAccess<'de> for Entries<'_> {
    type Error = DeError;

    fn next_key_seed<K: de::DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, DeError> {
        let Some((name, value)) = self.entries.next() else {
            return Ok(None);
        };
        let i = self.index;
        self.index += 1;
        let schema = match &self.schema {
            Field::Same(s) => *s,
            Field::Record(r) => match r.fields.get(i) {
                Some(f) if f.name == name => &f.schema,
                _ => r
                    .lookup
                    .get(&name)
                    .map(|&j| &r.fields[j].schema)
                    .ok_or_else(|| shape("record field"))?,
            },
        };
        self.next = Some((value, schema));
        seed.deserialize(IntoDeserializer::<DeError>::into_deserializer(name))
            .map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, DeError> {
        let (value, schema) = self
            .next
            .take()
            .ok_or_else(|| DeError("a value asked for before its key".into()))?;
        seed.deserialize(De::of(value, schema, self.names))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.entries.len())
    }
}

/// A tagged union branch seen as a map of one entry, `{"RecordName": {...}}`.
struct Tagged<'a> {
    tag: Option<&'a str>,
    value: Option<De<'a>>,
}

impl<'de> MapAccess<'de> for Tagged<'_> {
    type Error = DeError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, DeError> {
        match self.tag.take() {
            Some(tag) => seed
                .deserialize(IntoDeserializer::<DeError>::into_deserializer(tag))
                .map(Some),
            None => Ok(None),
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, DeError> {
        let value = self
            .value
            .take()
            .ok_or_else(|| DeError("a value asked for twice".into()))?;
        seed.deserialize(value)
    }
}

/// A tagged union branch seen as an enum variant with content.
struct Variant<'a> {
    tag: &'a str,
    value: De<'a>,
}

impl<'de, 'a> EnumAccess<'de> for Variant<'a> {
    type Error = DeError;
    type Variant = De<'a>;

    fn variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<(T::Value, De<'a>), DeError> {
        let tag = seed.deserialize(IntoDeserializer::<DeError>::into_deserializer(self.tag))?;
        Ok((tag, self.value))
    }
}

impl<'de> VariantAccess<'de> for De<'_> {
    type Error = DeError;

    fn unit_variant(self) -> Result<(), DeError> {
        de::Deserialize::deserialize(self)
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value, DeError> {
        seed.deserialize(self)
    }

    fn tuple_variant<V: Visitor<'de>>(self, _len: usize, visitor: V) -> Result<V::Value, DeError> {
        de::Deserializer::deserialize_any(self, visitor)
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        de::Deserializer::deserialize_any(self, visitor)
    }
}
