//! The data of the `jeugdhulp.*` types: assignments and care (the toegang's system publishes
//! them, also as iJw messages).

use super::*;
use schakel_core::domain::catalogue::EventType;

/// The data of a `jeugdhulp.*` type.
pub(super) fn data(ty: EventType, d: &Obj, f: &mut Fields<'_>) -> Option<Scoped> {
    match ty {
        EventType::AssignmentIssued => jeugdhulp_assignment(d, f),
        EventType::AssignmentWithdrawn => {
            let nr = f.parsed(d, "data", "toewijzingNummer", true, slug(20));
            let date = f.date(d, "data", "date", true);
            Some((
                Vec::new(),
                Body::Jeugdhulp(JeugdhulpData::AssignmentWithdrawn {
                    toewijzing_nummer: nr?,
                    date: date?,
                }),
            ))
        }
        EventType::CareStarted => {
            let nr = f.parsed(d, "data", "toewijzingNummer", true, slug(20));
            let begin = f.date(d, "data", "begindatum", true);
            Some((
                Vec::new(),
                Body::Jeugdhulp(JeugdhulpData::CareStarted {
                    toewijzing_nummer: nr?,
                    begindatum: begin?,
                }),
            ))
        }
        EventType::CareStopped => {
            let nr = f.parsed(d, "data", "toewijzingNummer", true, slug(20));
            let begin = f.date(d, "data", "begindatum", true);
            let end = f.date(d, "data", "einddatum", true);
            f.not_before(begin, end, "data", "einddatum", "begindatum");
            let reden = f.parsed(d, "data", "redenBeeindiging", false, slug(8));
            Some((
                Vec::new(),
                Body::Jeugdhulp(JeugdhulpData::CareStopped {
                    toewijzing_nummer: nr?,
                    begindatum: begin?,
                    einddatum: end?,
                    reden_beeindiging: reden,
                }),
            ))
        }
        EventType::CareWithdrawn => {
            let nr = f.parsed(d, "data", "toewijzingNummer", true, slug(20));
            let record = f.one_of(d, "data", "record", &["start", "stop"]);
            let begin = f.date(d, "data", "begindatum", true);
            Some((
                Vec::new(),
                Body::Jeugdhulp(JeugdhulpData::CareWithdrawn {
                    toewijzing_nummer: nr?,
                    record: record?,
                    begindatum: begin?,
                }),
            ))
        }
        EventType::AssignmentRequested => {
            let reference = f.parsed(d, "data", "referentieAanbieder", true, slug(40));
            let product = product(d, f);
            let start = f.date(d, "data", "ingangsdatum", false);
            let end = f.date(d, "data", "einddatum", false);
            f.not_before(start, end, "data", "einddatum", "ingangsdatum");
            let gemeente: String = f
                .parsed(d, "data", "gemeente", true, Gemeentecode::parse)?
                .into();
            let scope = vec![("data.gemeente".to_owned(), format!("gemeente:{gemeente}"))];
            Some((
                scope,
                Body::Jeugdhulp(JeugdhulpData::AssignmentRequested {
                    referentie_aanbieder: reference?,
                    product: product?,
                    ingangsdatum: start,
                    einddatum: end,
                    gemeente,
                }),
            ))
        }
        _ => unknown_type(f),
    }
}

/// `data.product`: an iJw productcategorie and optional productcode.
fn product(d: &Obj, f: &mut Fields<'_>) -> Option<Product> {
    f.object(d, "data", "product", true).and_then(|p| {
        let cat = f.parsed(p, "data.product", "categorie", true, |s: &str| {
            if s.len() == 2 && s.bytes().all(|b| b.is_ascii_digit()) {
                Ok(s.to_owned())
            } else {
                Err("must be a 2-digit iJw productcategorie")
            }
        });
        let code = f.parsed(p, "data.product", "code", false, |s: &str| {
            if (1..=5).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric()) {
                Ok(s.to_owned())
            } else {
                Err("must be an iJw productcode of 1 to 5 letters or digits")
            }
        });
        f.done(p, "data.product");
        Some(Product {
            categorie: cat?,
            code,
        })
    })
}

fn jeugdhulp_assignment(d: &Obj, f: &mut Fields<'_>) -> Option<Scoped> {
    let nr = f.parsed(d, "data", "toewijzingNummer", true, slug(20));
    let product = product(d, f);
    let start = f.date(d, "data", "ingangsdatum", true);
    let end = f.date(d, "data", "einddatum", false);
    f.not_before(start, end, "data", "einddatum", "ingangsdatum");
    let stamp = f.timestamp(d, "data", "toewijzingTijdstip");
    let verlengd = f.boolean(d, "data", "verlengdeJeugdhulp", false);
    let gemeente = f.parsed(d, "data", "gemeente", true, Gemeentecode::parse);
    let gemeente: String = gemeente?.into();
    let scope = vec![("data.gemeente".to_owned(), format!("gemeente:{gemeente}"))];
    let start: Date = start?;
    Some((
        scope,
        Body::Jeugdhulp(JeugdhulpData::AssignmentIssued {
            toewijzing_nummer: nr?,
            product: product?,
            ingangsdatum: start,
            einddatum: end,
            toewijzing_tijdstip: stamp?,
            verlengde_jeugdhulp: verlengd,
            gemeente,
        }),
    ))
}
