//! `schakel accounts add|remove`: the monitor's local accounts (the embedded default, without
//! an OpenID provider), kept in `monitor.accounts_file` as argon2id hashes.

use std::io::BufRead;
use std::path::PathBuf;

use anyhow::Context;
use schakel_core::Config;
use schakel_monitor::auth::accounts;
use schakel_monitor::config::MonitorConfig;

fn file(cfg: &Config) -> anyhow::Result<PathBuf> {
    let m = MonitorConfig::from_config(cfg)?;
    m.accounts_file
        .map(PathBuf::from)
        .context("the region's [monitor] has no accounts_file (it logs in with OpenID Connect)")
}

/// The password: one line from standard input (so it never stands in a shell history).
fn password() -> anyhow::Result<String> {
    eprintln!(
        "password (one line on standard input, at least {} characters):",
        accounts::MIN_PASSWORD
    );
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}

pub fn add(cfg: &Config, login: &str) -> anyhow::Result<()> {
    let path = file(cfg)?;
    let new = accounts::add(&path, login, &password()?)?;
    println!(
        "{} {login} in {}",
        if new { "added" } else { "password changed for" },
        path.display()
    );
    Ok(())
}

pub fn remove(cfg: &Config, login: &str) -> anyhow::Result<()> {
    let path = file(cfg)?;
    if accounts::remove(&path, login)? {
        println!("removed {login} from {}", path.display());
    } else {
        println!("{login} has no account in {}", path.display());
    }
    Ok(())
}
