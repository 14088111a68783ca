//! Runs every golden scenario straight through and with stops-and-restores.

use std::path::Path;

use schakel_rules::scenario::Scenario;

fn scenarios() -> Vec<(String, Scenario)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("golden dir")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    assert!(
        files.len() >= 9,
        "golden scenarios missing in {}",
        dir.display()
    );
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
fn golden_scenarios_fire_exactly_the_expected_signals() {
    let mut failures = Vec::new();
    for (name, s) in scenarios() {
        if let Err(e) = s.check(&s.run_straight()) {
            failures.push(format!("{name} ({}):\n{e}", s.description));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn stop_and_restore_gives_identical_signals() {
    for (name, s) in scenarios() {
        let straight = s.run_straight();
        let n = s.inputs.len();
        for cuts in [
            vec![n / 2],
            vec![n / 3, 2 * n / 3],
            vec![1, n.saturating_sub(1)],
        ] {
            let restored = s.run_with_restores(&cuts);
            assert_eq!(restored, straight, "{name}: restore at {cuts:?} differs");
        }
    }
}

#[test]
fn replaying_the_same_log_twice_gives_identical_signals() {
    for (name, s) in scenarios() {
        assert_eq!(s.run_straight(), s.run_straight(), "{name}");
    }
}
