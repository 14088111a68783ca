//! Each product of each client of a message as the CloudEvent `POST /v1/events` takes.

use super::*;

/// A date and time in the Netherlands' local time as an instant (RFC 3339, UTC).
fn local_stamp(date: &str, time: &str) -> Option<String> {
    let d: Date = date.parse().ok()?;
    let t: Time = time.parse().ok()?;
    let z = d
        .to_datetime(t)
        .to_zoned(TimeZone::get("Europe/Amsterdam").ok()?)
        .ok()?;
    Some(z.timestamp().to_string())
}

fn product_json(p: &El) -> Value {
    let mut m = Map::new();
    if let Some(c) = p.text_of("Categorie") {
        m.insert("categorie".into(), json!(c));
    }
    if let Some(c) = p.text_of("Code") {
        m.insert("code".into(), json!(c));
    }
    Value::Object(m)
}

fn insert_opt(m: &mut Map<String, Value>, key: &str, v: Option<&str>) {
    if let Some(v) = v {
        m.insert(key.into(), json!(v));
    }
}

/// Every product of every client, each as a CloudEvent for `POST /v1/events` (validated by
/// the caller) or the checks that failed while reading it.
pub fn products(msg: &Message) -> Vec<ProductRecord> {
    let header = msg.root.child("Header");
    let h = |n: &str| header.and_then(|h| h.text_of(n)).unwrap_or("");
    // the municipality: the sender of a toewijzing, the receiver of the provider's messages
    let gemeente = match msg.kind {
        Kind::Jw301 => h("Afzender"),
        _ => h("Ontvanger"),
    }
    .to_owned();
    let identificatie = h("Identificatie").to_owned();
    let dagtekening = h("Dagtekening").to_owned();
    let mut out = Vec::new();
    for (ci, client) in msg.root.all("Client").enumerate() {
        let mut child = Map::new();
        let mut client_checks = Vec::new();
        insert_opt(&mut child, "bsn", client.text_of("Bsn"));
        if let Some(g) = client.child("Geboortedatum") {
            insert_opt(&mut child, "birthDate", g.text_of("Datum"));
            match g.text_of("DatumGebruik") {
                None => {}
                Some("1") => {
                    child.insert("birthDatePrecision".into(), json!("month"));
                }
                Some("2") => {
                    child.insert("birthDatePrecision".into(), json!("year"));
                }
                Some("3") => client_checks.push(check(
                    "8002",
                    "Geboortedatum: DatumGebruik 3 (datum onbekend); Schakel needs at least the year",
                )),
                Some(other) => client_checks.push(check(
                    "8002",
                    format!("Geboortedatum.DatumGebruik {other:?} is not 1, 2 or 3"),
                )),
            }
        }
        if let Some(n) = client.child("Naam") {
            let family = [n.text_of("Voorvoegsel"), n.text_of("Achternaam")]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" ");
            let mut name = Map::new();
            insert_opt(&mut name, "given", n.text_of("Voornamen"));
            if !family.is_empty() {
                name.insert("family".into(), json!(family));
            }
            if !name.is_empty() {
                child.insert("name".into(), Value::Object(name));
            }
        }
        if !gemeente.is_empty() {
            child.insert("residenceMunicipality".into(), json!(gemeente));
        }
        for p in client.all(msg.kind.product_element()) {
            let nr = p.text_of("ToewijzingNummer").unwrap_or("");
            let referentie = match msg.kind {
                Kind::Jw315 => p.text_of("ReferentieAanbieder").unwrap_or(""),
                _ => nr,
            }
            .to_owned();
            let mut checks = client_checks.clone();
            let status = p.text_of("StatusAanlevering");
            let withdraw = match (msg.kind, status) {
                (_, None) if matches!(msg.kind, Kind::Jw301 | Kind::Jw315) => false,
                (_, Some("1")) => false,
                (Kind::Jw301 | Kind::Jw305 | Kind::Jw307, Some("3")) => true,
                (_, None) => {
                    checks.push(check("8009", "StatusAanlevering is required (1 or 3)"));
                    false
                }
                (_, Some(s)) => {
                    checks.push(check(
                        "8009",
                        format!(
                            "StatusAanlevering {s:?}: 1 (aanlevering) or 3 (verwijderen) expected"
                        ),
                    ));
                    false
                }
            };
            // administratieve correctie (vervallen): the toewijzing counts as never sent
            let withdraw =
                withdraw || (msg.kind == Kind::Jw301 && p.text_of("RedenWijziging") == Some("01"));
            let (ty, data, key) = match (msg.kind, withdraw) {
                (Kind::Jw301, false) => {
                    let mut d = Map::new();
                    insert_opt(&mut d, "toewijzingNummer", p.text_of("ToewijzingNummer"));
                    if let Some(pr) = p.child("Product") {
                        d.insert("product".into(), product_json(pr));
                    }
                    insert_opt(&mut d, "ingangsdatum", p.text_of("Ingangsdatum"));
                    insert_opt(&mut d, "einddatum", p.text_of("Einddatum"));
                    let (datum, tijd) = (
                        p.text_of("Toewijzingsdatum").unwrap_or(""),
                        p.text_of("Toewijzingstijd").unwrap_or(""),
                    );
                    match local_stamp(datum, tijd) {
                        Some(s) => {
                            d.insert("toewijzingTijdstip".into(), json!(s));
                        }
                        None => checks.push(check(
                            "8007",
                            "Toewijzingsdatum and Toewijzingstijd are required and must be a valid date (JJJJ-MM-DD) and time (UU:MM:SS)",
                        )),
                    }
                    d.insert("gemeente".into(), json!(gemeente));
                    (EventType::AssignmentIssued, d, format!("{datum}T{tijd}"))
                }
                (Kind::Jw301, true) => {
                    let mut d = Map::new();
                    insert_opt(&mut d, "toewijzingNummer", p.text_of("ToewijzingNummer"));
                    let date = p
                        .text_of("Toewijzingsdatum")
                        .or(Some(dagtekening.as_str()))
                        .filter(|s| !s.is_empty());
                    insert_opt(&mut d, "date", date);
                    (EventType::AssignmentWithdrawn, d, "withdrawn".to_owned())
                }
                (Kind::Jw305 | Kind::Jw307, true) => {
                    let mut d = Map::new();
                    insert_opt(&mut d, "toewijzingNummer", p.text_of("ToewijzingNummer"));
                    d.insert(
                        "record".into(),
                        json!(if msg.kind == Kind::Jw305 {
                            "start"
                        } else {
                            "stop"
                        }),
                    );
                    insert_opt(&mut d, "begindatum", p.text_of("Begindatum"));
                    (EventType::CareWithdrawn, d, "withdrawn".to_owned())
                }
                (Kind::Jw305, false) => {
                    let mut d = Map::new();
                    insert_opt(&mut d, "toewijzingNummer", p.text_of("ToewijzingNummer"));
                    insert_opt(&mut d, "begindatum", p.text_of("Begindatum"));
                    (EventType::CareStarted, d, "1".to_owned())
                }
                (Kind::Jw307, false) => {
                    let mut d = Map::new();
                    insert_opt(&mut d, "toewijzingNummer", p.text_of("ToewijzingNummer"));
                    insert_opt(&mut d, "begindatum", p.text_of("Begindatum"));
                    insert_opt(&mut d, "einddatum", p.text_of("Einddatum"));
                    insert_opt(&mut d, "redenBeeindiging", p.text_of("RedenBeeindiging"));
                    (EventType::CareStopped, d, "1".to_owned())
                }
                (Kind::Jw315, _) => {
                    let mut d = Map::new();
                    insert_opt(
                        &mut d,
                        "referentieAanbieder",
                        p.text_of("ReferentieAanbieder"),
                    );
                    if let Some(pr) = p.child("Product") {
                        d.insert("product".into(), product_json(pr));
                    }
                    insert_opt(&mut d, "ingangsdatum", p.text_of("ToewijzingIngangsdatum"));
                    insert_opt(&mut d, "einddatum", p.text_of("ToewijzingEinddatum"));
                    d.insert("gemeente".into(), json!(gemeente));
                    (EventType::AssignmentRequested, d, "1".to_owned())
                }
            };
            if !checks.is_empty() {
                out.push(ProductRecord {
                    client: ci + 1,
                    referentie,
                    event: Err(checks),
                });
                continue;
            }
            let mut data = data;
            data.insert("child".into(), Value::Object(child.clone()));
            // the same message sent again gets the same ids (deduplicated downstream); a
            // new message that re-delivers a record gets new ones
            let id = format!(
                "ijw:{}:{}:{}:{}:{}",
                msg.kind.code(),
                gemeente,
                identificatie,
                referentie,
                key
            );
            out.push(ProductRecord {
                client: ci + 1,
                referentie,
                event: Ok(crate::validate::envelope(
                    ty,
                    id,
                    format!("urn:nld:gemeente:{gemeente}:systeem:ijw"),
                    Value::Object(data),
                )),
            });
        }
    }
    out
}
