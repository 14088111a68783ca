//! Test data: BSNs no other test uses, and the events tests post most.

use crate::privacy;

/// `n` valid BSNs (11-proef), different for every `seed`: each seed below 300 has its own
/// 300 007 numbers (room for 25 000 BSNs) from 900 000 000 up, below the fixtures' `99999…`
/// and far from the counters, offsets and sizes a log prints.
pub fn bsns(n: usize, seed: u32) -> Vec<String> {
    assert!(seed < 300 && n <= 25_000, "bsns: seed {seed}, n {n}");
    let mut out = Vec::new();
    let mut x: u64 = 900_000_000 + u64::from(seed) * 300_007;
    while out.len() < n {
        x += 1;
        let s = format!("{x:09}");
        if schakel_core::domain::ids::Bsn::parse(&s).is_ok() {
            out.push(s);
        }
    }
    privacy::register_numbers(&format!("bsns-{seed}-{n}"), &out);
    out
}

/// A jeugdhulp assignment event as a source system posts it.
pub fn assignment_event(id: &str, bsn: &str, birth: &str, nummer: &str) -> serde_json::Value {
    serde_json::json!({
        "specversion": "1.0",
        "id": id,
        "source": "urn:nld:gemeente:0392:systeem:jeugdhulp",
        "type": "nl.schakel.jeugdhulp.assignment-issued.v1",
        "time": "2026-01-02T09:00:00+01:00",
        "datacontenttype": "application/json",
        "data": {
            "child": {"bsn": bsn, "birthDate": birth, "residenceMunicipality": "0392",
                      "name": {"given": "Testvoornaam", "family": "Testachternaam"}},
            "toewijzingNummer": nummer,
            "product": {"categorie": "45", "code": "45A12"},
            "ingangsdatum": "2025-06-01",
            "toewijzingTijdstip": "2025-06-01T10:00:00+02:00",
            "gemeente": "0392"
        }
    })
}

/// The directory of the dashboard tests: Haarlem's leerplicht (exact for its residents), its
/// policy staff (aggregates only) and its youth team (no dashboard).
pub const DASHBOARD_DIRECTORY: &str = r#"
[[institution]]
id = "gemeente:0392"
name = "Gemeente Haarlem"

[[contact]]
id = "leerplicht-haarlem"
name = "Leerplicht Haarlem"
institution = "gemeente:0392"
roles = ["leerplicht"]
email = "lp@haarlem.example"

[[contact]]
id = "beleid-haarlem"
name = "Beleid Haarlem"
institution = "gemeente:0392"
roles = ["beleid"]
email = "beleid@haarlem.example"

[[contact]]
id = "jeugdteam-haarlem"
name = "Wijkteam Haarlem"
institution = "gemeente:0392"
roles = ["jeugdteam"]
email = "jt@haarlem.example"
"#;

/// Leerplicht's registration of a thuiszitter (child `i`, out of school since `since`).
pub fn thuiszitter_event(
    id: &str,
    i: usize,
    bsn: &str,
    residence: &str,
    since: &str,
) -> serde_json::Value {
    serde_json::json!({
        "specversion": "1.0", "id": id,
        "source": "urn:nld:gemeente:0392:systeem:leerplicht",
        "type": "nl.schakel.leerplicht.thuiszitter-registered.v1",
        "time": "2026-01-05T09:00:00+01:00", "datacontenttype": "application/json",
        "data": {"child": {"bsn": bsn, "birthDate": "2013-05-01", "residenceMunicipality": residence,
                           "name": {"given": "Testvoornaam", "family": format!("Testachternaam{i}")}},
                 "since": since}
    })
}

/// Haarlem's two desks of the 18−/18+ handoff, each with a webhook at `rx` signed with
/// `secret`: the jeugdteam (`jeugdteam-haarlem`) and the Wmo desk (`wmo-haarlem`, role
/// `volwassenen`).
pub fn handoff_desks(rx: &crate::receiver::Receiver, secret: &str) -> String {
    format!(
        r#"
[[institution]]
id = "gemeente:0392"
name = "Gemeente Haarlem"

[[contact]]
id = "jeugdteam-haarlem"
name = "Wijkteam Haarlem"
institution = "gemeente:0392"
roles = ["jeugdteam"]
webhook = {{ url = "{}", secret = "{secret}" }}

[[contact]]
id = "wmo-haarlem"
name = "Loket Wmo Haarlem"
institution = "gemeente:0392"
roles = ["volwassenen"]
webhook = {{ url = "{}", secret = "{secret}" }}
"#,
        rx.contact("jeugdteam-haarlem", secret),
        rx.contact("wmo-haarlem", secret)
    )
}
