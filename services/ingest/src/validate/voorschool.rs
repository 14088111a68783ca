//! The data of the `voorschool.*` types: placements at a voorschool location.

use super::*;
use schakel_core::domain::catalogue::EventType;

/// The data of a `voorschool.*` type.
pub(super) fn data(ty: EventType, d: &Obj, f: &mut Fields<'_>) -> Option<Scoped> {
    match ty {
        EventType::PlacementStarted | EventType::PlacementEnded => {
            let loc = f.object(d, "data", "location", true);
            let lrk = loc.and_then(|l| {
                let lrk = f.parsed(l, "data.location", "lrk", true, LrkNumber::parse);
                f.done(l, "data.location");
                lrk
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
            let started = ty == EventType::PlacementStarted;
            let data = VoorschoolData::placement(started, location, vve_indication, date, mentor);
            Some((scope, Body::Voorschool(data)))
        }
        _ => unknown_type(f),
    }
}
