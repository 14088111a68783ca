//! What a step of a signal says: its recipients, the municipality it is for, its dates, and
//! the facts and policy values that made it fire.

use jiff::civil::Date;

use crate::policy::Policy;
use crate::rules::{Plan, Rule};
use crate::signal::{Emit, Step};
use crate::state::ChildState;

#[allow(clippy::too_many_arguments)]
pub(super) fn make_emit(
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
