//! Runs every golden scenario straight through, with stops-and-restores by replay, and with
//! stops-and-restores from snapshots; all must give exactly the expected signals.

use std::path::Path;

use schakel_core::domain::events::SignalEvent;
use schakel_rules::rules::Rule;
use schakel_rules::scenario::Scenario;

fn scenarios() -> Vec<(String, Scenario)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("golden dir")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                Scenario::load(&p).unwrap(),
            )
        })
        .collect()
}

#[test]
fn every_rule_has_at_least_three_scenarios() {
    let names: Vec<String> = scenarios().into_iter().map(|(n, _)| n).collect();
    for rule in Rule::ALL {
        let prefix = format!("{}_", rule.id().to_lowercase());
        let n = names.iter().filter(|n| n.starts_with(&prefix)).count();
        assert!(n >= 3, "{} has {n} golden scenarios, needs 3", rule.id());
    }
}

#[test]
fn golden_scenarios_fire_exactly_the_expected_signals() {
    let mut failures = Vec::new();
    for (name, s) in scenarios() {
        let (signals, refused) = s.run();
        if let Err(e) = s.check(&signals).and(s.check_refusals(&refused)) {
            failures.push(format!("{name} ({}):\n{e}", s.description));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

fn cut_points(n: usize) -> [Vec<usize>; 3] {
    [
        vec![n / 2],
        vec![n / 3, 2 * n / 3],
        vec![1, n.saturating_sub(1)],
    ]
}

/// Every scenario, stopped at each set of cut points and restored the way `run` does (`how`
/// names it in a failure), gives exactly the signals of a straight run.
fn assert_restored_runs_equal_straight(
    how: &str,
    run: impl Fn(&Scenario, &[usize]) -> Vec<SignalEvent>,
) {
    for (name, s) in scenarios() {
        let straight = s.run_straight();
        for cuts in cut_points(s.inputs.len()) {
            let restored = run(&s, &cuts);
            assert_eq!(restored, straight, "{name}: {how} at {cuts:?} differs");
        }
    }
}

#[test]
fn stop_and_restore_gives_identical_signals() {
    assert_restored_runs_equal_straight("restore", Scenario::run_with_restores);
}

#[test]
fn restore_from_snapshots_gives_identical_signals() {
    assert_restored_runs_equal_straight("snapshot", Scenario::run_with_snapshots);
}

#[test]
fn replaying_the_same_log_twice_gives_identical_signals() {
    for (name, s) in scenarios() {
        assert_eq!(s.run_straight(), s.run_straight(), "{name}");
    }
}
