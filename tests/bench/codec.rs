//! The Avro codec on its own: encode and decode real records of every topic, in process.
//!
//! Every topic gets the records its producer writes (each data variant of a source topic once),
//! typed as the services type them; a round encodes all of them `--repeat` times and decodes
//! the bytes back into the Rust type. The best of `--rounds` rounds counts (the machine is
//! shared). Figures: nanoseconds per record for encode and for decode, per topic and over the
//! whole mix.

use std::collections::HashMap;
use std::time::Instant;

use schakel_core::domain::catalogue::Topic;
use schakel_core::domain::events::*;
use schakel_core::log::codec::Registry;
use schakel_e2e::bench::{arg, text_arg, write_figures};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{json, Value};

const KEY: &str = "5f0c9d7e3a1b2c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5";
const T: &str = "2026-11-22T08:00:00.123Z";

fn child() -> Value {
    json!({"childKey": KEY, "birthDate": "2014-03-01", "birthDatePrecision": "day",
           "residenceMunicipality": "0392"})
}

fn school() -> Value {
    json!({"brin": "12AB", "vestiging": "00"})
}

/// A source fact with the envelope ingest writes around `data`.
fn fact(kind: &str, data: Value) -> Value {
    json!({"id": "0b7c6f0e-3d52-4a8e-9b1e-6b2b8f0c1d2e",
           "source": "urn:nld:brin:12AB:systeem:parnassys",
           "type": format!("nl.schakel.{kind}.v1"), "time": T, "child": child(), "data": data})
}

fn source_topics() -> Vec<(Topic, Vec<Value>)> {
    let s = school();
    vec![
        (
            Topic::SCHOOL,
            vec![
                fact(
                    "school.enrolment-registered",
                    json!({"EnrolmentRegistered":
                    {"school": s, "sector": "po", "grade": 8, "startDate": "2026-08-24"}}),
                ),
                fact(
                    "school.enrolment-ended",
                    json!({"EnrolmentEnded":
                    {"school": s, "endDate": "2026-07-10", "reason": "andere-school",
                     "destination": {"brin": "34CD", "vestiging": "01"},
                     "startkwalificatie": null}}),
                ),
                fact(
                    "school.application-registered",
                    json!({"ApplicationRegistered":
                    {"school": s, "date": "2026-03-15"}}),
                ),
                fact(
                    "school.admission-decided",
                    json!({"AdmissionDecided":
                    {"school": s, "date": "2026-04-02", "decision": "toegelaten"}}),
                ),
                fact(
                    "school.advice-given",
                    json!({"AdviceGiven":
                    {"kind": "definitief", "level": "havo", "date": "2026-01-31"}}),
                ),
                fact(
                    "school.support-started",
                    json!({"SupportStarted":
                    {"school": s, "support": "arrangement", "date": "2026-09-01"}}),
                ),
                fact(
                    "school.support-ended",
                    json!({"SupportEnded":
                    {"school": s, "support": "arrangement", "date": "2026-12-01"}}),
                ),
            ],
        ),
        (
            Topic::VOORSCHOOL,
            vec![
                fact(
                    "voorschool.placement-started",
                    json!({"PlacementStarted":
                    {"location": {"lrk": "123456789"}, "vveIndication": true,
                     "date": "2024-09-01", "mentor": "Peuterspeelzaal De Hoek"}}),
                ),
                fact(
                    "voorschool.placement-ended",
                    json!({"PlacementEnded":
                    {"location": {"lrk": "123456789"}, "vveIndication": true,
                     "date": "2026-02-28", "mentor": null}}),
                ),
            ],
        ),
        (
            Topic::LEERPLICHT,
            vec![
                fact(
                    "leerplicht.verzuim-reported",
                    json!({"VerzuimReported":
                    {"school": s, "meldingsnummer": "M-2026-0042", "kind": "ongeoorloofd",
                     "firstAbsenceDate": "2026-11-02"}}),
                ),
                fact(
                    "leerplicht.verzuim-status-changed",
                    json!({"VerzuimStatusChanged":
                    {"meldingsnummer": "M-2026-0042", "status": "in-behandeling"}}),
                ),
                fact(
                    "leerplicht.vrijstelling-granted",
                    json!({"VrijstellingGranted":
                    {"kind": "5a", "from": "2026-08-01", "until": "2027-07-31"}}),
                ),
                fact(
                    "leerplicht.vrijstelling-ended",
                    json!({"VrijstellingEnded":
                    {"kind": "5a", "from": "2026-08-01", "until": null}}),
                ),
                fact(
                    "leerplicht.thuiszitter-registered",
                    json!({"ThuiszitterRegistered":
                    {"since": "2026-10-05", "school": s}}),
                ),
                fact(
                    "leerplicht.thuiszitter-resolved",
                    json!({"ThuiszitterResolved":
                    {"date": "2026-11-20", "offer": "onderwijs"}}),
                ),
            ],
        ),
        (
            Topic::JEUGDHULP,
            vec![
                fact(
                    "jeugdhulp.assignment-issued",
                    json!({"AssignmentIssued":
                    {"toewijzingNummer": "T-88123", "product": {"categorie": "45", "code": "45A12"},
                     "ingangsdatum": "2026-01-01", "einddatum": null, "toewijzingTijdstip": T,
                     "verlengdeJeugdhulp": false, "gemeente": "0392"}}),
                ),
                fact(
                    "jeugdhulp.assignment-withdrawn",
                    json!({"AssignmentWithdrawn":
                    {"toewijzingNummer": "T-88123", "date": "2026-02-01"}}),
                ),
                fact(
                    "jeugdhulp.care-started",
                    json!({"CareStarted":
                    {"toewijzingNummer": "T-88123", "begindatum": "2026-01-05"}}),
                ),
                fact(
                    "jeugdhulp.care-stopped",
                    json!({"CareStopped":
                    {"toewijzingNummer": "T-88123", "begindatum": "2026-01-05",
                     "einddatum": "2026-06-30", "redenBeeindiging": "01"}}),
                ),
                fact(
                    "jeugdhulp.care-withdrawn",
                    json!({"CareWithdrawn":
                    {"toewijzingNummer": "T-88123", "record": "start",
                     "begindatum": "2026-01-05"}}),
                ),
                fact(
                    "jeugdhulp.assignment-requested",
                    json!({"AssignmentRequested":
                    {"referentieAanbieder": "REF-1", "product": {"categorie": "45", "code": null},
                     "ingangsdatum": "2026-01-01", "einddatum": null, "gemeente": "0392"}}),
                ),
            ],
        ),
    ]
}

fn hub_topics() -> Vec<(Topic, Vec<Value>)> {
    let contact = json!({"Contact": {"id": "c-ib-12ab", "name": "Intern begeleider",
        "organisation": "OBS De Regenboog", "institution": "brin:12AB",
        "roles": ["ib", "zorgcoordinator"], "email": "ib@regenboog.example",
        "webhook": {"url": "https://las.example/hooks/schakel", "secret": "whsec_0123456789abcdef"},
        "preferences": {"channels": ["webhook", "email"], "digestHour": 8, "rules": null}}});
    vec![
        (
            Topic::CLOCK,
            vec![json!({"id": "tick-2026-11-22", "date": "2026-11-22", "producedAt": T})],
        ),
        (
            Topic::SIGNALS,
            vec![
                json!({"id": "sig-1:opened", "type": "nl.schakel.signal.opened.v1",
                "step": "opened", "signalId": "sig-1", "rule": "R2", "childKey": KEY,
                "institution": "brin:12AB", "municipality": "0392", "dueDate": "2026-12-15",
                "recipients": ["c-ib-12ab", "c-lpa-0392"], "task": true, "firedOn": "2026-11-22",
                "birthDateUncertain": false, "facts": ["0b7c6f0e-3d52-4a8e-9b1e-6b2b8f0c1d2e"],
                "policy": {"handoffDays": "21", "reminderDays": "7"},
                "routes": {"ib": "brin:12AB"}, "residenceDerivedFrom": null}),
            ],
        ),
        (
            Topic::RESPONSES,
            vec![json!({"id": "r-1", "source": "urn:nl:schakel:monitor",
                "type": "nl.schakel.hub.handoff-acknowledged.v1", "time": T, "childKey": KEY,
                "signalId": "sig-1", "contact": "c-ib-12ab", "at": T, "note": null,
                "roles": ["ib"]})],
        ),
        (
            Topic::DIRECTORY,
            vec![
                json!({"entry": {"Institution": {"id": "brin:12AB", "name": "OBS De Regenboog"}}}),
                json!({"entry": contact}),
            ],
        ),
        (
            Topic::DELIVERIES,
            vec![json!({"id": "d-1", "type": "nl.schakel.delivery.failed.v1",
                "signalId": "sig-1", "signalEventId": "sig-1:opened", "step": "opened",
                "contact": "c-ib-12ab", "channel": "webhook", "attempt": 2,
                "status": "failed", "error": "HTTP 503", "at": T,
                "nextAttemptAt": "2026-11-22T08:05:00Z", "signalPartition": 3,
                "signalOffset": 48213})],
        ),
        (
            Topic::DEADLETTER,
            vec![
                json!({"id": "dl-1", "topic": "source.school.v1", "partition": 2,
                "offset": 991, "service": "rules", "reason": "cannot decode",
                "at": T, "payload": "wwEBAgMEBQYHCAkKCwwNDg8Q"}),
            ],
        ),
        (
            Topic::IDENTITIES,
            vec![
                json!({"childKey": KEY, "keyId": "k-2026-11", "nonce": "AAECAwQFBgcICQoL",
                "ciphertext": "c2VjcmV0IGJ5dGVzIG9mIGEgY2hpbGQncyBpZGVudGl0eQ==",
                "source": "urn:nld:brin:12AB:systeem:parnassys", "recordedAt": T}),
            ],
        ),
        (
            Topic::AUDIT,
            vec![
                json!({"id": "a-1", "type": "nl.schakel.audit.identity-revealed.v1", "childKey": KEY,
                "actor": "lpa@gemeente.example", "onBehalfOf": null,
                "reason": "handoff-task", "at": T}),
            ],
        ),
        (
            Topic::IMPORTS,
            vec![
                json!({"importId": "imp-1", "kind": "school", "linesDone": 5000,
                "accepted": 4990, "rejected": 10, "finished": false, "at": T}),
            ],
        ),
    ]
}

type Encode = dyn Fn(&Registry) -> Vec<Vec<u8>>;
type OverBytes<R> = dyn Fn(&Registry, &[Vec<u8>]) -> R;

/// One topic's records, typed, and the loop over them.
struct Sample {
    name: Topic,
    records: usize,
    /// encodes every record once: the bytes
    encode: Box<Encode>,
    /// decodes the bytes of every record once: how many decoded
    decode: Box<OverBytes<usize>>,
    /// the same through a JSON value first (the decoder before issue 15): the baseline
    via_json: Box<OverBytes<usize>>,
    /// decodes bytes written by some build of the codec: are they the sample records?
    same: Box<OverBytes<bool>>,
}

fn topic<T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug + 'static>(
    samples: &mut HashMap<Topic, Vec<Value>>,
    name: Topic,
) -> Sample {
    let values: Vec<T> = samples
        .remove(&name)
        .unwrap_or_else(|| panic!("{name}: no sample records"))
        .into_iter()
        .map(|v| serde_json::from_value(v).unwrap_or_else(|e| panic!("{name}: sample: {e}")))
        .collect();
    let reg = schakel_core::log::schemas::registry();
    for v in &values {
        let bytes = reg.encode(name, v).expect("encode");
        assert_eq!(&reg.decode::<T>(name, &bytes).expect("decode"), v, "{name}");
    }
    let records = values.len();
    let values = std::rc::Rc::new(values);
    let expected = values.clone();
    Sample {
        name,
        records,
        same: Box::new(move |reg, bytes| {
            bytes.len() == expected.len()
                && bytes
                    .iter()
                    .zip(expected.iter())
                    .all(|(b, v)| reg.decode::<T>(name, b).ok().as_ref() == Some(v))
        }),
        encode: Box::new(move |reg| {
            values
                .iter()
                .map(|v| reg.encode(name, v).expect("encode"))
                .collect()
        }),
        decode: Box::new(move |reg, bytes| {
            let mut decoded = 0;
            for b in bytes {
                std::hint::black_box(reg.decode::<T>(name, b).expect("decode"));
                decoded += 1;
            }
            decoded
        }),
        via_json: Box::new(move |reg, bytes| {
            let mut decoded = 0;
            for b in bytes {
                let json = reg.decode_json(name, b).expect("decode");
                std::hint::black_box(serde_json::from_value::<T>(json).expect("shape"));
                decoded += 1;
            }
            decoded
        }),
    }
}

/// Every topic of `schemas::CURRENT` with its Rust type; a topic without samples fails here.
fn topics() -> Vec<Sample> {
    let mut m: HashMap<_, _> = source_topics().into_iter().chain(hub_topics()).collect();
    let out = vec![
        topic::<SchoolEvent>(&mut m, Topic::SCHOOL),
        topic::<VoorschoolEvent>(&mut m, Topic::VOORSCHOOL),
        topic::<LeerplichtEvent>(&mut m, Topic::LEERPLICHT),
        topic::<JeugdhulpEvent>(&mut m, Topic::JEUGDHULP),
        topic::<ClockTick>(&mut m, Topic::CLOCK),
        topic::<SignalEvent>(&mut m, Topic::SIGNALS),
        topic::<ResponseEvent>(&mut m, Topic::RESPONSES),
        topic::<DirectoryEntry>(&mut m, Topic::DIRECTORY),
        topic::<DeliveryEvent>(&mut m, Topic::DELIVERIES),
        topic::<DeadLetter>(&mut m, Topic::DEADLETTER),
        topic::<IdentityRecord>(&mut m, Topic::IDENTITIES),
        topic::<AuditEvent>(&mut m, Topic::AUDIT),
        topic::<ImportProgress>(&mut m, Topic::IMPORTS),
    ];
    assert!(m.is_empty(), "samples without a type: {:?}", m.keys());
    for (t, _) in schakel_core::log::schemas::CURRENT {
        assert!(
            out.iter().any(|x| x.name == *t),
            "topic {t} has no sample records"
        );
    }
    out
}

/// `--dump FILE`: the bytes this build writes for every sample record, as hex per topic.
fn dump(reg: &Registry, topics: &[Sample], file: &str) {
    let all: serde_json::Map<String, Value> = topics
        .iter()
        .map(|t| {
            let hex = (t.encode)(reg)
                .iter()
                .map(|b| Value::String(schakel_core::domain::ids::hex(b)))
                .collect();
            (t.name.to_string(), Value::Array(hex))
        })
        .collect();
    std::fs::write(file, serde_json::to_string_pretty(&all).expect("json")).expect("write dump");
    eprintln!("wrote the bytes of every sample record to {file}");
}

/// `--read FILE`: decodes a dump (of another build, say the codec before a change) and
/// checks that every record reads back as the sample it was written from.
fn read(reg: &Registry, topics: &[Sample], file: &str) -> bool {
    let text = std::fs::read_to_string(file).unwrap_or_else(|e| panic!("{file}: {e}"));
    let all: HashMap<String, Vec<String>> = serde_json::from_str(&text).expect("a --dump file");
    let unhex = |h: &str| -> Vec<u8> {
        (0..h.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&h[i..i + 2], 16).expect("hex"))
            .collect()
    };
    let mut ok = true;
    for t in topics {
        let bytes: Vec<Vec<u8>> = all
            .get(t.name.name())
            .map_or(vec![], |v| v.iter().map(|h| unhex(h)).collect());
        let same = (t.same)(reg, &bytes);
        eprintln!(
            "{:<22} {:>2} records from {file}: {}",
            t.name,
            bytes.len(),
            if same {
                "read back as written"
            } else {
                "DIFFER"
            }
        );
        ok &= same;
    }
    ok
}

fn main() {
    if std::env::args().any(|a| a == "--help" || a == "-h") {
        println!(
            "bench-codec [--repeat N (20000)] [--rounds N (5)] [--out FILE]\n\
             bench-codec --dump FILE | --read FILE\n\n\
             Encodes and decodes the records of every topic in process with the Avro codec\n\
             (single-object encoding, typed values as the services use them). Prints and\n\
             writes JSON (default .run/bench/bench-codec.json): nanoseconds per record for\n\
             encode and decode, per topic and over all topics; the best of --rounds rounds.\n\n\
             --dump writes the bytes of every sample record; --read decodes such a file (from\n\
             another build of the codec) and fails unless every record reads back as written."
        );
        return;
    }
    if let Some(file) = text_arg("--dump") {
        return dump(&schakel_core::log::schemas::registry(), &topics(), &file);
    }
    if let Some(file) = text_arg("--read") {
        let ok = read(&schakel_core::log::schemas::registry(), &topics(), &file);
        std::process::exit(if ok { 0 } else { 1 });
    }
    let repeat = arg("--repeat", 20_000);
    let rounds = arg("--rounds", 5).max(1);
    let out = text_arg("--out").unwrap_or_else(|| ".run/bench/bench-codec.json".into());
    let reg = schakel_core::log::schemas::registry();
    let topics = topics();
    let mut rows = Vec::new();
    let (mut enc_total, mut dec_total, mut n_total) = (0f64, 0f64, 0usize);
    let mut json_total = 0f64;
    for t in &topics {
        let n = t.records * repeat;
        let (mut best_enc, mut best_dec, mut best_json) = (f64::MAX, f64::MAX, f64::MAX);
        for _ in 0..rounds {
            let start = Instant::now();
            let mut bytes = Vec::new();
            for _ in 0..repeat {
                bytes = (t.encode)(&reg);
            }
            best_enc = best_enc.min(start.elapsed().as_secs_f64());
            let start = Instant::now();
            let mut decoded = 0;
            for _ in 0..repeat {
                decoded += (t.decode)(&reg, &bytes);
            }
            best_dec = best_dec.min(start.elapsed().as_secs_f64());
            assert_eq!(decoded, n);
            let start = Instant::now();
            let mut decoded = 0;
            for _ in 0..repeat {
                decoded += (t.via_json)(&reg, &bytes);
            }
            best_json = best_json.min(start.elapsed().as_secs_f64());
            assert_eq!(decoded, n);
        }
        let (enc_ns, dec_ns) = (best_enc * 1e9 / n as f64, best_dec * 1e9 / n as f64);
        let json_ns = best_json * 1e9 / n as f64;
        eprintln!(
            "{:<22} {:>2} records  encode {enc_ns:>7.0} ns  decode {dec_ns:>7.0} ns  (through JSON {json_ns:>7.0} ns)",
            t.name, t.records
        );
        rows.push(json!({"topic": t.name.name(), "records": t.records,
                         "encode_ns": enc_ns.round(), "decode_ns": dec_ns.round(),
                         "decode_through_json_ns": json_ns.round()}));
        enc_total += best_enc;
        dec_total += best_dec;
        json_total += best_json;
        n_total += n;
    }
    let (enc_ns, dec_ns) = (
        enc_total * 1e9 / n_total as f64,
        dec_total * 1e9 / n_total as f64,
    );
    let json_ns = json_total * 1e9 / n_total as f64;
    eprintln!("all topics ({n_total} records per round): encode {enc_ns:.0} ns, decode {dec_ns:.0} ns per record (through JSON {json_ns:.0} ns: {:.2}x)", json_ns / dec_ns);
    let report = json!({
        "repeat": repeat, "rounds": rounds,
        "all": {"encode_ns": enc_ns.round(), "decode_ns": dec_ns.round(),
                "decode_through_json_ns": json_ns.round(),
                "ratio_through_json_over_direct": ((json_ns / dec_ns) * 100.0).round() / 100.0,
                "records_per_s": (n_total as f64 / (enc_total + dec_total)).round()},
        "topics": rows,
    });
    println!("{}", serde_json::to_string_pretty(&report).expect("json"));
    write_figures(&out, &report);
}
