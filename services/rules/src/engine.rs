//! The pure fold: `(state, input, policy) -> signals`. No Kafka, no clock, no I/O.
//!
//! Facts change a child's state and wake the child on the next tick; a tick evaluates every
//! child whose wake-up day has come. When ticks were missed (the clock was down), a child is
//! evaluated on each of its own wake-up days in between, so it gets exactly the steps daily
//! ticks would have given, each once, dated on the tick that caught up.

use std::collections::{BTreeMap, HashMap};
use std::hash::{BuildHasherDefault, Hasher};

use crate::policy::Policy;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::Timestamp;
use schakel_core::domain::events::{
    ChildRef, JeugdhulpData, LeerplichtData, ResponseEvent, SchoolData, SignalEvent, VoorschoolData,
};
use schakel_core::domain::handoff::{Answer, Outcome, Sides};
use schakel_core::domain::ids::{hex, ChildKey};
use schakel_core::domain::verzuim;
use serde::{Deserialize, Serialize};

use crate::input::Input;
use crate::rules::{self, Cx, Plan, Rule, Want};
use crate::signal::{signal_id, Emit, Step};
use crate::state::{
    fnv64, gemeente, plus_days, Assignment, ChildState, Fact, MeldingStatus, School, Sector, Track,
};

/// A child's key in memory: the 32 bytes of its ChildKey.
pub type Key = [u8; 32];

/// ChildKeys are HMAC outputs, so their first bytes are already a good hash.
#[derive(Default, Clone, Copy)]
pub struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8).take(1) {
            let mut b = [0u8; 8];
            b[..chunk.len()].copy_from_slice(chunk);
            self.0 ^= u64::from_le_bytes(b);
        }
    }
    fn write_usize(&mut self, _: usize) {}
}

/// Children by key; the state is boxed so that the table's empty slots stay small.
type Children = HashMap<Key, Box<ChildState>, BuildHasherDefault<KeyHasher>>;

pub fn key_of(ck: &ChildKey) -> Key {
    let mut k = [0u8; 32];
    let s = ck.as_str().as_bytes();
    let nib = |c: u8| {
        if c.is_ascii_digit() {
            c - b'0'
        } else {
            c - b'a' + 10
        }
    };
    for (i, b) in k.iter_mut().enumerate() {
        *b = (nib(s[2 * i]) << 4) | nib(s[2 * i + 1]);
    }
    k
}

pub fn child_key(k: &Key) -> ChildKey {
    ChildKey::parse(&hex(k)).expect("32 bytes are 64 hex digits")
}

/// Why an input was refused (a handoff answer that does not fit the task).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal(pub String);

/// The rules state of a set of children (one partition) and their timers.
#[derive(Debug, Clone)]
pub struct Engine {
    policy: Policy,
    children: Children,
    /// day → children to evaluate on the first tick on or after that day; an entry counts only
    /// while it matches the child's `wakeup` (stale entries are skipped)
    timers: BTreeMap<Date, Vec<Key>>,
    last_tick: Option<Date>,
}

/// What a snapshot holds: everything but the policy (which comes from the config).
#[derive(Serialize, Deserialize)]
pub struct EngineImage {
    pub last_tick: Option<Date>,
    pub children: Vec<(Key, ChildState)>,
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
        self.children.get(&key_of(ck)).map(|b| &**b)
    }

    /// The state without the policy, for a snapshot.
    pub fn image(&self) -> EngineImage {
        let mut children: Vec<(Key, ChildState)> = self
            .children
            .iter()
            .map(|(k, s)| (*k, (**s).clone()))
            .collect();
        children.sort_unstable_by_key(|c| c.0);
        EngineImage {
            last_tick: self.last_tick,
            children,
        }
    }

    /// An engine restored from a snapshot image.
    pub fn from_image(policy: Policy, image: EngineImage) -> Self {
        let mut e = Self::new(policy);
        e.last_tick = image.last_tick;
        e.children.reserve(image.children.len());
        for (k, s) in image.children {
            if let Some(w) = s.wakeup {
                e.timers.entry(w).or_default().push(k);
            }
            e.children.insert(k, Box::new(s));
        }
        e
    }

    /// Folds one input in and returns the signal steps it made fire, in a stable order. An
    /// answer to a handoff task that does not fit the task is refused and changes nothing.
    pub fn apply(&mut self, input: &Input) -> Result<Vec<SignalEvent>, Refusal> {
        match input {
            Input::Tick(date) => return Ok(self.tick(*date)),
            Input::Response(r) => return self.respond(r),
            Input::Jeugdhulp(e) => {
                if let Some(s) = self.fact(&e.child, &e.source, &e.id, e.time) {
                    fold_jeugdhulp(s, &e.data, &e.id);
                }
            }
            Input::School(e) => {
                if let Some(s) = self.fact(&e.child, &e.source, &e.id, e.time) {
                    fold_school(s, &e.data, &e.id);
                }
            }
            Input::Voorschool(e) => {
                if let Some(s) = self.fact(&e.child, &e.source, &e.id, e.time) {
                    fold_voorschool(s, &e.data, &e.id);
                }
            }
            Input::Leerplicht(e) => {
                if let Some(s) = self.fact(&e.child, &e.source, &e.id, e.time) {
                    fold_leerplicht(s, &e.data, &e.id, date_of(e.time))?;
                }
            }
        }
        Ok(Vec::new())
    }

    /// The child's state for a new fact (woken on the next tick), or None for a duplicate.
    fn fact(
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
        let state = self
            .children
            .entry(key)
            .or_insert_with(|| Box::new(ChildState::new(child)));
        if state.seen.contains(&h) {
            return None;
        }
        state.seen.push(h);
        state.update_child(child, date_of(time));
        if state.wakeup.is_none_or(|w| w > next_tick) {
            state.wakeup = Some(next_tick);
            self.timers.entry(next_tick).or_default().push(key);
        }
        self.children.get_mut(&key).map(|b| &mut **b)
    }

    fn tick(&mut self, today: Date) -> Vec<SignalEvent> {
        let Some(first_day) = (match self.last_tick {
            None => Some(today),
            Some(last) if today > last => last.tomorrow().ok(),
            Some(_) => None, // a repeated or old tick
        }) else {
            return Vec::new();
        };
        self.last_tick = Some(today);
        let later = today.tomorrow().map(|t| self.timers.split_off(&t));
        let due = std::mem::replace(&mut self.timers, later.unwrap_or_default());
        let mut out = Vec::new();
        for (at, mut keys) in due {
            // children in key order, so a restored engine emits in the same order
            keys.sort_unstable();
            keys.dedup();
            for key in keys {
                let Some(state) = self.children.get_mut(&key) else {
                    continue;
                };
                if state.wakeup != Some(at) {
                    continue; // stale: the child was rescheduled
                }
                let mut day = at.max(first_day);
                let next = loop {
                    let next = evaluate(state, &key, day, today, &self.policy, &mut out);
                    match next {
                        Some(n) if n <= today => day = n,
                        other => break other,
                    }
                };
                state.wakeup = next;
                if let Some(n) = next {
                    self.timers.entry(n).or_default().push(key);
                }
            }
        }
        out
    }

    fn respond(&mut self, r: &ResponseEvent) -> Result<Vec<SignalEvent>, Refusal> {
        let refuse = |m: &str| Err(Refusal(m.to_owned()));
        let key = key_of(&r.child_key);
        let Some(state) = self.children.get_mut(&key) else {
            return refuse("no task with this signalId is known for the child");
        };
        let h = fnv64(&[r.source.as_bytes(), r.id.as_bytes()]);
        if state.seen.contains(&h) {
            return Ok(Vec::new()); // a repeated answer
        }
        let ck = child_key(&key);
        let Some(i) = state.tracks.iter().position(|t| {
            signal_id(t.rule, ck.as_str(), &t.rule.episode_label(t.episode)) == r.signal_id
        }) else {
            return refuse("no task with this signalId is known for the child");
        };
        let rule = state.tracks[i].rule;
        let Some((sender, receiver)) = rule.task_sides() else {
            return refuse("this signal is a notice, not a handoff task");
        };
        let Some(answer) = Answer::from_type(&r.kind) else {
            return refuse("not a handoff answer type");
        };
        let sides = Sides::of(&r.roles, sender, receiver);
        let outcome = state.tracks[i]
            .progress
            .answer(answer, sides)
            .map_err(|m| Refusal(m.to_owned()))?;
        state.seen.push(h);
        let step = match outcome {
            Outcome::Acknowledged => Step::Acknowledged,
            Outcome::HalfConfirmed => return Ok(Vec::new()),
            Outcome::Completed => Step::Completed,
            Outcome::Cancelled => Step::Cancelled,
        };
        let day = date_of(r.at);
        let episode = state.tracks[i].episode;
        let plan = current_plan(
            state,
            rule,
            episode,
            self.last_tick.unwrap_or(day),
            &self.policy,
        );
        let to: &[&'static str] = match step {
            Step::Acknowledged => sender,
            Step::Completed => &[],
            _ => plan.to,
        };
        let track = &mut state.tracks[i];
        track.mark(step);
        if step != Step::Acknowledged {
            track.closed = true;
        }
        let due = track.due;
        let emit = make_emit(
            state,
            rule,
            episode,
            step,
            &plan,
            to,
            due,
            day,
            &self.policy,
        );
        Ok(vec![emit.into_event(&ck, day, state.birth.is_uncertain())])
    }
}

/// The plan a rule has for an episode today (for answers, which do not come on a tick).
fn current_plan(state: &ChildState, rule: Rule, episode: i32, day: Date, policy: &Policy) -> Plan {
    let mut cx = Cx {
        state,
        day,
        policy,
        wake: Vec::new(),
    };
    rules::evaluate(&mut cx)
        .into_iter()
        .find(|w| w.rule == rule && w.episode == episode)
        .map(|w| w.plan)
        .unwrap_or_else(|| Plan {
            to: rule.recipients(),
            ..Plan::default()
        })
}

#[allow(clippy::too_many_arguments)]
fn make_emit(
    state: &ChildState,
    rule: Rule,
    episode: i32,
    step: Step,
    plan: &Plan,
    to: &[&'static str],
    due: Option<Date>,
    day: Date,
    policy: &Policy,
) -> Emit {
    // the residence a source reported, else (by policy) the municipality of the school
    let reported = state.residence_on(day).map(crate::state::gemeente_code);
    let of_school = || {
        plan.institution
            .as_ref()
            .and_then(|i| policy.routing.school_municipality.get(i))
            .cloned()
    };
    let (municipality, residence_derived_from) = match reported {
        Some(m) => (Some(m), None),
        None => match of_school() {
            Some(m) => (Some(m), Some("school")),
            None => (None, None),
        },
    };
    Emit {
        rule,
        step,
        episode: rule.episode_label(episode),
        institution: plan.institution.clone(),
        municipality,
        residence_derived_from,
        due,
        recipients: to.to_vec(),
        task: rule.task_sides().is_some(),
        facts: plan.facts.clone(),
        policy: plan
            .policy
            .iter()
            .filter_map(|k| Some(((*k).to_owned(), policy.value(k)?)))
            .collect(),
        routes: plan
            .routes
            .iter()
            .map(|(r, i)| ((*r).to_owned(), i.clone()))
            .collect(),
    }
}

/// Evaluates one child on `day`, appends the steps that fire (dated `fired_on`) and returns the
/// next day to look again.
fn evaluate(
    state: &mut ChildState,
    key: &Key,
    day: Date,
    fired_on: Date,
    policy: &Policy,
    out: &mut Vec<SignalEvent>,
) -> Option<Date> {
    let (wants, mut wake) = {
        let mut cx = Cx {
            state,
            day,
            policy,
            wake: Vec::new(),
        };
        let w = rules::evaluate(&mut cx);
        (w, cx.wake)
    };
    let mut emits: Vec<Emit> = Vec::new();
    let mut covered = vec![false; state.tracks.len()];
    for w in &wants {
        match state
            .tracks
            .iter()
            .position(|t| t.rule == w.rule && t.episode == w.episode)
        {
            Some(i) => {
                covered[i] = true;
                advance(state, i, w, day, policy, &mut emits);
            }
            None if w.open && !w.moot => {
                state.tracks.push(Track {
                    rule: w.rule,
                    episode: w.episode,
                    steps: 0,
                    remind: w.plan.remind,
                    due: w.plan.due,
                    escalate: w.plan.escalate,
                    progress: Default::default(),
                    moot_since: None,
                    closed: false,
                });
                let i = state.tracks.len() - 1;
                let t = &mut state.tracks[i];
                t.mark(Step::Opened);
                let due = t.due;
                emits.push(make_emit(
                    state,
                    w.rule,
                    w.episode,
                    Step::Opened,
                    &w.plan,
                    w.plan.to,
                    due,
                    day,
                    policy,
                ));
                advance(state, i, w, day, policy, &mut emits);
            }
            None => {}
        }
    }
    // an open signal whose episode no rule reports any more has become moot
    for (i, seen) in covered.into_iter().enumerate() {
        if !seen && !state.tracks[i].closed {
            let rule = state.tracks[i].rule;
            let w = Want {
                rule,
                episode: state.tracks[i].episode,
                open: false,
                moot: true,
                plan: Plan {
                    to: rule.recipients(),
                    ..Plan::default()
                },
            };
            advance(state, i, &w, day, policy, &mut emits);
        }
    }
    for t in state.tracks.iter().filter(|t| !t.closed) {
        wake.extend([t.remind, t.due, t.escalate].into_iter().flatten());
        if let Some(since) = t.moot_since {
            wake.push(plus_days(since, policy.handoff.cancel_grace_days));
        }
    }
    if !emits.is_empty() {
        let ck = child_key(key);
        let uncertain = state.birth.is_uncertain();
        out.extend(
            emits
                .into_iter()
                .map(|e| e.into_event(&ck, fired_on, uncertain)),
        );
    }
    wake.into_iter().filter(|d| *d > day).min()
}

/// Moves an open signal along: resolved or cancelled when moot, else the steps whose day came.
fn advance(
    state: &mut ChildState,
    i: usize,
    w: &Want,
    day: Date,
    policy: &Policy,
    emits: &mut Vec<Emit>,
) {
    if state.tracks[i].closed {
        return;
    }
    let task = w.rule.task_sides().is_some();
    if w.moot {
        let t = &mut state.tracks[i];
        let since = *t.moot_since.get_or_insert(day);
        if task && day < plus_days(since, policy.handoff.cancel_grace_days) {
            return; // a task is cancelled only when it stays moot
        }
        let step = if task {
            Step::Cancelled
        } else {
            Step::Resolved
        };
        t.mark(step);
        t.closed = true;
        t.progress.cancelled = task;
        let due = t.due;
        emits.push(make_emit(
            state, w.rule, w.episode, step, &w.plan, w.plan.to, due, day, policy,
        ));
        return;
    }
    state.tracks[i].moot_since = None;
    let t = state.tracks[i].clone();
    let late = t.due.is_some_and(|d| d <= day);
    let steps = [
        (Step::Reminded, t.remind.filter(|_| !late), w.plan.to),
        (Step::Overdue, t.due.filter(|_| w.plan.overdue), w.plan.to),
        (Step::Escalated, t.escalate, w.plan.escalate_to),
    ];
    for (step, when, to) in steps {
        if when.is_some_and(|d| d <= day) && !t.has(step) {
            state.tracks[i].mark(step);
            emits.push(make_emit(
                state, w.rule, w.episode, step, &w.plan, to, t.due, day, policy,
            ));
        }
    }
}

fn fold_school(state: &mut ChildState, data: &SchoolData, id: &str) {
    let id: Box<str> = id.into();
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

fn fold_voorschool(state: &mut ChildState, data: &VoorschoolData, id: &str) {
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

fn fold_leerplicht(
    state: &mut ChildState,
    data: &LeerplichtData,
    id: &str,
    at: Date,
) -> Result<(), Refusal> {
    let id: Box<str> = id.into();
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

fn fold_jeugdhulp(state: &mut ChildState, data: &JeugdhulpData, event_id: &str) {
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
