//! The pure fold: `(state, input, policy) -> signals`. No Kafka, no clock, no I/O.
//!
//! Facts change a child's state and wake the child on the next tick (`fold`); a tick evaluates
//! every child whose wake-up day has come (`tick`), and each child's signals take their steps
//! (`tracks`, `emit`); a contact's answer moves a handoff task along (`answers`). `image` is
//! the state a snapshot holds, `key` the children's table.

mod answers;
mod emit;
mod fold;
mod image;
mod key;
mod tick;
mod tracks;

use std::collections::BTreeMap;

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::Timestamp;
use schakel_core::domain::events::SignalEvent;
use schakel_core::domain::ids::ChildKey;
use schakel_core::log::trace::SpanRef;

pub use image::EngineImage;
pub use key::{child_key, key_of, Key};

use crate::input::Input;
use crate::policy::Policy;
use crate::state::ChildState;
use fold::{fold_jeugdhulp, fold_leerplicht, fold_school, fold_voorschool};
use key::Children;

/// Why an input was refused (a handoff answer that does not fit the task).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal(pub String);

/// The rules state of a set of children (one partition) and their timers.
#[derive(Debug, Clone)]
pub struct Engine {
    policy: Policy,
    children: Children,
    /// day → children (their slots) to evaluate on the first tick on or after that day; an
    /// entry counts only while it matches the child's `wakeup` (stale entries are skipped)
    timers: BTreeMap<Date, Vec<key::Slot>>,
    last_tick: Option<Date>,
}

fn date_of(t: Timestamp) -> Date {
    t.to_zoned(TimeZone::UTC).date()
}

impl Engine {
    pub fn new(policy: Policy) -> Self {
        Self {
            policy,
            children: Children::default(),
            timers: BTreeMap::new(),
            last_tick: None,
        }
    }

    pub fn children(&self) -> usize {
        self.children.len()
    }

    pub fn last_tick(&self) -> Option<Date> {
        self.last_tick
    }

    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// The state of one child, for explanations and tests.
    pub fn child(&self, ck: &ChildKey) -> Option<&ChildState> {
        self.children.get(&key_of(ck))
    }

    /// Folds one input in and returns the signal steps it made fire, in a stable order. An
    /// answer to a handoff task that does not fit the task is refused and changes nothing.
    pub fn apply(&mut self, input: &Input) -> Result<Vec<SignalEvent>, Refusal> {
        self.apply_traced(input, None)
    }

    /// [`Engine::apply`], and a fact remembers `trace` (the span that wrote it) as the cause
    /// of its child's next signals.
    pub fn apply_traced(
        &mut self,
        input: &Input,
        trace: Option<SpanRef>,
    ) -> Result<Vec<SignalEvent>, Refusal> {
        let caused = |s: &mut ChildState| {
            if trace.is_some() {
                s.cause = trace;
            }
        };
        match input {
            Input::Tick(date) => return Ok(self.tick(*date)),
            Input::Response(r) => return self.respond(r),
            Input::Jeugdhulp(e) => {
                if let Some(s) = self.fact(&e.child, &e.source, &e.id, e.time) {
                    caused(s);
                    fold_jeugdhulp(s, &e.data, &e.id);
                }
            }
            Input::School(e) => {
                if let Some(s) = self.fact(&e.child, &e.source, &e.id, e.time) {
                    caused(s);
                    fold_school(s, &e.data, &e.id);
                }
            }
            Input::Voorschool(e) => {
                if let Some(s) = self.fact(&e.child, &e.source, &e.id, e.time) {
                    caused(s);
                    fold_voorschool(s, &e.data, &e.id);
                }
            }
            Input::Leerplicht(e) => {
                if let Some(s) = self.fact(&e.child, &e.source, &e.id, e.time) {
                    caused(s);
                    fold_leerplicht(s, &e.data, &e.id, date_of(e.time))?;
                }
            }
        }
        Ok(Vec::new())
    }
}
