//! One `[[input]]` fact of a scenario made into the input the engine folds: a source event of
//! its kind (school, voorschool, leerplicht, jeugdhulp) or a contact's answer to a task.

use jiff::civil::Date;
use jiff::Timestamp;
use schakel_core::domain::events::{
    ChildRef, JeugdhulpData, LeerplichtData, LocationRef, Product, ResponseEvent, SchoolData,
    SchoolRef, SourceEvent, VoorschoolData,
};
use schakel_core::domain::handoff::Answer;
use serde::Deserialize;

use super::key_for;
use super::read::ChildSpec;
use crate::rules::Rule;
use crate::signal::signal_id;
use crate::Input;

/// The fields of one fact; which are required depends on its kind.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FactSpec {
    pub(super) child: String,
    id: String,
    /// the day the source recorded it (its residence counts from then); default 1970-01-01
    at: Option<Date>,
    residence: Option<String>,
    school: Option<String>,
    sector: Option<String>,
    grade: Option<i32>,
    start: Option<Date>,
    end: Option<Date>,
    reason: Option<String>,
    startkwalificatie: Option<bool>,
    date: Option<Date>,
    decision: Option<String>,
    support: Option<String>,
    lrk: Option<String>,
    vve: Option<bool>,
    nummer: Option<String>,
    kind: Option<String>,
    status: Option<String>,
    from: Option<Date>,
    until: Option<Date>,
    since: Option<Date>,
    offer: Option<String>,
    ingang: Option<Date>,
    eind: Option<Date>,
    stamp: Option<Timestamp>,
    verlengd: Option<bool>,
    gemeente: Option<String>,
    begin: Option<Date>,
    rule: Option<String>,
    episode: Option<String>,
    roles: Option<Vec<String>>,
    contact: Option<String>,
}

fn need<T>(v: Option<T>, kind: &str, field: &str) -> Result<T, String> {
    v.ok_or_else(|| format!("{kind}: missing `{field}`"))
}

fn school_ref(s: &str) -> SchoolRef {
    SchoolRef {
        brin: s.chars().take(4).collect(),
        vestiging: if s.len() > 4 {
            s[4..].to_owned()
        } else {
            "00".into()
        },
    }
}

fn midnight(d: Date) -> Timestamp {
    d.to_zoned(jiff::tz::TimeZone::UTC)
        .map(|z| z.timestamp())
        .unwrap_or(Timestamp::UNIX_EPOCH)
}

pub(super) fn fact_input(kind: &str, f: FactSpec, child: &ChildSpec) -> Result<Input, String> {
    let cref = ChildRef {
        child_key: key_for(&child.name),
        birth_date: child.birth_date,
        birth_date_precision: child.precision,
        residence_municipality: f.residence.clone().or_else(|| child.residence.clone()),
    };
    let time = f.at.map_or(Timestamp::UNIX_EPOCH, midnight);
    let school = || need(f.school.as_deref(), kind, "school").map(school_ref);
    let date = || need(f.date, kind, "date");
    let nummer = || need(f.nummer.clone(), kind, "nummer");
    macro_rules! source {
        ($variant:ident, $family:literal, $data:expr) => {
            Input::$variant(SourceEvent::new(
                f.id.clone(),
                concat!("urn:nld:scenario:", $family).into(),
                time,
                cref.clone(),
                $data,
            ))
        };
    }
    let input = match kind {
        "enrolment" => source!(
            School,
            "school",
            SchoolData::EnrolmentRegistered {
                school: school()?,
                sector: need(f.sector.clone(), kind, "sector")?,
                grade: need(f.grade, kind, "grade")?,
                start_date: need(f.start, kind, "start")?,
            }
        ),
        "enrolment_ended" => source!(
            School,
            "school",
            SchoolData::EnrolmentEnded {
                school: school()?,
                end_date: need(f.end, kind, "end")?,
                reason: f.reason.clone().unwrap_or_else(|| "overig".into()),
                destination: None,
                startkwalificatie: f.startkwalificatie,
            }
        ),
        "application" => source!(
            School,
            "school",
            SchoolData::ApplicationRegistered {
                school: school()?,
                date: date()?,
            }
        ),
        "admission" => source!(
            School,
            "school",
            SchoolData::AdmissionDecided {
                school: school()?,
                date: date()?,
                decision: f.decision.clone().unwrap_or_else(|| "toegelaten".into()),
            }
        ),
        "support" => source!(
            School,
            "school",
            SchoolData::SupportStarted {
                school: school()?,
                support: need(f.support.clone(), kind, "support")?,
                date: date()?,
            }
        ),
        "support_ended" => source!(
            School,
            "school",
            SchoolData::SupportEnded {
                school: school()?,
                support: need(f.support.clone(), kind, "support")?,
                date: date()?,
            }
        ),
        "placement" | "placement_ended" => {
            let location = LocationRef {
                lrk: need(f.lrk.clone(), kind, "lrk")?,
            };
            let (vve_indication, date, mentor) = (f.vve.unwrap_or(true), date()?, None);
            let started = kind == "placement";
            let data = VoorschoolData::placement(started, location, vve_indication, date, mentor);
            source!(Voorschool, "voorschool", data)
        }
        "verzuim" => source!(
            Leerplicht,
            "leerplicht",
            LeerplichtData::VerzuimReported {
                school: school()?,
                meldingsnummer: nummer()?,
                kind: f.kind.clone().unwrap_or_else(|| "lrv".into()),
                first_absence_date: need(f.since, kind, "since")?,
            }
        ),
        "verzuim_status" => source!(
            Leerplicht,
            "leerplicht",
            LeerplichtData::VerzuimStatusChanged {
                meldingsnummer: nummer()?,
                status: need(f.status.clone(), kind, "status")?,
            }
        ),
        "vrijstelling" | "vrijstelling_ended" => {
            let (k, from, until) = (
                f.kind.clone().unwrap_or_else(|| "5-onder-a".into()),
                need(f.from, kind, "from")?,
                f.until,
            );
            let data = if kind == "vrijstelling" {
                LeerplichtData::VrijstellingGranted {
                    kind: k,
                    from,
                    until,
                }
            } else {
                LeerplichtData::VrijstellingEnded {
                    kind: k,
                    from,
                    until,
                }
            };
            source!(Leerplicht, "leerplicht", data)
        }
        "thuiszitter" => source!(
            Leerplicht,
            "leerplicht",
            LeerplichtData::ThuiszitterRegistered {
                since: need(f.since, kind, "since")?,
                school: f.school.as_deref().map(school_ref),
            }
        ),
        "thuiszitter_resolved" => source!(
            Leerplicht,
            "leerplicht",
            LeerplichtData::ThuiszitterResolved {
                date: date()?,
                offer: f.offer.clone().unwrap_or_else(|| "onderwijs".into()),
            }
        ),
        "assignment" => source!(
            Jeugdhulp,
            "jeugdhulp",
            JeugdhulpData::AssignmentIssued {
                toewijzing_nummer: nummer()?,
                product: Product {
                    categorie: "45".into(),
                    code: None,
                },
                ingangsdatum: need(f.ingang, kind, "ingang")?,
                einddatum: f.eind,
                toewijzing_tijdstip: need(f.stamp, kind, "stamp")?,
                verlengde_jeugdhulp: f.verlengd,
                gemeente: need(f.gemeente.clone(), kind, "gemeente")?,
            }
        ),
        "withdrawal" => source!(
            Jeugdhulp,
            "jeugdhulp",
            JeugdhulpData::AssignmentWithdrawn {
                toewijzing_nummer: nummer()?,
                date: date()?,
            }
        ),
        "care_stopped" => source!(
            Jeugdhulp,
            "jeugdhulp",
            JeugdhulpData::CareStopped {
                toewijzing_nummer: nummer()?,
                begindatum: need(f.begin, kind, "begin")?,
                einddatum: need(f.end, kind, "end")?,
                reden_beeindiging: None,
            }
        ),
        "acknowledge" | "complete" | "cancel" => {
            let rule = need(f.rule.as_deref(), kind, "rule")?;
            let rule = Rule::parse(rule).ok_or_else(|| format!("unknown rule {rule}"))?;
            let episode = need(f.episode.clone(), kind, "episode")?;
            let at = midnight(need(f.at, kind, "at")?);
            let answer = match kind {
                "acknowledge" => Answer::Acknowledge,
                "complete" => Answer::Complete,
                _ => Answer::Cancel,
            };
            Input::Response(ResponseEvent {
                id: f.id.clone(),
                source: "urn:nld:scenario:contact".into(),
                kind: answer.event_type(),
                time: at,
                child_key: key_for(&child.name),
                signal_id: signal_id(rule, key_for(&child.name).as_str(), &episode),
                contact: f.contact.clone().unwrap_or_else(|| "contact".into()),
                at,
                note: None,
                roles: need(f.roles.clone(), kind, "roles")?,
            })
        }
        other => return Err(format!("unknown input kind {other:?}")),
    };
    Ok(input)
}
