//! A fact's event id, kept in the fact when it is short.

use serde::{Deserialize, Serialize};

/// The id of the event a fact came from, for explanations. Up to 38 bytes (a UUID has 36) are
/// kept in the fact itself, longer ids on the heap: a fact costs no allocation of its own for
/// its id. Read as a `str`; written to a snapshot as a string, as before.
#[derive(Clone, PartialEq, Eq)]
pub struct FactId(IdRepr);

const INLINE_ID: usize = 38;

#[derive(Clone, PartialEq, Eq)]
enum IdRepr {
    /// the first `len` bytes of `buf` (the rest zero)
    Inline {
        len: u8,
        buf: [u8; INLINE_ID],
    },
    Heap(Box<str>),
}

impl From<&str> for FactId {
    fn from(s: &str) -> Self {
        if s.len() <= INLINE_ID {
            let mut buf = [0u8; INLINE_ID];
            buf[..s.len()].copy_from_slice(s.as_bytes());
            FactId(IdRepr::Inline {
                len: s.len() as u8,
                buf,
            })
        } else {
            FactId(IdRepr::Heap(s.into()))
        }
    }
}

impl std::ops::Deref for FactId {
    type Target = str;
    fn deref(&self) -> &str {
        match &self.0 {
            IdRepr::Inline { len, buf } => {
                std::str::from_utf8(&buf[..*len as usize]).expect("made from a str")
            }
            IdRepr::Heap(s) => s,
        }
    }
}

impl std::fmt::Debug for FactId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(&**self, f)
    }
}

impl Serialize for FactId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self)
    }
}

impl<'de> Deserialize<'de> for FactId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visit;
        impl serde::de::Visitor<'_> for Visit {
            type Value = FactId;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an event id")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<FactId, E> {
                Ok(FactId::from(v))
            }
        }
        d.deserialize_str(Visit)
    }
}

#[cfg(test)]
mod tests {
    use super::FactId;

    #[test]
    fn a_fact_id_reads_and_is_written_as_the_string_it_was() {
        let long = "y".repeat(39);
        let edge = "x".repeat(38);
        for s in [
            "",
            "0b6f2a4e-7c1d-4d8e-9a51-3f0c2b7e9d10",
            edge.as_str(),
            long.as_str(),
            "ééé-ü",
        ] {
            let id = FactId::from(s);
            assert_eq!(&*id, s);
            assert_eq!(format!("{id:?}"), format!("{s:?}"));
            // snapshots written before keep their form both ways
            let boxed: Box<str> = s.into();
            let old = bincode::serialize(&boxed).unwrap();
            assert_eq!(bincode::serialize(&id).unwrap(), old);
            assert_eq!(bincode::deserialize::<FactId>(&old).unwrap(), id);
            let json = serde_json::to_string(&id).unwrap();
            assert_eq!(serde_json::from_str::<FactId>(&json).unwrap(), id);
        }
        assert!(std::mem::size_of::<FactId>() <= 40);
    }
}
