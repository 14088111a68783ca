use proptest::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::*;
use crate::domain::catalogue::Topic;

/// The topic the tests register their schemas under (any topic will do).
const T: Topic = Topic::SCHOOL;

/// Vectors computed with the Apache Avro Python library (fingerprint bytes little-endian).
#[test]
fn fingerprints_match_the_reference_implementation() {
    let cases = [
        ("\"null\"", "8a8f25cce724dd63"),
        ("\"int\"", "8f5c393f1ad57572"),
        (
            r#"{"type":"record","name":"R","namespace":"a.b","fields":[{"name":"x","type":["null","string"],"default":null},{"name":"e","type":{"type":"enum","name":"E","symbols":["A","B"]}},{"name":"m","type":{"type":"map","values":"long"}},{"name":"r","type":"E"}]}"#,
            "eb8e384cb125b119",
        ),
    ];
    for (text, want) in cases {
        let s = Schema::parse(text).unwrap();
        assert_eq!(
            crate::domain::ids::hex(&s.fingerprint().to_le_bytes()),
            want,
            "{text}"
        );
    }
    let s = Schema::parse(cases[2].0).unwrap();
    assert_eq!(
        s.canonical_form(),
        r#"{"name":"a.b.R","type":"record","fields":[{"name":"x","type":["null","string"]},{"name":"e","type":{"name":"a.b.E","type":"enum","symbols":["A","B"]}},{"name":"m","type":{"type":"map","values":"long"}},{"name":"r","type":"a.b.E"}]}"#
    );
    // a logical type does not change the canonical form
    let date = Schema::parse(r#"{"type":"int","logicalType":"date"}"#).unwrap();
    assert_eq!(date.canonical_form(), "\"int\"");
}

const V2: &str = r#"{"type":"record","name":"Ev","namespace":"t","fields":[
  {"name":"id","type":"string"},
  {"name":"day","type":{"type":"int","logicalType":"date"}},
  {"name":"at","type":{"type":"long","logicalType":"timestamp-millis"}},
  {"name":"n","type":"long"},
  {"name":"tags","type":{"type":"array","items":"string"}},
  {"name":"note","type":["null","string"],"default":null},
  {"name":"kind","type":{"type":"enum","name":"Kind","symbols":["a","b","c"],"default":"a"}},
  {"name":"data","type":[
     {"type":"record","name":"Started","fields":[{"name":"x","type":"int"}]},
     {"type":"record","name":"Stopped","fields":[{"name":"y","type":"string"},{"name":"z","type":"boolean","default":false}]}
  ]},
  {"name":"extra","type":{"type":"map","values":"string"},"default":{}}
]}"#;

/// The same record before `note`, `extra` and `Stopped.z` existed, with `n` still an int.
const V1: &str = r#"{"type":"record","name":"Ev","namespace":"t","fields":[
  {"name":"id","type":"string"},
  {"name":"day","type":{"type":"int","logicalType":"date"}},
  {"name":"at","type":{"type":"long","logicalType":"timestamp-millis"}},
  {"name":"n","type":"int"},
  {"name":"tags","type":{"type":"array","items":"string"}},
  {"name":"gone","type":"string"},
  {"name":"kind","type":{"type":"enum","name":"Kind","symbols":["a","b"]}},
  {"name":"data","type":[
     {"type":"record","name":"Started","fields":[{"name":"x","type":"int"}]},
     {"type":"record","name":"Stopped","fields":[{"name":"y","type":"string"}]}
  ]}
]}"#;

#[derive(Debug, PartialEq, Serialize, Deserialize)]
enum Data {
    Started { x: i32 },
    Stopped { y: String, z: bool },
}

#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct Ev {
    id: String,
    day: jiff::civil::Date,
    at: jiff::Timestamp,
    n: i64,
    tags: Vec<String>,
    note: Option<String>,
    kind: String,
    data: Data,
    extra: std::collections::BTreeMap<String, String>,
}

#[test]
fn roundtrip_through_serde() {
    let mut reg = Registry::default();
    reg.add_current(T, V2).unwrap();
    let ev = Ev {
        id: "e-1".into(),
        day: jiff::civil::date(2008, 2, 29),
        at: "2026-11-22T10:00:00.123Z".parse().unwrap(),
        n: -5_000_000_000,
        tags: vec!["x".into(), "".into()],
        note: Some("hallo".into()),
        kind: "c".into(),
        data: Data::Stopped {
            y: "w".into(),
            z: true,
        },
        extra: [("k".to_owned(), "v".to_owned())].into(),
    };
    let bytes = reg.encode(T, &ev).unwrap();
    assert_eq!(&bytes[..2], &[0xC3, 0x01]);
    let back: Ev = reg.decode(T, &bytes).unwrap();
    assert_eq!(back, ev);
    // the direct path hands a type what the JSON path would: JSON itself comes out the same
    let direct: serde_json::Value = reg.decode(T, &bytes).unwrap();
    assert_eq!(direct, reg.decode_json(T, &bytes).unwrap());
    let direct: serde_json::Value = reg
        .decode(T, &reg.encode(T, &Ev { note: None, ..ev }).unwrap())
        .unwrap();
    assert_eq!(direct["note"], serde_json::Value::Null);
    assert_eq!(direct["data"]["Stopped"]["y"], "w");
}

#[test]
fn a_record_written_with_an_older_schema_is_read_by_the_current_one() {
    let old = Schema::parse(V1).unwrap();
    let bytes = encode_json(
        &old,
        &json!({"id": "e-2", "day": "2020-01-31", "at": "2026-01-01T00:00:00Z", "n": 7,
                "tags": ["p"], "gone": "dropped", "kind": "b", "data": {"Stopped": {"y": "q"}}}),
    )
    .unwrap();
    let mut reg = Registry::default();
    reg.add_current(T, V2).unwrap();
    assert!(matches!(
        reg.decode::<Ev>(T, &bytes),
        Err(CodecError::UnknownFingerprint(_))
    ));
    reg.add_history(V1).unwrap();
    let ev: Ev = reg.decode(T, &bytes).unwrap();
    assert_eq!(ev.n, 7);
    assert_eq!(ev.note, None);
    assert_eq!(ev.kind, "b");
    assert_eq!(
        ev.data,
        Data::Stopped {
            y: "q".into(),
            z: false
        }
    );
    assert!(ev.extra.is_empty());
    assert_eq!(ev.day, jiff::civil::date(2020, 1, 31));
}

#[test]
fn errors_name_the_field() {
    let s = Schema::parse(V2).unwrap();
    let e = encode_json(&s, &json!({"id": 1})).unwrap_err().to_string();
    assert!(e.contains("id"), "{e}");
    let e = encode_json(
        &s,
        &json!({"id": "x", "day": "2020-02-30", "at": 0, "n": 1, "tags": [], "kind": "a",
                "data": {"Started": {"x": 1}}}),
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("day"), "{e}");
}

/// What `write` writes is what apache-avro's own writer writes for the datum it reads back.
#[test]
fn the_bytes_are_apache_avros() {
    use apache_avro::writer::datum::GenericDatumWriter;
    let s = Schema::parse(V2).unwrap();
    let oracle = GenericDatumWriter::builder(s.avro)
        .resolved_schemata(s.names.clone())
        .build()
        .unwrap();
    let records = [
        json!({"id": "e-1", "day": "2008-02-29", "at": "2026-11-22T10:00:00.123Z",
               "n": -5_000_000_000i64, "tags": ["x", "", "ÿ"], "note": "hallo", "kind": "c",
               "data": {"Stopped": {"y": "w", "z": true}}, "extra": {"k": "v"}}),
        json!({"id": "", "day": "1969-12-31", "at": 0, "n": 0, "tags": [], "note": null,
               "kind": "a", "data": {"Started": {"x": -1}}}),
        json!({"id": "x".repeat(300), "day": "2100-01-01", "at": "1970-01-01T00:00:00Z",
               "n": i64::MAX, "tags": vec!["a"; 200], "kind": "b",
               "data": {"Started": {"x": i32::MIN}}, "extra": {}}),
    ];
    for json in records {
        let ours = encode_json(&s, &json).unwrap();
        let value = s.reader.read_value(&mut &ours[10..]).unwrap();
        let mut theirs = Vec::new();
        oracle.write_value_ref(&mut theirs, &value).unwrap();
        assert_eq!(ours[10..], theirs[..], "{json}");
    }
}

#[test]
fn garbage_is_refused_not_panicked_on() {
    let mut reg = Registry::default();
    reg.add_current(T, V2).unwrap();
    assert!(matches!(
        reg.decode_json(T, b"{}"),
        Err(CodecError::Framing)
    ));
    let good = encode_json(
        reg.current(T).unwrap(),
        &json!({"id": "x", "day": "2020-02-03", "at": 0, "n": 1, "tags": [], "kind": "a",
                "data": {"Started": {"x": 1}}}),
    )
    .unwrap();
    for cut in 10..good.len() {
        assert!(reg.decode_json(T, &good[..cut]).is_err());
    }
}

proptest! {
    #[test]
    fn longs_roundtrip(n in any::<i64>()) {
        let s = Schema::parse("\"long\"").unwrap();
        let bytes = encode_json(&s, &json!(n)).unwrap();
        prop_assert_eq!(decode_json_with(&s, &s, &bytes[10..]).unwrap(), json!(n));
    }

    #[test]
    fn strings_and_maps_roundtrip(m in proptest::collection::btree_map("\\PC{0,8}", "\\PC{0,8}", 0..6)) {
        let s = Schema::parse(r#"{"type":"map","values":"string"}"#).unwrap();
        let v = serde_json::to_value(&m).unwrap();
        let bytes = encode_json(&s, &v).unwrap();
        prop_assert_eq!(decode_json_with(&s, &s, &bytes[10..]).unwrap(), v.clone());
        let mut reg = Registry::default();
        reg.add_current(T, r#"{"type":"map","values":"string"}"#).unwrap();
        let direct: std::collections::BTreeMap<String, String> = reg.decode(T, &bytes).unwrap();
        prop_assert_eq!(direct, m);
    }

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
        let s = Schema::parse(V2).unwrap();
        let _ = decode_json_with(&s, &s, &bytes);
    }
}
