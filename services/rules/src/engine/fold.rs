//! How a source fact changes what the engine knows of a child: a new fact is registered
//! (duplicates ignored, the child woken on the next tick), then folded into the child's facts
//! by source (school, voorschool, leerplicht, jeugdhulp).

use jiff::civil::Date;
use jiff::Timestamp;
use schakel_core::domain::events::{
    ChildRef, JeugdhulpData, LeerplichtData, SchoolData, VoorschoolData,
};
use schakel_core::domain::verzuim;

use super::{date_of, key_of, Engine, Refusal};
use crate::state::{
    fnv64, gemeente, Assignment, ChildState, Fact, FactId, MeldingStatus, School, Sector,
};

impl Engine {
    /// The child's state for a new fact (woken on the next tick), or None for a duplicate.
    pub(super) fn fact(
        &mut self,
        child: &ChildRef,
        source: &str,
        id: &str,
        time: Timestamp,
    ) -> Option<&mut ChildState> {
        let key = key_of(&child.child_key);
        let h = fnv64(&[source.as_bytes(), id.as_bytes()]);
        let next_tick = self
            .last_tick
            .map_or(Date::MIN, |d| d.tomorrow().unwrap_or(d));
        let (slot, state) = self
            .children
            .get_or_insert_with(key, || ChildState::new(child));
        if state.seen.contains(&h) {
            return None;
        }
        state.seen.push(h);
        state.update_child(child, date_of(time));
        if state.wakeup.is_none_or(|w| w > next_tick) {
            state.wakeup = Some(next_tick);
            self.timers.entry(next_tick).or_default().push(slot);
        }
        Some(state)
    }
}

pub(super) fn fold_school(state: &mut ChildState, data: &SchoolData, id: &str) {
    let id: FactId = id.into();
    match data {
        SchoolData::EnrolmentRegistered {
            school,
            sector,
            grade,
            start_date,
        } => {
            let school = School::from_ref(school);
            let sector = Sector::parse(sector);
            let grade = u8::try_from(*grade).unwrap_or(0);
            // the same enrolment again (a correction), or the registration of an enrolment
            // whose end arrived first
            let existing = state.facts.iter_mut().find(|f| {
                matches!(f, Fact::Enrolment { school: s, end, grade: g, start, .. }
                    if *s == school && (end.is_none() && *start == *start_date || *g == 0))
            });
            match existing {
                Some(Fact::Enrolment {
                    sector: s,
                    grade: g,
                    start,
                    id: i,
                    ..
                }) => {
                    (*s, *g, *start, *i) = (sector, grade, *start_date, id);
                }
                _ => state.facts.push(Fact::Enrolment {
                    school,
                    sector,
                    grade,
                    start: *start_date,
                    end: None,
                    startkwalificatie: false,
                    id,
                }),
            }
        }
        SchoolData::EnrolmentEnded {
            school,
            end_date,
            startkwalificatie,
            ..
        } => {
            let school = School::from_ref(school);
            let open = state.facts.iter_mut().rev().find(|f| {
                matches!(f, Fact::Enrolment { school: s, end: None, start, .. }
                    if s.same_school(&school) && *start <= *end_date)
            });
            match open {
                Some(Fact::Enrolment {
                    end,
                    startkwalificatie: q,
                    ..
                }) => {
                    *end = Some(*end_date);
                    *q = startkwalificatie.unwrap_or(false);
                }
                _ => state.facts.push(Fact::Enrolment {
                    school,
                    sector: Sector::Secondary,
                    grade: 0,
                    start: *end_date,
                    end: Some(*end_date),
                    startkwalificatie: startkwalificatie.unwrap_or(false),
                    id,
                }),
            }
        }
        SchoolData::ApplicationRegistered { school, date } => state.facts.push(Fact::Application {
            school: School::from_ref(school),
            date: *date,
            id,
        }),
        SchoolData::AdmissionDecided {
            school,
            date,
            decision,
        } => state.facts.push(Fact::Admission {
            school: School::from_ref(school),
            date: *date,
            accepted: decision == "toegelaten",
            id,
        }),
        SchoolData::AdviceGiven { .. } => {}
        SchoolData::SupportStarted {
            school,
            support,
            date,
        } => state.facts.push(Fact::Support {
            school: School::from_ref(school),
            kind: support.as_str().into(),
            start: *date,
            end: None,
            id,
        }),
        SchoolData::SupportEnded {
            school,
            support,
            date,
        } => {
            let school = School::from_ref(school);
            if let Some(Fact::Support { end, .. }) = state.facts.iter_mut().find(|f| {
                matches!(f, Fact::Support { school: s, kind, end: None, .. }
                    if s.same_school(&school) && **kind == **support)
            }) {
                *end = Some(*date);
            }
        }
    }
}

pub(super) fn fold_voorschool(state: &mut ChildState, data: &VoorschoolData, id: &str) {
    match data {
        VoorschoolData::PlacementStarted {
            location,
            vve_indication,
            date,
            ..
        } => state.facts.push(Fact::Placement {
            lrk: location.lrk.parse().unwrap_or(0),
            vve: *vve_indication,
            start: *date,
            end: None,
            id: id.into(),
        }),
        VoorschoolData::PlacementEnded { location, date, .. } => {
            let lrk: u32 = location.lrk.parse().unwrap_or(0);
            if let Some(Fact::Placement { end, .. }) = state
                .facts
                .iter_mut()
                .find(|f| matches!(f, Fact::Placement { lrk: l, end: None, .. } if *l == lrk))
            {
                *end = Some(*date);
            }
        }
    }
}

pub(super) fn fold_leerplicht(
    state: &mut ChildState,
    data: &LeerplichtData,
    id: &str,
    at: Date,
) -> Result<(), Refusal> {
    let id: FactId = id.into();
    let melding = |facts: &[Fact], nr: &str| {
        facts
            .iter()
            .position(|f| matches!(f, Fact::Verzuim { nummer, .. } if **nummer == *nr))
    };
    match data {
        LeerplichtData::VerzuimReported {
            school,
            meldingsnummer,
            kind,
            first_absence_date,
        } => {
            let fact = |status, stage, id| Fact::Verzuim {
                school: School::from_ref(school),
                nummer: meldingsnummer.as_str().into(),
                lrv: kind == "lrv",
                first_absence: *first_absence_date,
                status,
                stage,
                id,
            };
            // a melding reported again (a re-delivery or a correction) keeps its status and
            // its first id (signal ids derive from it)
            match melding(&state.facts, meldingsnummer) {
                Some(i) => {
                    if let Fact::Verzuim {
                        status, stage, id, ..
                    } = &state.facts[i]
                    {
                        state.facts[i] = fact(*status, *stage, id.clone());
                    }
                }
                None => state.facts.push(fact(
                    MeldingStatus::Open,
                    verzuim::Status::Geregistreerd,
                    id,
                )),
            }
        }
        LeerplichtData::VerzuimStatusChanged {
            meldingsnummer,
            status,
        } => {
            let to = verzuim::Status::parse(status)
                .ok_or_else(|| Refusal(format!("unknown verzuim status {status:?}")))?;
            let i = melding(&state.facts, meldingsnummer);
            let from = i.and_then(|i| match &state.facts[i] {
                Fact::Verzuim { stage, .. } => Some(*stage),
                _ => None,
            });
            verzuim::check(from, to).map_err(|e| Refusal(e.0))?;
            if let Some(Fact::Verzuim { status, stage, .. }) = i.map(|i| &mut state.facts[i]) {
                if *stage != to {
                    *stage = to;
                    *status = match to {
                        verzuim::Status::Afgesloten => MeldingStatus::Closed(at),
                        verzuim::Status::Ingetrokken => MeldingStatus::Withdrawn,
                        _ => MeldingStatus::Open,
                    };
                }
            }
        }
        LeerplichtData::VrijstellingGranted { kind, from, until } => {
            state.facts.push(Fact::Vrijstelling {
                kind: kind.as_str().into(),
                from: *from,
                until: *until,
                id,
            })
        }
        LeerplichtData::VrijstellingEnded { kind, from, until } => {
            if let Some(Fact::Vrijstelling { until: u, .. }) = state.facts.iter_mut().find(
                |f| matches!(f, Fact::Vrijstelling { kind: k, from: fr, .. } if **k == **kind && fr == from),
            ) {
                *u = Some(until.unwrap_or(at));
            }
        }
        LeerplichtData::ThuiszitterRegistered { since, school } => {
            state.facts.push(Fact::Thuiszitter {
                since: *since,
                school: school.as_ref().map(School::from_ref),
                id,
            })
        }
        LeerplichtData::ThuiszitterResolved { date, .. } => {
            state.facts.push(Fact::PassendAanbod { date: *date, id })
        }
    }
    Ok(())
}

pub(super) fn fold_jeugdhulp(state: &mut ChildState, data: &JeugdhulpData, event_id: &str) {
    match data {
        JeugdhulpData::AssignmentIssued {
            toewijzing_nummer,
            ingangsdatum,
            einddatum,
            toewijzing_tijdstip,
            verlengde_jeugdhulp,
            gemeente: g,
            ..
        } => {
            let new = Assignment {
                nummer: toewijzing_nummer.as_str().into(),
                ingang: *ingangsdatum,
                eind: *einddatum,
                stamp: toewijzing_tijdstip.as_millisecond(),
                verlengd: verlengde_jeugdhulp.unwrap_or(false),
                gemeente: gemeente(g).unwrap_or(0),
                withdrawn: false,
                stopped: None,
                id: event_id.into(),
            };
            let existing = state.assignments_mut().find(|a| a.nummer == new.nummer);
            match existing {
                // iJw: the version with the latest toewijzing stamp is the current one
                Some(old) if old.stamp <= new.stamp => {
                    let stopped = old.stopped;
                    *old = Assignment { stopped, ..new };
                }
                Some(_) => {}
                None => state.facts.push(Fact::Assignment(Box::new(new))),
            }
        }
        JeugdhulpData::AssignmentWithdrawn {
            toewijzing_nummer, ..
        } => {
            if let Some(a) = state
                .assignments_mut()
                .find(|a| *a.nummer == **toewijzing_nummer)
            {
                a.withdrawn = true;
            }
        }
        JeugdhulpData::CareStarted { .. } | JeugdhulpData::AssignmentRequested { .. } => {}
        // iJw StatusAanlevering 3 on a stop record: the care did not stop
        JeugdhulpData::CareWithdrawn {
            toewijzing_nummer,
            record,
            ..
        } => {
            if record == "stop" {
                if let Some(a) = state
                    .assignments_mut()
                    .find(|a| *a.nummer == **toewijzing_nummer)
                {
                    a.stopped = None;
                }
            }
        }
        JeugdhulpData::CareStopped {
            toewijzing_nummer,
            einddatum,
            ..
        } => {
            if let Some(a) = state
                .assignments_mut()
                .find(|a| *a.nummer == **toewijzing_nummer)
            {
                a.stopped = Some(*einddatum);
            }
        }
    }
}
