//! The iJw reader on our own fixture messages (tests/fixtures/ijw): every message type, both
//! releases, corrections, unknown date parts and broken input.

use schakel_core::domain::ids::Pseudonymizer;
use schakel_ingest::ijw::{self, Kind};
use schakel_ingest::validate;
use serde_json::Value;

fn fixture(name: &str) -> String {
    let path = format!(
        "{}/../../tests/fixtures/ijw/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Per product: its referentie, and its event or the codes of the checks it failed.
type Products = Vec<(String, Result<Value, Vec<String>>)>;

fn read(name: &str) -> (Kind, String, Products) {
    let msg = ijw::read_message(&fixture(name)).expect("a readable message");
    let pseudo = Pseudonymizer::new(b"test-secret-0123456789");
    let out = ijw::products(&msg)
        .into_iter()
        .map(|p| {
            let r = match p.event {
                Err(checks) => Err(checks.iter().map(|c| c.code.to_owned()).collect()),
                Ok(ev) => match validate::validate_batch(std::slice::from_ref(&ev), &pseudo) {
                    Ok(_) => Ok(ev),
                    Err(errs) => Err(errs
                        .iter()
                        .map(|e| ijw::check_for(e).code.to_owned())
                        .collect()),
                },
            };
            (p.referentie, r)
        })
        .collect();
    (msg.kind, msg.version, out)
}

fn ty(ev: &Value) -> &str {
    ev["type"].as_str().unwrap()
}

#[test]
fn jw301_becomes_an_assignment_with_the_local_stamp_and_the_identity() {
    let (kind, version, products) = read("jw301-toewijzing.xml");
    assert_eq!((kind, version.as_str()), (Kind::Jw301, "3.2"));
    assert_eq!(products.len(), 1);
    let ev = products[0].1.as_ref().expect("accepted");
    assert_eq!(ty(ev), "nl.schakel.jeugdhulp.assignment-issued.v1");
    let d = &ev["data"];
    assert_eq!(d["toewijzingNummer"], "11000001");
    assert_eq!(d["product"]["categorie"], "45");
    assert_eq!(d["gemeente"], "0392");
    // 10:00 in Amsterdam in June is 08:00 UTC
    assert_eq!(d["toewijzingTijdstip"], "2025-06-01T08:00:00Z");
    assert_eq!(d["child"]["bsn"], "999993653");
    assert_eq!(d["child"]["name"]["family"], "van Fixtureachternaam");
    assert_eq!(d["child"]["residenceMunicipality"], "0392");
    assert_eq!(ev["source"], "urn:nld:gemeente:0392:systeem:ijw");
}

#[test]
fn each_product_gets_its_own_result() {
    let (_, _, products) = read("jw301-two-products-one-bad.xml");
    assert_eq!(products.len(), 2);
    let good = products[0].1.as_ref().expect("product 1 accepted");
    assert_eq!(good["data"]["child"]["birthDatePrecision"], "month");
    let bad = products[1].1.as_ref().expect_err("product 2 refused");
    assert!(bad.contains(&"8004".to_owned()), "bad category: {bad:?}");
    assert!(
        bad.contains(&"8006".to_owned()),
        "end before start: {bad:?}"
    );
}

#[test]
fn a_correction_withdraws_and_reissues() {
    let (_, _, products) = read("jw301-correction.xml");
    let types: Vec<&str> = products
        .iter()
        .map(|(_, r)| ty(r.as_ref().unwrap()))
        .collect();
    assert_eq!(
        types,
        [
            "nl.schakel.jeugdhulp.assignment-withdrawn.v1",
            "nl.schakel.jeugdhulp.assignment-issued.v1"
        ]
    );
    let withdrawn = products[0].1.as_ref().unwrap();
    assert_eq!(withdrawn["data"]["toewijzingNummer"], "11000001");
    assert_eq!(withdrawn["data"]["date"], "2025-06-01");
}

#[test]
fn release_30_and_unknown_date_parts() {
    let (kind, version, products) = read("jw301-v30.xml");
    assert_eq!((kind, version.as_str()), (Kind::Jw301, "3.0"));
    let ev = products[0].1.as_ref().unwrap();
    assert_eq!(ev["data"]["child"]["birthDatePrecision"], "year");
    let (_, _, unknown) = read("jw301-unknown-birthdate.xml");
    assert_eq!(unknown[0].1.as_ref().unwrap_err(), &["8002"]);
    let (_, _, bad_bsn) = read("jw301-bad-bsn.xml");
    assert_eq!(bad_bsn[0].1.as_ref().unwrap_err(), &["8001"]);
}

#[test]
fn start_and_stop_with_their_withdrawals() {
    let expect = [
        ("jw305-start.xml", "care-started"),
        ("jw305-withdraw.xml", "care-withdrawn"),
        ("jw307-stop.xml", "care-stopped"),
        ("jw307-withdraw.xml", "care-withdrawn"),
    ];
    for (file, want) in expect {
        let (_, _, products) = read(file);
        let ev = products[0]
            .1
            .as_ref()
            .unwrap_or_else(|e| panic!("{file}: {e:?}"));
        assert_eq!(ty(ev), format!("nl.schakel.jeugdhulp.{want}.v1"), "{file}");
        assert_eq!(ev["data"]["toewijzingNummer"], "11000004");
        // the provider's messages name the municipality as receiver
        assert_eq!(ev["source"], "urn:nld:gemeente:0392:systeem:ijw");
    }
    let (_, _, w) = read("jw307-withdraw.xml");
    assert_eq!(w[0].1.as_ref().unwrap()["data"]["record"], "stop");
    let (_, _, s) = read("jw307-stop.xml");
    assert_eq!(s[0].1.as_ref().unwrap()["data"]["einddatum"], "2026-02-28");
}

#[test]
fn a_request_for_an_assignment() {
    let (kind, _, products) = read("jw315-verzoek.xml");
    assert_eq!(kind, Kind::Jw315);
    let ev = products[0].1.as_ref().unwrap();
    assert_eq!(ty(ev), "nl.schakel.jeugdhulp.assignment-requested.v1");
    assert_eq!(products[0].0, "REF-2026-9");
    assert_eq!(ev["data"]["ingangsdatum"], "2026-02-01");
}

#[test]
fn the_same_message_twice_gives_the_same_ids_and_another_message_new_ones() {
    let ids = |name: &str| -> Vec<String> {
        let msg = ijw::read_message(&fixture(name)).unwrap();
        ijw::products(&msg)
            .into_iter()
            .map(|p| p.event.unwrap()["id"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(ids("jw307-stop.xml"), ids("jw307-stop.xml"));
    assert_ne!(ids("jw307-stop.xml"), ids("jw307-withdraw.xml"));
}

#[test]
fn broken_and_unknown_messages_are_refused_with_a_reason() {
    let e = ijw::read_message(&fixture("broken.xml")).unwrap_err();
    assert!(e.contains("XML"), "{e}");
    let e = ijw::read_message(&fixture("jw399-unknown.xml")).unwrap_err();
    assert!(e.contains("jw399"), "{e}");
    assert!(ijw::read_message("").is_err());
    assert!(ijw::read_message("<a xmlns='urn:x'/>").is_err());
    let deep = format!("{}{}", "<a>".repeat(100), "</a>".repeat(100));
    assert!(ijw::parse_tree(&deep).unwrap_err().contains("deeper"));
}
