//! The data of the `voorschool.*` types: placements at a voorschool location.

use super::*;

/// The data of a `voorschool.*` type (`name` without `nl.schakel.` and `.v1`).
pub(super) fn data(name: &str, d: &Obj, f: &mut Fields<'_>) -> Option<Scoped> {
    match name {
        "voorschool.placement-started" | "voorschool.placement-ended" => {
            f.no_unknown(
                d,
                "data",
                &["child", "location", "vveIndication", "date", "mentor"],
            );
            let loc = f.object(d, "data", "location", true);
            let lrk = loc.and_then(|l| {
                f.no_unknown(l, "data.location", &["lrk"]);
                f.parsed(l, "data.location", "lrk", true, LrkNumber::parse)
            });
            let vve = f.boolean(d, "data", "vveIndication", true);
            let date = f.date(d, "data", "date", true);
            let mentor = f
                .parsed(d, "data", "mentor", false, ContactId::parse)
                .map(String::from);
            let lrk = lrk?;
            let scope = vec![("data.location.lrk".to_owned(), format!("lrk:{lrk}"))];
            let location = LocationRef { lrk: lrk.into() };
            let (vve_indication, date) = (vve?, date?);
            let data = if name.ends_with("started") {
                VoorschoolData::PlacementStarted {
                    location,
                    vve_indication,
                    date,
                    mentor,
                }
            } else {
                VoorschoolData::PlacementEnded {
                    location,
                    vve_indication,
                    date,
                    mentor,
                }
            };
            Some((scope, Body::Voorschool(data)))
        }
        _ => unknown_type(f),
    }
}
