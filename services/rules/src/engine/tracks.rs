//! The signals of one child on one day: what the rules want is matched with the child's
//! tracks, so a signal opens once, takes each timed step (reminded, overdue, escalated) once,
//! and is resolved or cancelled when it has become moot.

use jiff::civil::Date;
use schakel_core::domain::events::SignalEvent;

use super::emit::make_emit;
use super::{child_key, Key};
use crate::policy::Policy;
use crate::rules::{self, Cx, Plan, Want};
use crate::signal::{Emit, Step};
use crate::state::{plus_days, ChildState, Track};

/// next day to look again.
pub(super) fn evaluate(
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
                // a second want of this episode in the same evaluation (two facts ending the
                // same enrolment) finds the new track, as it finds one opened earlier
                covered.push(true);
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
