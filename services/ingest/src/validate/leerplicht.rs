//! The data of the `leerplicht.*` types: verzuim meldingen, vrijstellingen and thuiszitters
//! (the leerplicht administration publishes them).

use super::*;
use schakel_core::domain::catalogue::EventType;

const VRIJSTELLINGEN: &[&str] = &["5-onder-a", "5-onder-b", "5-onder-c", "art-15", "art-3a"];
const OFFERS: &[&str] = &["onderwijs", "zorg", "combinatie", "dagbesteding"];

/// The data of a `leerplicht.*` type.
pub(super) fn data(ty: EventType, d: &Obj, f: &mut Fields<'_>) -> Option<Scoped> {
    match ty {
        EventType::VerzuimReported => {
            let school = school_ref(d, "school", true, f);
            let nr = f.parsed(d, "data", "meldingsnummer", true, slug(32));
            let kind = f.one_of(d, "data", "kind", schakel_core::domain::verzuim::KINDS);
            let first = f.date(d, "data", "firstAbsenceDate", true);
            Some((
                Vec::new(),
                Body::Leerplicht(LeerplichtData::VerzuimReported {
                    school: school?,
                    meldingsnummer: nr?,
                    kind: kind?,
                    first_absence_date: first?,
                }),
            ))
        }
        EventType::VerzuimStatusChanged => {
            let nr = f.parsed(d, "data", "meldingsnummer", true, slug(32));
            let status = f.one_of(d, "data", "status", schakel_core::domain::verzuim::STATUSES);
            Some((
                Vec::new(),
                Body::Leerplicht(LeerplichtData::VerzuimStatusChanged {
                    meldingsnummer: nr?,
                    status: status?,
                }),
            ))
        }
        EventType::VrijstellingGranted | EventType::VrijstellingEnded => {
            let kind = f.one_of(d, "data", "kind", VRIJSTELLINGEN);
            let from = f.date(d, "data", "from", true);
            let until = f.date(d, "data", "until", false);
            f.not_before(from, until, "data", "until", "from");
            let (kind, from) = (kind?, from?);
            let data = if ty == EventType::VrijstellingGranted {
                LeerplichtData::VrijstellingGranted { kind, from, until }
            } else {
                LeerplichtData::VrijstellingEnded { kind, from, until }
            };
            Some((Vec::new(), Body::Leerplicht(data)))
        }
        EventType::ThuiszitterRegistered => {
            let since = f.date(d, "data", "since", true);
            let school = school_ref(d, "school", false, f);
            Some((
                Vec::new(),
                Body::Leerplicht(LeerplichtData::ThuiszitterRegistered {
                    since: since?,
                    school,
                }),
            ))
        }
        EventType::ThuiszitterResolved => {
            let date = f.date(d, "data", "date", true);
            let offer = f.one_of(d, "data", "offer", OFFERS);
            Some((
                Vec::new(),
                Body::Leerplicht(LeerplichtData::ThuiszitterResolved {
                    date: date?,
                    offer: offer?,
                }),
            ))
        }
        _ => unknown_type(f),
    }
}
