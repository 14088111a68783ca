//! A newcomer's first `schakel` command: inside the checkout without `SCHAKEL_CONFIG` it takes
//! the demo region's config and says so; outside, it says what is missing.

use std::path::Path;
use std::process::Command;

use schakel_e2e::bin;

fn schakel_in(dir: &Path, args: &[&str]) -> (i32, String) {
    let out = Command::new(bin("schakel"))
        .args(args)
        .current_dir(dir)
        .env_remove("SCHAKEL_CONFIG")
        .output()
        .expect("schakel runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn inside_the_checkout_the_demo_config_is_found_and_named() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    // a subdirectory, as a newcomer might stand in
    let (code, err) = schakel_in(
        &repo.join("services/cli"),
        &["directory", "diff", "/nonexistent/directory.toml"],
    );
    assert!(
        err.contains("SCHAKEL_CONFIG is not set; using the demo region's config")
            && err.contains("infra/demo/region.toml"),
        "{err}"
    );
    // the config loaded: the command got as far as its own argument
    assert!(err.contains("/nonexistent/directory.toml"), "{err}");
    assert_ne!(code, 2, "not a config error: {err}");
}

#[test]
fn outside_a_checkout_it_says_what_is_missing() {
    let dir = std::env::temp_dir();
    let (code, err) = schakel_in(&dir, &["directory", "diff", "x.toml"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("SCHAKEL_CONFIG is not set"), "{err}");
    assert!(!err.contains("demo"), "{err}");
}
