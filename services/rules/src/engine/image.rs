//! The engine's state as a snapshot holds it: every child, and the last tick, without the
//! policy.

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use super::{Engine, Key};
use crate::policy::Policy;
use crate::state::ChildState;

/// What a snapshot holds: everything but the policy (which comes from the config).
#[derive(Serialize, Deserialize)]
pub struct EngineImage {
    pub last_tick: Option<Date>,
    pub children: Vec<(Key, ChildState)>,
}

impl Engine {
    /// The state without the policy, for a snapshot.
    pub fn image(&self) -> EngineImage {
        let mut children: Vec<(Key, ChildState)> =
            self.children.iter().map(|(k, s)| (*k, s.clone())).collect();
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
            let wakeup = s.wakeup;
            let (slot, state) = e.children.get_or_insert_with(k, || s);
            debug_assert_eq!(state.wakeup, wakeup, "an image holds each child once");
            if let Some(w) = wakeup {
                e.timers.entry(w).or_default().push(slot);
            }
        }
        e
    }
}
