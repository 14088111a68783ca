//! The CSV reader on our own fixture exports (tests/fixtures/csv): every kind, Dutch Excel
//! (BOM, `;`, DD-MM-YYYY, CRLF), and broken rows reported by line with their columns.

use std::collections::BTreeMap;

use schakel_core::domain::ids::Pseudonymizer;
use schakel_ingest::csvimport::{read_csv, ImportKind, RowOutcome};

/// line → Ok(event types) or Err(columns with a problem)
type Lines = BTreeMap<u64, Result<Vec<String>, Vec<String>>>;

fn read_bytes(kind: &str, bytes: &[u8]) -> Result<Lines, Vec<String>> {
    read_from(kind, bytes)
}

fn read_from(kind: &str, input: impl std::io::Read) -> Result<Lines, Vec<String>> {
    let pseudo = Pseudonymizer::new(b"test-secret-0123456789");
    let mut out = BTreeMap::new();
    read_csv(
        ImportKind::parse(kind).unwrap(),
        input,
        &pseudo,
        |line, o| {
            let v = match o {
                RowOutcome::Accepted(a) => Ok(a
                    .iter()
                    .map(|a| {
                        format!("{:?}", a.typed)
                            .split('(')
                            .next()
                            .unwrap()
                            .to_owned()
                    })
                    .collect()),
                RowOutcome::Rejected(r) => Err(r.errors.iter().map(|e| e.column.clone()).collect()),
            };
            out.insert(line, v);
            true
        },
    )
    .map_err(|e| {
        e.iter()
            .map(|e| format!("{}: {}", e.field, e.message))
            .collect::<Vec<_>>()
    })?;
    Ok(out)
}

fn read(kind: &str, file: &str) -> Lines {
    let path = format!(
        "{}/../../tests/fixtures/csv/{file}",
        env!("CARGO_MANIFEST_DIR")
    );
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    read_bytes(kind, &bytes).expect("a readable file")
}

#[test]
fn a_las_export_from_dutch_excel() {
    let lines = read("enrolments", "enrolments-excel.csv");
    assert_eq!(lines.len(), 6);
    assert_eq!(lines[&2], Ok(vec!["School".to_owned()]));
    assert_eq!(lines[&3], Err(vec!["bsn".to_owned()]), "elfproef");
    assert_eq!(
        lines[&4],
        Err(vec!["geboortedatum".to_owned()]),
        "31 February"
    );
    assert_eq!(lines[&5], Err(vec![String::new()]), "wrong column count");
    assert_eq!(lines[&6], Err(vec!["groep".to_owned()]), "groep 9");
    assert_eq!(
        lines[&7],
        Ok(vec!["School".to_owned(), "School".to_owned()]),
        "registered and ended"
    );
}

#[test]
fn placements_verzuim_vrijstellingen_thuiszitters() {
    let p = read("placements", "placements.csv");
    assert!(p[&2].is_ok());
    assert_eq!(p[&3], Err(vec!["vve_indicatie".to_owned()]));
    let v = read("verzuim", "verzuim.csv");
    assert_eq!(v[&2].as_ref().unwrap().len(), 2, "melding and its status");
    assert_eq!(v[&3], Err(vec!["soort".to_owned()]));
    let vr = read("vrijstellingen", "vrijstellingen.csv");
    assert!(vr[&2].is_ok());
    assert_eq!(vr[&3], Err(vec!["tot".to_owned()]), "until before from");
    let t = read("thuiszitters", "thuiszitters.csv");
    assert_eq!(t[&2].as_ref().unwrap().len(), 1);
    assert_eq!(t[&3].as_ref().unwrap().len(), 2, "registered and resolved");
}

#[test]
fn the_header_is_checked_before_any_row() {
    let e = read_bytes(
        "enrolments",
        b"leerlingnummer,bsn,kleur\n1,999990007,rood\n",
    )
    .unwrap_err();
    let text = e.join("\n");
    for missing in [
        "geboortedatum",
        "brin",
        "vestiging",
        "sector",
        "groep",
        "startdatum",
    ] {
        assert!(text.contains(missing), "{missing} missing: {text}");
    }
    assert!(text.contains("kleur: unknown column"), "{text}");
    assert!(read_bytes("enrolments", b"").unwrap_err()[0].contains("empty"));
}

/// Hands out its bytes one at a time, as a slow request body may.
struct Trickle<'a>(&'a [u8]);

impl std::io::Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match (self.0.split_first(), buf.first_mut()) {
            (Some((b, rest)), Some(slot)) => {
                *slot = *b;
                self.0 = rest;
                Ok(1)
            }
            _ => Ok(0),
        }
    }
}

#[test]
fn crlf_lf_and_a_lone_cr_each_end_one_line_however_the_bytes_arrive() {
    // found by the CSV fuzz target: a lone CR ended a row without ending a line, so two rows
    // shared a line number (and a resumed import skips rows by line number)
    let csv = b"bsn;geboortedatum;lrk;vve_indicatie;startdatum\r\n\
999990056;2022-04-01;123456789;ja;2024-09-01\r\
999990068;2022-05-01;123456789;ja;2024-09-01\n\
\r\n\
999990056;2022-04-01;123456789;nee;2024-09-01\r\n";
    let whole = read_bytes("placements", csv).unwrap();
    assert_eq!(
        whole.keys().copied().collect::<Vec<_>>(),
        [2, 3, 5],
        "{whole:?}"
    );
    assert!(whole.values().all(Result::is_ok), "{whole:?}");
    assert_eq!(read_from("placements", Trickle(csv)).unwrap(), whole);
}

#[test]
fn comma_separated_iso_dates_and_windows_1252_names() {
    let mut csv = b"bsn,geboortedatum,lrk,vve_indicatie,startdatum,voornamen\n999990056,2022-04-01,123456789,nee,2024-09-01,Ren".to_vec();
    csv.push(0xe9); // é in Windows-1252
    csv.extend_from_slice(b"e\n");
    let lines = read_bytes("placements", &csv).unwrap();
    assert!(lines[&2].is_ok(), "{lines:?}");
}

#[test]
fn the_same_row_gets_the_same_event_id_and_no_bsn_in_it() {
    let pseudo = Pseudonymizer::new(b"test-secret-0123456789");
    let csv = b"bsn;geboortedatum;sinds;gemeente\n999991917;2011-02-02;2025-09-01;0392\n";
    let ids = || {
        let mut ids = Vec::new();
        read_csv(ImportKind::Thuiszitters, &csv[..], &pseudo, |_, o| {
            if let RowOutcome::Accepted(a) = o {
                for e in a {
                    if let schakel_ingest::validate::Typed::Leerplicht(ev) = e.typed {
                        ids.push(ev.id);
                    }
                }
            }
            true
        })
        .unwrap();
        ids
    };
    let (a, b) = (ids(), ids());
    assert_eq!(a, b);
    assert!(!a[0].contains("999991917"));
}

#[test]
fn arbitrary_bytes_never_panic() {
    let mut seed = 7u64;
    for n in 0..300 {
        let len = (n * 13) % 400;
        let bytes: Vec<u8> = (0..len)
            .map(|_| {
                seed = seed
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let b = (seed >> 33) as u8;
                // bias towards separators, quotes and newlines
                match b % 7 {
                    0 => b';',
                    1 => b'\n',
                    2 => b'"',
                    _ => b,
                }
            })
            .collect();
        let mut with_header = b"bsn;geboortedatum;sinds;gemeente\n".to_vec();
        with_header.extend_from_slice(&bytes);
        let _ = read_bytes("thuiszitters", &with_header);
        let _ = read_bytes("enrolments", &bytes);
    }
}
