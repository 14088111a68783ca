//! Running a scenario through the engine: straight through, with stops restored by a silent
//! replay, or with stops restored from a snapshot, as the service restores.

use schakel_core::domain::events::SignalEvent;

use super::Scenario;
use crate::engine::EngineImage;
use crate::{Engine, Input};

impl Scenario {
    /// Runs every input through one engine: the signals, and the refused inputs' ids and
    /// reasons.
    pub fn run(&self) -> (Vec<SignalEvent>, Vec<(String, String)>) {
        let mut engine = Engine::new(self.policy.clone());
        let mut signals = Vec::new();
        let mut refused = Vec::new();
        for i in &self.inputs {
            match engine.apply(i) {
                Ok(s) => signals.extend(s),
                Err(r) => refused.push((i.fact_id().map_or("", |f| f.1).to_owned(), r.0)),
            }
        }
        (signals, refused)
    }

    /// Runs every input through one engine.
    pub fn run_straight(&self) -> Vec<SignalEvent> {
        self.run().0
    }

    /// Runs with a stop after each of `cuts` inputs: the next engine restores by replaying
    /// everything before the cut without emitting, as the service does on start.
    pub fn run_with_restores(&self, cuts: &[usize]) -> Vec<SignalEvent> {
        self.run_cut(cuts, |engine, inputs| {
            let mut e = Engine::new(engine.policy().clone());
            for i in inputs {
                let _silent = e.apply(i);
            }
            e
        })
    }

    /// Runs with a stop after each of `cuts` inputs, restoring from a snapshot taken at the
    /// stop (serialised and read back), as the service does when it has one.
    pub fn run_with_snapshots(&self, cuts: &[usize]) -> Vec<SignalEvent> {
        self.run_cut(cuts, |engine, _| {
            let bytes = crate::snapshot::encode_image(&engine.image());
            let image: EngineImage = crate::snapshot::decode_image(&bytes).expect("snapshot");
            Engine::from_image(engine.policy().clone(), image)
        })
    }

    fn run_cut(
        &self,
        cuts: &[usize],
        restore: impl Fn(&Engine, &[Input]) -> Engine,
    ) -> Vec<SignalEvent> {
        let mut out = Vec::new();
        let mut engine = Engine::new(self.policy.clone());
        let mut done = 0;
        for &cut in cuts.iter().chain(std::iter::once(&self.inputs.len())) {
            let cut = cut.min(self.inputs.len()).max(done);
            for i in &self.inputs[done..cut] {
                out.extend(engine.apply(i).unwrap_or_default());
            }
            done = cut;
            engine = restore(&engine, &self.inputs[..done]);
        }
        out
    }
}
