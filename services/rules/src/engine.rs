//! The pure fold: `(state, input, policy) -> signals`. No Kafka, no clock, no I/O.

use std::collections::hash_map::DefaultHasher;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::hash::{Hash, Hasher};

use jiff::civil::Date;
use jiff::ToSpan;
use schakel_core::events::{ChildRef, JeugdhulpData, SignalEvent};
use schakel_core::ids::ChildKey;
use schakel_core::policy::Policy;

use crate::input::Input;
use crate::rules::r3_adulthood;
use crate::state::{Assignment, ChildState, Fired};

/// The rules state of a set of children (one partition) and their timers.
#[derive(Debug, Clone)]
pub struct Engine {
    policy: Policy,
    children: HashMap<ChildKey, ChildState>,
    /// day → children to evaluate on the first tick on or after that day
    timers: BTreeMap<Date, BTreeSet<ChildKey>>,
    wakeups: HashMap<ChildKey, Date>,
    last_tick: Option<Date>,
}

fn fact_hash(source: &str, id: &str) -> u64 {
    let mut h = DefaultHasher::new();
    source.hash(&mut h);
    0u8.hash(&mut h);
    id.hash(&mut h);
    h.finish()
}

impl Engine {
    pub fn new(policy: Policy) -> Self {
        Self {
            policy,
            children: HashMap::new(),
            timers: BTreeMap::new(),
            wakeups: HashMap::new(),
            last_tick: None,
        }
    }

    pub fn children(&self) -> usize {
        self.children.len()
    }

    pub fn last_tick(&self) -> Option<Date> {
        self.last_tick
    }

    /// Folds one input in and returns the signal steps it made fire, in a stable order.
    pub fn apply(&mut self, input: &Input) -> Vec<SignalEvent> {
        match input {
            Input::Tick(date) => self.tick(*date),
            Input::Jeugdhulp(e) => {
                if let Some(state) = self.fact(&e.child, &e.source, &e.id) {
                    fold_jeugdhulp(state, &e.data, &e.id);
                    self.wake_on_next_tick(&e.child.child_key);
                }
                Vec::new()
            }
            Input::School(e) => self.fact_only(&e.child, &e.source, &e.id),
            Input::Voorschool(e) => self.fact_only(&e.child, &e.source, &e.id),
            Input::Leerplicht(e) => self.fact_only(&e.child, &e.source, &e.id),
        }
    }

    /// Records a fact the current rules do not use yet, keeping child data current.
    fn fact_only(&mut self, child: &ChildRef, source: &str, id: &str) -> Vec<SignalEvent> {
        if self.fact(child, source, id).is_some() {
            self.wake_on_next_tick(&child.child_key);
        }
        Vec::new()
    }

    /// The child's state for a new fact, or None when the fact was seen before.
    fn fact(&mut self, child: &ChildRef, source: &str, id: &str) -> Option<&mut ChildState> {
        let state = self
            .children
            .entry(child.child_key.clone())
            .or_insert_with(|| ChildState::new(child));
        let h = fact_hash(source, id);
        if state.seen.contains(&h) {
            return None;
        }
        state.seen.push(h);
        state.update_child(child);
        Some(state)
    }

    fn schedule(&mut self, child: &ChildKey, at: Option<Date>) {
        if let Some(old) = self.wakeups.remove(child) {
            if let Some(set) = self.timers.get_mut(&old) {
                set.remove(child);
                if set.is_empty() {
                    self.timers.remove(&old);
                }
            }
        }
        if let Some(at) = at {
            self.timers.entry(at).or_default().insert(child.clone());
            self.wakeups.insert(child.clone(), at);
        }
    }

    /// A new fact is evaluated on the next tick, so late facts fire then, once.
    fn wake_on_next_tick(&mut self, child: &ChildKey) {
        let at = self
            .last_tick
            .map_or(Date::MIN, |d| d.saturating_add(1.day()));
        let earlier = self.wakeups.get(child).is_some_and(|w| *w <= at);
        if !earlier {
            self.schedule(child, Some(at));
        }
    }

    fn tick(&mut self, today: Date) -> Vec<SignalEvent> {
        if self.last_tick.is_some_and(|last| today <= last) {
            return Vec::new(); // a repeated or old tick
        }
        self.last_tick = Some(today);
        let due: Vec<ChildKey> = self
            .timers
            .range(..=today)
            .flat_map(|(_, set)| set.iter().cloned())
            .collect();
        let mut out = Vec::new();
        for child in due {
            let state = self
                .children
                .get_mut(&child)
                .expect("timer for a known child");
            let emits = r3_adulthood::evaluate(state, today, &self.policy);
            let uncertain = state.birth.is_uncertain();
            for e in emits {
                state.fired.push(Fired {
                    rule: e.rule,
                    step: e.step,
                });
                out.push(e.into_event(&child, today, uncertain));
            }
            let next = r3_adulthood::next_wakeup(state, today, &self.policy);
            self.schedule(&child, next);
        }
        out
    }
}

fn fold_jeugdhulp(state: &mut ChildState, data: &JeugdhulpData, event_id: &str) {
    match data {
        JeugdhulpData::AssignmentIssued {
            toewijzing_nummer,
            ingangsdatum,
            einddatum,
            toewijzing_tijdstip,
            verlengde_jeugdhulp,
            gemeente,
            ..
        } => {
            let new = Assignment {
                nummer: toewijzing_nummer.clone(),
                ingang: *ingangsdatum,
                eind: *einddatum,
                stamp: *toewijzing_tijdstip,
                verlengd: verlengde_jeugdhulp.unwrap_or(false),
                gemeente: gemeente.clone(),
                withdrawn: false,
                stopped: None,
                fact: event_id.to_owned(),
            };
            match state
                .assignments
                .iter_mut()
                .find(|a| a.nummer == new.nummer)
            {
                // iJw: the version with the latest toewijzing stamp is the current one
                Some(old) if old.stamp <= new.stamp => {
                    let stopped = old.stopped;
                    *old = Assignment { stopped, ..new };
                }
                Some(_) => {}
                None => state.assignments.push(new),
            }
        }
        JeugdhulpData::AssignmentWithdrawn {
            toewijzing_nummer, ..
        } => {
            if let Some(a) = state
                .assignments
                .iter_mut()
                .find(|a| &a.nummer == toewijzing_nummer)
            {
                a.withdrawn = true;
            }
        }
        JeugdhulpData::CareStarted { .. } => {}
        JeugdhulpData::CareStopped {
            toewijzing_nummer,
            einddatum,
            ..
        } => {
            if let Some(a) = state
                .assignments
                .iter_mut()
                .find(|a| &a.nummer == toewijzing_nummer)
            {
                a.stopped = Some(*einddatum);
            }
        }
    }
}
