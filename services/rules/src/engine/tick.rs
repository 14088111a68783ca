//! Clock ticks: the timer index (day → children's slots) is drained up to the tick's day, and every
//! child due is evaluated. When ticks were missed (the clock was down), a child is evaluated on
//! each of its own wake-up days in between, so it gets exactly the steps daily ticks would have
//! given, each once, dated on the tick that caught up.

use jiff::civil::Date;
use schakel_core::domain::events::SignalEvent;

use super::tracks::evaluate;
use super::Engine;

impl Engine {
    pub(super) fn tick(&mut self, today: Date) -> Vec<SignalEvent> {
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
        for (at, slots) in due {
            // children in key order, so a restored engine (whose slots are in key order) emits
            // in the same order as the one that folded the facts
            for slot in self.children.in_key_order(slots) {
                let (key, state) = self.children.at_mut(slot);
                if state.wakeup != Some(at) {
                    continue; // stale: the child was rescheduled
                }
                let mut day = at.max(first_day);
                let next = loop {
                    let next = evaluate(state, key, day, today, &self.policy, &mut out);
                    match next {
                        Some(n) if n <= today => day = n,
                        other => break other,
                    }
                };
                state.wakeup = next;
                if let Some(n) = next {
                    self.timers.entry(n).or_default().push(slot);
                }
            }
        }
        out
    }
}
