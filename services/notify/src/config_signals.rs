//! Configuration signals to a municipality's functioneel beheer (`beheer`): C1 when a role of a
//! signal is held by nobody in the directory, C2 when an endpoint was disabled after failing
//! too long. They are written to hub.signals.v1 and delivered like any signal.

use schakel_core::domain::catalogue::EventType;
use std::collections::{BTreeMap, HashSet};

use jiff::civil::Date;
use jiff::Timestamp;
use schakel_core::domain::events::SignalEvent;
use schakel_core::domain::roles::CONFIG_RULE;
use schakel_core::log::kafka::{CloudEvent, Outgoing};
use schakel_core::log::trace::TraceParent;
use schakel_core::Shutdown;

use crate::deps::Deps;
use crate::directory::Directory;
use crate::ledger::{delivery_id, Ledger};
use crate::ledger_writer::{record_step, Step, Subject};
use crate::lifecycle::{Outcome, Schedule};

/// A configuration signal to raise.
pub struct Raise<'a> {
    /// the signal it is about (its child key routes it to the same partition)
    pub about: &'a SignalEvent,
    pub rule: &'a str,
    pub signal_id: String,
    /// the institution whose `beheer` gets it
    pub institution: &'a str,
    pub policy: BTreeMap<String, String>,
    /// the date it fired on: from the log (the signal's tick, or notify's clock)
    pub on: Date,
    pub at: Timestamp,
}

/// The region's own institution in the directory: its `beheer` gets the configuration
/// signals that concern no municipality (a signal whose residence nobody knows).
pub const REGION: &str = "regio:leerplein";

/// Writes a configuration signal; its record is the same however often it is raised.
pub async fn raise(deps: &Deps, r: Raise<'_>) -> Result<(), ()> {
    // no municipality to tell: the region's beheer
    let (institution, routes) = if r.institution.is_empty() || r.about.municipality.is_none() {
        let routes = [("beheer".to_owned(), REGION.to_owned())]
            .into_iter()
            .collect();
        (REGION.to_owned(), routes)
    } else {
        (r.institution.to_owned(), Default::default())
    };
    let config = SignalEvent {
        id: format!("{}-opened", r.signal_id),
        kind: EventType::SignalOpened,
        step: "opened".into(),
        signal_id: r.signal_id,
        rule: r.rule.into(),
        child_key: r.about.child_key.clone(),
        institution: Some(institution),
        municipality: r.about.municipality.clone(),
        due_date: None,
        recipients: vec!["beheer".into()],
        task: false,
        fired_on: r.on,
        birth_date_uncertain: false,
        facts: vec![r.about.id.clone()],
        policy: r.policy,
        routes,
        residence_derived_from: r.about.residence_derived_from.clone(),
    };
    let ce = CloudEvent {
        id: config.id.clone(),
        source: "urn:nl:schakel:notify".into(),
        kind: config.kind,
        time: r.at,
        trace: TraceParent::derived(&config.id),
    };
    deps.producer
        .send(Outgoing {
            key: config.child_key.as_str(),
            value: &config,
            event: &ce,
            partition: None,
        })
        .await
        .map(drop)
        .map_err(|e| {
            tracing::error!(error = %e, rule = r.rule, "cannot write a configuration signal");
        })
}

/// A signal step with roles nobody holds: an `unroutable` ledger record per role (listed by
/// `schakel deliveries list --status unroutable`, retried once the directory is fixed) and,
/// once per role and institution while this instance runs, a configuration signal (C1) to the
/// municipality's `beheer` contacts.
pub struct Unroutable<'a> {
    pub signal: &'a SignalEvent,
    pub position: (i32, i64),
    pub missing: &'a [String],
}

pub async fn raise_unroutable(
    deps: &Deps,
    ledger: &mut Ledger,
    u: Unroutable<'_>,
    raised: &mut HashSet<(String, String)>,
    stop: &Shutdown,
) {
    let signal = u.signal;
    for role in u.missing {
        let inst = Directory::institution_for(signal, role).unwrap_or_default();
        let contact = format!("role:{role}");
        let id = delivery_id(&signal.id, &contact, "none");
        if ledger.get(&id).is_none() {
            let step = Step {
                subject: Subject {
                    id: &id,
                    signal,
                    contact: &contact,
                    channel: "none",
                    position: u.position,
                },
                outcome: Outcome::NoContact,
                error: Some(format!(
                    "no contact in the directory holds {role} at {inst}"
                )),
                schedule: Schedule::single(&id),
                trace: None,
            };
            let Some(done) = record_step(deps, step, None, stop).await else {
                return;
            };
            ledger.apply(&done.record);
        }
        if !raised.insert((role.clone(), inst.clone())) {
            continue;
        }
        let policy = [("missingRole".to_owned(), role.clone())]
            .into_iter()
            .collect();
        let signal_id = delivery_id(CONFIG_RULE, &inst, role);
        // dated on the day of the step that could not be routed: a replay writes the same
        let at = signal
            .fired_on
            .to_zoned(deps.tz.clone())
            .map(|z| z.timestamp())
            .unwrap_or(Timestamp::UNIX_EPOCH);
        let r = Raise {
            about: signal,
            rule: CONFIG_RULE,
            signal_id,
            institution: &inst,
            policy,
            on: signal.fired_on,
            at,
        };
        if raise(deps, r).await.is_ok() {
            tracing::warn!(role, institution = %inst, "configuration signal raised: no contact holds the role");
        } else {
            raised.remove(&(role.clone(), inst.clone()));
        }
    }
}
