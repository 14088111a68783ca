//! `privacy-scan DIR FIXTURES`: fails if a BSN, onderwijsnummer or name from the fixtures (or
//! made up by a test) appears in plain text in any topic or log the end-to-end tests left in
//! DIR (see `schakel_e2e::privacy`). `make test` runs it after the tests.

use std::path::PathBuf;
use std::process::ExitCode;

use schakel_e2e::privacy::{files, Secrets, TEST_NAMES};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() != 2 || args[0].starts_with('-') {
        eprintln!(
            "usage: privacy-scan DIR FIXTURES\n\n\
             Scans every topic dump and log file the end-to-end tests left in DIR (run them with\n\
             PRIVACY_SCAN_DIR=DIR) for the BSNs, onderwijsnummers and names of the fixture\n\
             files under FIXTURES and of the tests. Exits 1 on any finding."
        );
        return ExitCode::from(2);
    }
    let (dir, fixtures) = (PathBuf::from(&args[0]), PathBuf::from(&args[1]));
    let mut secrets = Secrets::default();
    for n in TEST_NAMES {
        secrets.add_name(n);
    }
    if let Err(e) = secrets
        .add_fixtures(&fixtures)
        .and_then(|()| secrets.add_registered(&dir))
    {
        eprintln!("privacy scan: cannot read the secrets: {e}");
        return ExitCode::from(2);
    }
    let envs = dir.join("envs");
    let all = match files(&envs) {
        Ok(f) => f,
        Err(e) => {
            eprintln!(
                "privacy scan: nothing to scan in {} ({e}); were the tests run with PRIVACY_SCAN_DIR?",
                envs.display()
            );
            return ExitCode::from(2);
        }
    };
    let env_count = std::fs::read_dir(&envs).map_or(0, |d| d.count());
    let (mut topic_bytes, mut log_lines, mut findings) = (0usize, 0usize, 0usize);
    for file in &all {
        let Ok(bytes) = std::fs::read(file) else {
            continue;
        };
        if file.extension().is_some_and(|x| x == "log") {
            log_lines += bytes.iter().filter(|b| **b == b'\n').count();
        } else {
            topic_bytes += bytes.len();
        }
        for (at, what) in secrets.find(&bytes) {
            findings += 1;
            // the topic and offset of a record, when the finding is in a topic dump
            let head = &bytes[..at];
            let record = memchr::memmem::rfind(head, b"\n== ")
                .map(|s| {
                    let line = &bytes[s + 4..];
                    // "topic partition@offset key …": the first two words
                    let end = line
                        .iter()
                        .enumerate()
                        .filter(|(_, b)| **b == b' ')
                        .nth(1)
                        .map_or(0, |(i, _)| i);
                    format!(" (record {})", String::from_utf8_lossy(&line[..end]))
                })
                .unwrap_or_default();
            eprintln!(
                "privacy scan: {what} in {} at byte {at}{record}",
                file.strip_prefix(&dir).unwrap_or(file).display()
            );
        }
    }
    println!(
        "privacy scan: {env_count} test environments, {} KiB of topic records, {log_lines} log lines; \
         looked for {} personal numbers and {} names",
        topic_bytes / 1024,
        secrets.numbers(),
        secrets.names()
    );
    if findings > 0 {
        eprintln!("privacy scan: {findings} finding(s)");
        return ExitCode::from(1);
    }
    if env_count == 0 || secrets.numbers() == 0 {
        eprintln!("privacy scan: nothing was scanned; the scan would prove nothing");
        return ExitCode::from(2);
    }
    println!("privacy scan: no personal data in plain text");
    ExitCode::SUCCESS
}
