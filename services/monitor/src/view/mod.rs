//! The monitor's view of the log: [`State`] folded from the topics it follows, shared by the
//! request handlers, and whether it has caught up.

mod state;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use schakel_core::domain::catalogue::Topic;
use schakel_core::domain::events::{
    ChildRef, DeliveryEvent, DirectoryEntry, IdentityRecord, JeugdhulpEvent, LeerplichtEvent,
    ResponseEvent, SchoolEvent, SignalEvent, VoorschoolEvent,
};
use schakel_core::log::codec::Registry;
use schakel_core::log::kafka::Record;
use schakel_core::runtime::follow::{self, ReadTo};
use schakel_core::{Config, Shutdown};
use serde::de::DeserializeOwned;

pub use state::{Delivered, SignalView, State};

use crate::facts;

/// The topics the monitor folds.
pub const FOLLOWED: [Topic; 9] = [
    Topic::SIGNALS,
    Topic::RESPONSES,
    Topic::DIRECTORY,
    Topic::DELIVERIES,
    Topic::IDENTITIES,
    Topic::SCHOOL,
    Topic::VOORSCHOOL,
    Topic::LEERPLICHT,
    Topic::JEUGDHULP,
];

/// The shared, followed state.
#[derive(Debug, Clone, Default)]
pub struct View {
    state: Arc<RwLock<State>>,
    read_to: ReadTo,
    ready: Arc<AtomicBool>,
}

impl View {
    pub fn read<R>(&self, f: impl FnOnce(&State) -> R) -> R {
        f(&self.state.read().expect("monitor state lock"))
    }

    fn write<R>(&self, f: impl FnOnce(&mut State) -> R) -> R {
        f(&mut self.state.write().expect("monitor state lock"))
    }

    /// Whether the view read the log up to where it ended when the monitor started.
    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::SeqCst)
    }

    /// Waits up to `wait` until the view has read the answers and signals up to where they end
    /// now, so an answer is judged with every answer logged before it.
    pub async fn catch_up(&self, cfg: &Config, wait: Duration) -> bool {
        let topics = [cfg.topic(Topic::SIGNALS), cfg.topic(Topic::RESPONSES)];
        self.read_to.catch_up(cfg, &topics, wait).await
    }

    /// Folds one record of a followed topic.
    fn fold(&self, reg: &Registry, names: &Names, rec: Record) {
        let Some(topic) = names.topic_of(&rec.topic) else {
            return;
        };
        let key = rec.key.as_deref().unwrap_or("");
        // when the log received the record (child-scoped topics keep the broker's append time)
        let at = rec
            .timestamp
            .and_then(|ms| jiff::Timestamp::from_millisecond(ms).ok())
            .unwrap_or_else(jiff::Timestamp::now);
        let value = rec.value.as_deref();
        match topic {
            Topic::DIRECTORY => match value.map(|v| decode::<DirectoryEntry>(reg, topic, v)) {
                None => self.write(|s| s.fold_directory(key, None)),
                Some(Some(e)) => self.write(|s| s.fold_directory(key, Some(e))),
                Some(None) => {}
            },
            Topic::IDENTITIES => match value.map(|v| decode::<IdentityRecord>(reg, topic, v)) {
                None => self.write(|s| s.fold_identity(key, None)),
                Some(Some(r)) => self.write(|s| s.fold_identity(key, Some(r))),
                Some(None) => {}
            },
            _ => {
                let Some(v) = value else { return };
                match topic {
                    Topic::SIGNALS => {
                        if let Some(s) = decode::<SignalEvent>(reg, topic, v) {
                            let trace = rec.trace.as_ref().map(|t| t.ids());
                            self.write(|st| {
                                let id = s.signal_id.clone();
                                st.fold_signal(s);
                                if let (Some(t), Some(view)) = (trace, st.signals.get_mut(&id)) {
                                    view.trace = Some(t);
                                }
                            });
                        }
                    }
                    Topic::RESPONSES => {
                        if let Some(r) = decode::<ResponseEvent>(reg, topic, v) {
                            self.write(|st| st.fold_response(r));
                        }
                    }
                    Topic::DELIVERIES => {
                        if let Some(d) = decode::<DeliveryEvent>(reg, topic, v) {
                            self.write(|st| st.fold_delivery(d));
                        }
                    }
                    Topic::SCHOOL => self.fact(reg, topic, v, |e: SchoolEvent, s| {
                        s.stats.school(&e, at);
                        (e.id.clone(), facts::of_school(&e), e.child)
                    }),
                    Topic::VOORSCHOOL => self.fact(reg, topic, v, |e: VoorschoolEvent, s| {
                        s.stats.child(&e.source, &e.child, at);
                        (e.id.clone(), facts::of_voorschool(&e), e.child)
                    }),
                    Topic::LEERPLICHT => self.fact(reg, topic, v, |e: LeerplichtEvent, s| {
                        s.stats.leerplicht(&e, at);
                        (e.id.clone(), facts::of_leerplicht(&e), e.child)
                    }),
                    Topic::JEUGDHULP => self.fact(reg, topic, v, |e: JeugdhulpEvent, s| {
                        s.stats.jeugdhulp(&e, at);
                        (e.id.clone(), facts::of_jeugdhulp(&e), e.child)
                    }),
                    _ => {}
                }
            }
        }
    }

    fn fact<T: DeserializeOwned>(
        &self,
        reg: &Registry,
        topic: Topic,
        bytes: &[u8],
        said: impl FnOnce(T, &mut State) -> (String, facts::Fact, ChildRef),
    ) {
        if let Some(e) = decode::<T>(reg, topic, bytes) {
            self.write(|s| {
                let (id, fact, child) = said(e, s);
                s.fold_fact(id, fact, child);
            });
        }
    }
}

fn decode<T: DeserializeOwned>(reg: &Registry, topic: Topic, bytes: &[u8]) -> Option<T> {
    match reg.decode(topic, bytes) {
        Ok(v) => Some(v),
        Err(e) => {
            tracing::warn!(%topic, error = %e, "unreadable record skipped");
            None
        }
    }
}

/// The full names of the followed topics (with the region's prefix).
struct Names(Vec<(String, Topic)>);

impl Names {
    fn topic_of(&self, full: &str) -> Option<Topic> {
        self.0.iter().find(|(n, _)| n == full).map(|(_, t)| *t)
    }
}

/// Follows the log from the beginning until shutdown; `ready` once caught up.
pub async fn follow(cfg: Config, view: View, shutdown: Shutdown) {
    let names = Names(FOLLOWED.iter().map(|t| (cfg.topic(*t), *t)).collect());
    let topics: Vec<String> = names.0.iter().map(|(n, _)| n.clone()).collect();
    let reg = schakel_core::log::schemas::registry();
    let (v, ready) = (view.clone(), view.ready.clone());
    follow::follow(
        "monitor",
        cfg,
        topics,
        shutdown,
        view.read_to.clone(),
        move |rec| v.fold(&reg, &names, rec),
        move || {
            ready.store(true, Ordering::SeqCst);
            tracing::info!("the monitor read the log up to its end");
        },
    )
    .await;
}
