//! A CSV export as ingest reads it at `POST /v1/imports/{kind}`, read as every kind. Nothing
//! may panic; rows come in increasing line order, each accepted with events or rejected with
//! at least one reason, and the row count returned is the number of rows handed out.
#![no_main]

use libfuzzer_sys::fuzz_target;
use schakel_core::domain::ids::Pseudonymizer;
use schakel_ingest::csvimport::{read_csv, ImportKind, RowOutcome};

const KINDS: [&str; 5] = [
    "enrolments",
    "placements",
    "verzuim",
    "vrijstellingen",
    "thuiszitters",
];

fuzz_target!(|data: &[u8]| {
    let pseudo = Pseudonymizer::new(b"fuzz-pseudonym-secret-0123456789");
    for name in KINDS {
        let kind = ImportKind::parse(name).expect("a known kind");
        let (mut rows, mut last) = (0u64, 0u64);
        let result = read_csv(kind, data, &pseudo, |line, outcome| {
            assert!(line > last, "rows in increasing line order");
            last = line;
            rows += 1;
            match outcome {
                RowOutcome::Accepted(events) => assert!(!events.is_empty()),
                RowOutcome::Rejected(r) => assert!(!r.errors.is_empty()),
            }
            true
        });
        if let Ok(n) = result {
            assert_eq!(n, rows, "the count matches the rows handed out");
        }
    }
});
