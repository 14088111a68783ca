//! What ingest knows of verzuim meldingen, to refuse an impossible status change at once.
//!
//! Folded from `source.leerplicht.v1`, read from the beginning and followed while ingest runs,
//! and updated with every batch ingest itself writes. A melding is known per child by its
//! meldingsnummer. A status change is checked with [`schakel_core::domain::verzuim::check`]; an event
//! id that was already applied is a re-send, not a change, so re-running an import or a
//! request never trips over its own earlier writes. Rules applies the same check to its own
//! state and has the last word (two ingest instances may race; rules dead-letters the loser).

use schakel_core::domain::catalogue::Topic;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use schakel_core::domain::events::{LeerplichtData, LeerplichtEvent};
use schakel_core::domain::verzuim::{self, Status};
use schakel_core::log::kafka::Record;
use schakel_core::{Config, Shutdown};

use crate::validate::{Accepted, Typed};
use schakel_core::runtime::follow::{self, ReadTo};

#[derive(Debug, Clone)]
struct Melding {
    status: Status,
    /// ids of the status changes already applied
    applied: Vec<Box<str>>,
}

/// (child key, meldingsnummer)
type Key = (String, String);

#[derive(Debug, Default)]
struct Index {
    meldingen: HashMap<Key, Melding>,
    /// the log was read up to where it ended when ingest started
    ready: bool,
}

/// The shared, followed view.
#[derive(Debug, Clone, Default)]
pub struct Meldingen(Arc<RwLock<Index>>);

/// The melding a verzuim event is about; None for other leerplicht events.
fn key_of(ev: &LeerplichtEvent) -> Option<Key> {
    match &ev.data {
        LeerplichtData::VerzuimReported { meldingsnummer, .. }
        | LeerplichtData::VerzuimStatusChanged { meldingsnummer, .. } => Some((
            ev.child.child_key.as_str().to_owned(),
            meldingsnummer.clone(),
        )),
        _ => None,
    }
}

/// One step of the lifecycle for the verzuim event `ev` against its melding's `current` state:
/// the new state, or why the change is impossible.
fn step(current: Option<&Melding>, ev: &LeerplichtEvent) -> Result<Melding, verzuim::Impossible> {
    let LeerplichtData::VerzuimStatusChanged { status, .. } = &ev.data else {
        // a melding reported again keeps its status
        return Ok(current.cloned().unwrap_or(Melding {
            status: Status::Geregistreerd,
            applied: Vec::new(),
        }));
    };
    if let Some(m) = current.filter(|m| m.applied.iter().any(|i| **i == *ev.id)) {
        return Ok(m.clone());
    }
    let to = Status::parse(status)
        .ok_or_else(|| verzuim::Impossible(format!("unknown status {status:?}")))?;
    verzuim::check(current.map(|m| m.status), to)?;
    let mut m = current.cloned().expect("checked: the melding exists");
    m.status = to;
    m.applied.push(ev.id.as_str().into());
    Ok(m)
}

fn leerplicht(a: &Accepted) -> Option<&LeerplichtEvent> {
    match &a.typed {
        Typed::Leerplicht(e) => Some(e),
        _ => None,
    }
}

impl Meldingen {
    /// Whether the batch holds verzuim events (only those need the view).
    pub fn concerns(accepted: &[Accepted]) -> bool {
        accepted
            .iter()
            .filter_map(leerplicht)
            .any(|e| key_of(e).is_some())
    }

    /// A checker over the view as it is now; drop it before awaiting anything.
    pub fn checker(&self) -> Checker<'_> {
        Checker {
            ix: self.0.read().expect("melding index lock"),
            overlay: HashMap::new(),
        }
    }

    /// Folds events that are in the log (written by ingest or read back); impossible changes
    /// are skipped, as rules skips them.
    pub fn fold<'a>(&self, events: impl IntoIterator<Item = &'a LeerplichtEvent>) {
        let mut ix = self.0.write().expect("melding index lock");
        for ev in events {
            let Some(key) = key_of(ev) else { continue };
            if let Ok(m) = step(ix.meldingen.get(&key), ev) {
                ix.meldingen.insert(key, m);
            }
        }
    }

    /// Folds a batch ingest has written.
    pub fn record(&self, accepted: &[Accepted]) {
        self.fold(accepted.iter().filter_map(leerplicht));
    }

    /// Waits up to `wait` until the log was read up to where it ended at start.
    pub async fn await_ready(&self, wait: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            if self.0.read().expect("melding index lock").ready {
                return true;
            }
            if tokio::time::Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Whether the view read the log up to where it ended at start.
    pub fn is_ready(&self) -> bool {
        self.0.read().expect("melding index lock").ready
    }

    fn set_ready(&self) {
        self.0.write().expect("melding index lock").ready = true;
    }
}

/// An impossible status change: the index of the event in its group, the field to blame and
/// why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    pub index: usize,
    pub field: &'static str,
    pub message: String,
}

/// Checks groups of events in order (a request's batch, an import row), each against the view
/// plus the groups accepted before it.
pub struct Checker<'a> {
    ix: std::sync::RwLockReadGuard<'a, Index>,
    overlay: HashMap<Key, Melding>,
}

impl Checker<'_> {
    /// The impossible status changes of `group`, in order; a group without any counts as
    /// accepted for the groups after it, a group with one does not count at all.
    pub fn group(&mut self, group: &[Accepted]) -> Vec<Refused> {
        let mut changes: HashMap<Key, Melding> = HashMap::new();
        let mut refused = Vec::new();
        for (index, a) in group.iter().enumerate() {
            let Some((ev, key)) = leerplicht(a).and_then(|e| Some((e, key_of(e)?))) else {
                continue;
            };
            let current = changes
                .get(&key)
                .or_else(|| self.overlay.get(&key))
                .or_else(|| self.ix.meldingen.get(&key));
            let field = if current.is_some() {
                "data.status"
            } else {
                "data.meldingsnummer"
            };
            match step(current, ev) {
                Ok(m) => {
                    changes.insert(key, m);
                }
                Err(e) => refused.push(Refused {
                    index,
                    field,
                    message: e.0,
                }),
            }
        }
        if refused.is_empty() {
            self.overlay.extend(changes);
        }
        refused
    }
}

/// Follows `source.leerplicht.v1` until shutdown, riding out a broker that is away.
pub async fn follow(cfg: Config, meldingen: Meldingen, shutdown: Shutdown) {
    let topic = cfg.topic(Topic::LEERPLICHT);
    let reg = schakel_core::log::schemas::registry();
    let view = meldingen.clone();
    let fold = move |rec: Record| match rec
        .value
        .as_deref()
        .map(|v| reg.decode::<LeerplichtEvent>(Topic::LEERPLICHT, v))
    {
        Some(Ok(ev)) => view.fold([&ev]),
        _ => tracing::warn!(offset = rec.offset, "unreadable leerplicht record skipped"),
    };
    follow::follow(
        "verzuim meldingen",
        cfg,
        vec![topic],
        shutdown,
        ReadTo::default(),
        fold,
        move || {
            meldingen.set_ready();
            tracing::info!("verzuim meldingen read up to the end of the log");
        },
    )
    .await;
}
