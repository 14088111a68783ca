//! A contact's answer to a handoff task (acknowledged, completed, cancelled): checked against
//! the task's lifecycle, refused when it does not fit, else the step it makes.

use jiff::civil::Date;
use schakel_core::domain::events::{ResponseEvent, SignalEvent};
use schakel_core::domain::handoff::{Answer, Outcome, Sides};

use super::emit::make_emit;
use super::{child_key, date_of, key_of, Engine, Refusal};
use crate::policy::Policy;
use crate::rules::{self, Cx, Plan, Rule};
use crate::signal::{signal_id, Step};
use crate::state::{fnv64, ChildState};

impl Engine {
    pub(super) fn respond(&mut self, r: &ResponseEvent) -> Result<Vec<SignalEvent>, Refusal> {
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
        let Some(answer) = Answer::from_type(r.kind) else {
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
