//! Golden scenarios: files of input facts and ticks with the signals they must produce.
//!
//! A scenario is TOML: `[[child]]` declares children by name, `[[input]]` lists facts and ticks
//! in log order, `[[expect]]` lists every signal step that must fire, and nothing else may
//! fire; `[[refusal]]` lists every handoff answer that must be refused. See
//! `tests/golden/README.md` for the format.

use std::collections::BTreeMap;
use std::path::Path;

use crate::policy::Policy;
use jiff::civil::Date;
use jiff::{Timestamp, ToSpan};
use schakel_core::domain::dates::DatePrecision;
use schakel_core::domain::events::{
    ChildRef, JeugdhulpData, LeerplichtData, LocationRef, Product, ResponseEvent, SchoolData,
    SchoolRef, SignalEvent, SourceEvent, VoorschoolData,
};
use schakel_core::domain::ids::{hex, ChildKey};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::engine::EngineImage;
use crate::rules::Rule;
use crate::signal::signal_id;
use crate::{Engine, Input};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    description: String,
    #[serde(default)]
    policy: Option<toml::Table>,
    #[serde(default)]
    child: Vec<ChildSpec>,
    #[serde(default)]
    input: Vec<BTreeMap<String, toml::Value>>,
    #[serde(default)]
    expect: Vec<Expected>,
    #[serde(default)]
    refusal: Vec<ExpectedRefusal>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct ChildSpec {
    name: String,
    birth_date: Date,
    #[serde(default)]
    precision: DatePrecision,
    #[serde(default)]
    residence: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TickRange {
    from: Date,
    to: Date,
    #[serde(default = "one")]
    every_days: i32,
}

fn one() -> i32 {
    1
}

/// The fields of one fact; which are required depends on its kind.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FactSpec {
    child: String,
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

/// One signal step a scenario expects.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expected {
    pub on: Date,
    pub rule: String,
    pub step: String,
    pub child: String,
    #[serde(default)]
    pub due: Option<Date>,
    #[serde(default)]
    pub recipients: Option<Vec<String>>,
    #[serde(default)]
    pub uncertain: Option<bool>,
    #[serde(default)]
    pub municipality: Option<String>,
    /// role → institution, checked when given
    #[serde(default)]
    pub routes: Option<BTreeMap<String, String>>,
}

/// A handoff answer a scenario expects to be refused.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectedRefusal {
    /// the id of the refused answer
    pub id: String,
    /// a part of the reason
    pub reason: String,
}

/// A loaded scenario, its inputs expanded into log order.
#[derive(Debug)]
pub struct Scenario {
    pub description: String,
    pub policy: Policy,
    pub inputs: Vec<Input>,
    pub expect: Vec<Expected>,
    pub refusals: Vec<ExpectedRefusal>,
    children: Vec<(String, ChildKey)>,
}

/// The ChildKey a scenario uses for a child name.
pub fn key_for(name: &str) -> ChildKey {
    ChildKey::parse(&hex(&Sha256::digest(name.as_bytes()))).expect("64 hex")
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

fn fact_input(kind: &str, f: FactSpec, child: &ChildSpec) -> Result<Input, String> {
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
            Input::$variant(SourceEvent {
                id: f.id.clone(),
                source: concat!("urn:nld:scenario:", $family).into(),
                kind: format!("nl.schakel.{}.{}.v1", $family, kind.replace('_', "-")),
                time,
                child: cref.clone(),
                data: $data,
            })
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
            let data = if kind == "placement" {
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
            let suffix = match kind {
                "acknowledge" => "acknowledged",
                "complete" => "completed",
                _ => "cancelled",
            };
            Input::Response(ResponseEvent {
                id: f.id.clone(),
                source: "urn:nld:scenario:contact".into(),
                kind: format!("nl.schakel.hub.handoff-{suffix}.v1"),
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

impl Scenario {
    pub fn load(path: &Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        Self::parse(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    pub fn parse(text: &str) -> Result<Self, String> {
        let file: File = toml::from_str(text).map_err(|e| e.to_string())?;
        let policy: Policy = match file.policy {
            Some(t) => toml::Value::Table(t)
                .try_into()
                .map_err(|e: toml::de::Error| e.to_string())?,
            None => Policy::default(),
        };
        policy.check()?;
        let child = |name: &str| {
            file.child
                .iter()
                .find(|c| c.name == name)
                .cloned()
                .ok_or_else(|| format!("unknown child {name}"))
        };
        let mut inputs = Vec::new();
        for (n, table) in file.input.into_iter().enumerate() {
            let mut entries = table.into_iter();
            let (Some((kind, value)), None) = (entries.next(), entries.next()) else {
                return Err(format!("input {}: needs exactly one key", n + 1));
            };
            let at = |e: toml::de::Error| format!("input {} ({kind}): {e}", n + 1);
            match kind.as_str() {
                "tick" => inputs.push(Input::Tick(value.clone().try_into().map_err(at)?)),
                "ticks" => {
                    let r: TickRange = value.clone().try_into().map_err(at)?;
                    let mut d = r.from;
                    while d <= r.to {
                        inputs.push(Input::Tick(d));
                        d = d.saturating_add(i64::from(r.every_days).days());
                    }
                }
                _ => {
                    let spec: FactSpec = value.clone().try_into().map_err(at)?;
                    let c = child(&spec.child)?;
                    inputs.push(
                        fact_input(&kind, spec, &c).map_err(|e| format!("input {}: {e}", n + 1))?,
                    );
                }
            }
        }
        for e in &file.expect {
            child(&e.child)?;
        }
        let children = file
            .child
            .iter()
            .map(|c| (c.name.clone(), key_for(&c.name)))
            .collect();
        Ok(Self {
            description: file.description,
            policy,
            inputs,
            expect: file.expect,
            refusals: file.refusal,
            children,
        })
    }

    /// Runs every input through one engine: the signals, and the refused inputs' ids and
    /// reasons.
    pub fn run(&self) -> (Vec<SignalEvent>, Vec<(String, String)>) {
        let mut engine = Engine::new(self.policy.clone());
        let mut signals = Vec::new();
        let mut refused = Vec::new();
        for i in &self.inputs {
            match engine.apply(i) {
                Ok(s) => signals.extend(s),
                Err(r) => refused.push((i.fact_id().map_or("", |f| f.1).to_owned(), r.0)),
            }
        }
        (signals, refused)
    }

    /// Runs every input through one engine.
    pub fn run_straight(&self) -> Vec<SignalEvent> {
        self.run().0
    }

    /// Runs with a stop after each of `cuts` inputs: the next engine restores by replaying
    /// everything before the cut without emitting, as the service does on start.
    pub fn run_with_restores(&self, cuts: &[usize]) -> Vec<SignalEvent> {
        self.run_cut(cuts, |engine, inputs| {
            let mut e = Engine::new(engine.policy().clone());
            for i in inputs {
                let _silent = e.apply(i);
            }
            e
        })
    }

    /// Runs with a stop after each of `cuts` inputs, restoring from a snapshot taken at the
    /// stop (serialised and read back), as the service does when it has one.
    pub fn run_with_snapshots(&self, cuts: &[usize]) -> Vec<SignalEvent> {
        self.run_cut(cuts, |engine, _| {
            let bytes = crate::snapshot::encode_image(&engine.image());
            let image: EngineImage = crate::snapshot::decode_image(&bytes).expect("snapshot");
            Engine::from_image(engine.policy().clone(), image)
        })
    }

    fn run_cut(
        &self,
        cuts: &[usize],
        restore: impl Fn(&Engine, &[Input]) -> Engine,
    ) -> Vec<SignalEvent> {
        let mut out = Vec::new();
        let mut engine = Engine::new(self.policy.clone());
        let mut done = 0;
        for &cut in cuts.iter().chain(std::iter::once(&self.inputs.len())) {
            let cut = cut.min(self.inputs.len()).max(done);
            for i in &self.inputs[done..cut] {
                out.extend(engine.apply(i).unwrap_or_default());
            }
            done = cut;
            engine = restore(&engine, &self.inputs[..done]);
        }
        out
    }

    pub fn name_of(&self, key: &ChildKey) -> String {
        self.children
            .iter()
            .find(|(_, k)| k == key)
            .map(|(n, _)| n.clone())
            .unwrap_or_else(|| key.to_string())
    }

    /// Compares produced signals with the expectations; the error lists every difference.
    /// Children's signals on the same day may come in any order; per child the order counts.
    pub fn check(&self, got: &[SignalEvent]) -> Result<(), String> {
        let mut sorted: Vec<&SignalEvent> = got.iter().collect();
        sorted.sort_by_key(|s| (s.fired_on, self.name_of(&s.child_key)));
        let mut expect = self.expect.clone();
        expect.sort_by(|a, b| (a.on, &a.child).cmp(&(b.on, &b.child)));
        let got: Vec<Expected> = sorted
            .into_iter()
            .zip(expect.iter().map(Some).chain(std::iter::repeat(None)))
            .map(|(s, want)| Expected {
                on: s.fired_on,
                rule: s.rule.clone(),
                step: s.step.clone(),
                child: self.name_of(&s.child_key),
                due: want.and_then(|w| w.due.map(|_| s.due_date)).flatten(),
                recipients: want.and_then(|w| w.recipients.as_ref().map(|_| s.recipients.clone())),
                uncertain: want.and_then(|w| w.uncertain.map(|_| s.birth_date_uncertain)),
                municipality: want
                    .and_then(|w| w.municipality.as_ref().map(|_| s.municipality.clone()))
                    .flatten(),
                routes: want.and_then(|w| w.routes.as_ref().map(|_| s.routes.clone())),
            })
            .collect();
        if got == expect {
            return Ok(());
        }
        let show = |v: &[Expected]| {
            v.iter()
                .map(|e| {
                    format!(
                        "  {} {} {} {} due={:?} to={:?} in={:?} routes={:?}",
                        e.on,
                        e.rule,
                        e.step,
                        e.child,
                        e.due,
                        e.recipients,
                        e.municipality,
                        e.routes
                    )
                })
                .collect::<Vec<_>>()
                .join("\n")
        };
        Err(format!(
            "expected:\n{}\ngot:\n{}",
            show(&expect),
            show(&got)
        ))
    }

    /// Compares refused answers with the expected refusals.
    pub fn check_refusals(&self, got: &[(String, String)]) -> Result<(), String> {
        let ok = got.len() == self.refusals.len()
            && got
                .iter()
                .zip(&self.refusals)
                .all(|((id, reason), want)| *id == want.id && reason.contains(&want.reason));
        if ok {
            Ok(())
        } else {
            Err(format!(
                "refusals expected {:?}, got {got:?}",
                self.refusals
                    .iter()
                    .map(|r| (&r.id, &r.reason))
                    .collect::<Vec<_>>()
            ))
        }
    }
}
