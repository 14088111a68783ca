//! R6: verzuim × jeugdhulp, only where the region's policy allows the exchange.
//!
//! A verzuim melding (any kind) for a child with an active toewijzing: `jeugdteam`, once per
//! melding, without the kind or reason of the verzuim. Resolved when the melding is withdrawn.

use super::{Cx, Plan, Rule, Want};
use crate::state::{Fact, MeldingStatus};

/// A stable episode number for a meldingsnummer (the same in every version and on every run).
fn episode_of(nummer: &str) -> i32 {
    crate::state::fnv64(&[nummer.as_bytes()]) as i32
}

pub fn wants(cx: &mut Cx<'_>, out: &mut Vec<Want>) {
    if !cx.policy.verzuim_jeugdhulp.enabled {
        return;
    }
    let day = cx.day;
    let care = cx.state.assignments().find(|a| a.active_on(day));
    for f in &cx.state.facts {
        let Fact::Verzuim {
            nummer,
            first_absence,
            status,
            id,
            ..
        } = f
        else {
            continue;
        };
        let episode = episode_of(nummer);
        let live = *status == MeldingStatus::Open;
        let open = live && care.is_some() && *first_absence <= day;
        let moot = *status == MeldingStatus::Withdrawn;
        out.push(cx.want(Rule::R6, episode, open, moot, || {
            let mut facts = vec![id.to_string()];
            facts.extend(care.map(|a| a.id.to_string()));
            Plan {
                to: Rule::R6.recipients(),
                facts,
                policy: &["verzuim_jeugdhulp.enabled"],
                ..Plan::default()
            }
        }));
    }
}
