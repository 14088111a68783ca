//! The privacy scan of `make test`: every end-to-end environment leaves its topics (keys,
//! values and headers) and its log files in `$PRIVACY_SCAN_DIR`, and the `privacy-scan`
//! binary then fails if a BSN, onderwijsnummer or name from the fixtures, or one a test made
//! up, appears anywhere in them in plain text.
//!
//! A number counts when it stands on its own: nine digits not joined to another digit and not
//! inside a run of 32 or more hex characters (ids, keys and hashes are hex; a BSN written
//! anywhere in text or JSON is bounded by other characters), and not the fraction of a decimal
//! or a time stamp (`…:47.123456789Z`, where a nanosecond field is nine digits too); a number
//! next to a time stamp still counts. The tests draw their BSNs from 900 000 000 up
//! ([`crate::bsns`]), apart from the fixtures. Names are matched without regard to case.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use schakel_core::domain::ids::{Bsn, Onderwijsnummer};

/// Where the environments leave what they wrote; unset: no dumps (a single test run by hand).
pub const DIR_VAR: &str = "PRIVACY_SCAN_DIR";

/// The names the harness and the tests put into events.
pub const TEST_NAMES: &[&str] = &[
    "Testvoornaam",
    "Testachternaam",
    "Importvoornaam",
    "Importachternaam",
];

/// The scan directory, when the scan is on.
pub fn dir() -> Option<PathBuf> {
    std::env::var_os(DIR_VAR)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

/// Registers personal numbers a test made up, so the scan looks for them too.
pub fn register_numbers(tag: &str, numbers: &[String]) {
    let Some(dir) = dir() else { return };
    let dir = dir.join("secrets");
    let _ = std::fs::create_dir_all(&dir);
    let _ = std::fs::write(dir.join(format!("{tag}.txt")), numbers.join("\n"));
}

/// What the scan looks for.
#[derive(Debug, Default)]
pub struct Secrets {
    numbers: HashSet<String>,
    /// lower case
    names: Vec<String>,
}

fn is_personal_number(s: &str) -> bool {
    Bsn::parse(s).is_ok() || Onderwijsnummer::parse(s).is_ok()
}

impl Secrets {
    pub fn add_number(&mut self, n: &str) {
        if is_personal_number(n) {
            self.numbers.insert(n.to_owned());
        }
    }

    pub fn add_name(&mut self, name: &str) {
        let n = name.to_lowercase();
        if n.len() >= 6 && !self.names.contains(&n) {
            self.names.push(n);
        }
    }

    pub fn numbers(&self) -> usize {
        self.numbers.len()
    }

    pub fn names(&self) -> usize {
        self.names.len()
    }

    /// Every BSN and onderwijsnummer in the fixture files under `root`, and every name (the
    /// fixtures' names all start with `Fixture`).
    pub fn add_fixtures(&mut self, root: &Path) -> std::io::Result<()> {
        for file in files(root)? {
            let bytes = std::fs::read(&file)?;
            for (_, n) in numbers_in(&bytes) {
                self.add_number(n);
            }
            let text = String::from_utf8_lossy(&bytes);
            for word in text.split(|c: char| !c.is_alphanumeric()) {
                if word.starts_with("Fixture") && word.len() > "Fixture".len() {
                    self.add_name(word);
                }
            }
        }
        Ok(())
    }

    /// The numbers tests registered with [`register_numbers`] under `dir/secrets`.
    pub fn add_registered(&mut self, dir: &Path) -> std::io::Result<()> {
        let dir = dir.join("secrets");
        if !dir.exists() {
            return Ok(());
        }
        for file in files(&dir)? {
            for line in std::fs::read_to_string(file)?.lines() {
                self.add_number(line.trim());
            }
        }
        Ok(())
    }

    /// Where a secret appears in `bytes`: the offset and what it was, masked.
    pub fn find(&self, bytes: &[u8]) -> Vec<(usize, String)> {
        let mut out: Vec<(usize, String)> = numbers_in(bytes)
            .filter(|(_, n)| self.numbers.contains(*n))
            .map(|(at, n)| (at, format!("personal number ending in {}", &n[6..])))
            .collect();
        if !self.names.is_empty() {
            let lower = bytes.to_ascii_lowercase();
            for name in &self.names {
                if let Some(at) = memchr::memmem::find(&lower, name.as_bytes()) {
                    out.push((at, format!("name {}…", &name[..4])));
                }
            }
        }
        out
    }
}

/// Nine-digit numbers standing on their own in `bytes`, with their offsets.
fn numbers_in(bytes: &[u8]) -> impl Iterator<Item = (usize, &str)> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if !bytes[i].is_ascii_hexdigit() {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && bytes[i].is_ascii_hexdigit() {
            i += 1;
        }
        // a long hex run is an id, a key or a hash
        if i - start >= 32 {
            continue;
        }
        let run = &bytes[start..i];
        let mut j = 0;
        while j < run.len() {
            if !run[j].is_ascii_digit() {
                j += 1;
                continue;
            }
            let d = j;
            while j < run.len() && run[j].is_ascii_digit() {
                j += 1;
            }
            // the fraction of a decimal or a time stamp (`47.123456789Z`) is no number of a
            // person: nanoseconds are nine digits too
            let at = start + d;
            let fraction = at >= 2 && bytes[at - 1] == b'.' && bytes[at - 2].is_ascii_digit();
            if j - d == 9 && !fraction {
                let s = std::str::from_utf8(&run[d..j]).expect("ASCII digits");
                out.push((at, s));
            }
        }
    }
    out.into_iter()
}

/// Every file under `root`, recursively, in a stable order.
pub fn files(root: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut todo = vec![root.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d)? {
            let p = e?.path();
            if p.is_dir() {
                todo.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out.sort();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secrets() -> Secrets {
        let mut s = Secrets::default();
        s.add_number("999990007");
        s.add_number("123456789"); // not a BSN: ignored
        s.add_name("Fixtureachternaam");
        s
    }

    #[test]
    fn a_planted_number_or_name_is_found_wherever_it_stands() {
        let s = secrets();
        assert_eq!(s.numbers(), 1);
        for text in [
            "2026-01-01 INFO ingest: bsn=999990007 accepted",
            r#"{"child":{"bsn":"999990007"}}"#,
            "\u{12}999990007\u{0}",
            "9999900070 is longer, but 999990007 stands alone",
        ] {
            let found = s.find(text.as_bytes());
            assert_eq!(found.len(), 1, "{text}: {found:?}");
            assert_eq!(found[0].1, "personal number ending in 007");
        }
        let found = s.find(b"\x00\x22FIXTUREACHTERNAAM\x02");
        assert_eq!(found, vec![(2, "name fixt…".to_owned())]);
    }

    #[test]
    fn ids_keys_and_longer_numbers_are_not_findings() {
        let s = secrets();
        for text in [
            // a ChildKey that happens to hold the digits
            "key=ab12999990007cd0ab12999990007cd0ab12999990007cd0ab12999990007cd0",
            "9999900071",
            "1999990007",
            "123456789",
            "Fixture",
            // nanoseconds of a time stamp (ce_time)
            "ce_time=2026-12-01T22:29:47.999990007Z",
        ] {
            assert!(s.find(text.as_bytes()).is_empty(), "{text}");
        }
    }

    #[test]
    fn a_number_next_to_a_time_stamp_is_found_one_inside_it_is_not() {
        let s = secrets();
        for text in [
            "2026-12-01T22:29:47.123456Z 999990007",
            "2026-12-01T22:29:47Z999990007",
            "ce_time=2026-12-01T22:29:47.000000001Z,bsn=999990007",
            "2026-12-01T22:29:47.999990007Z 999990007",
        ] {
            let found = s.find(text.as_bytes());
            assert_eq!(found.len(), 1, "{text}: {found:?}");
            let at = found[0].0;
            assert_eq!(&text[at..at + 9], "999990007", "{text}");
            assert!(
                at >= 20,
                "the number after the time stamp, not in it: {text}"
            );
        }
        for text in [
            "2026-12-01T22:29:47.999990007Z",
            "2026-12-01T22:29:47.999990007+01:00",
            "took 1.999990007s",
        ] {
            assert!(s.find(text.as_bytes()).is_empty(), "{text}");
        }
    }

    #[test]
    fn the_tests_draw_numbers_the_fixtures_do_not_hold() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
        let mut fixtures = Secrets::default();
        fixtures.add_fixtures(&root).unwrap();
        for seed in [0, 1, 81, 82, 201, 298] {
            let all = crate::bsns(25_000, seed);
            assert!(
                all.last().unwrap() < &crate::bsns(1, seed + 1)[0],
                "seed {seed} overlaps"
            );
            for n in all.iter().step_by(97) {
                assert!(n.starts_with('9'), "{n}");
                assert!(fixtures.find(n.as_bytes()).is_empty(), "{n} is a fixture's");
            }
        }
    }

    #[test]
    fn the_fixtures_give_numbers_and_names() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
        let mut s = Secrets::default();
        s.add_fixtures(&root).unwrap();
        assert!(s.numbers() >= 10, "{}", s.numbers());
        assert!(s.names() >= 10, "{}", s.names());
        assert_eq!(s.find(b"999990081").len(), 1, "a BSN of verzuim.csv");
        assert_eq!(
            s.find(b"Fixturevoornaam").len(),
            1,
            "a name of the iJw fixtures"
        );
    }
}
