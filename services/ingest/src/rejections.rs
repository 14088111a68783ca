//! The rejected rows of an import, in bounds: the answer carries the first [`IN_FULL`] in full
//! and counts per column and reason for all; the complete list is written, as it comes, to a
//! CSV file the client fetches by `Import-Id` (`GET /v1/imports/{kind}/{importId}/rejected`).
//!
//! The list names line, column and reason, never a value of the row (a rejected row may hold
//! a BSN): reasons are our own messages, and [`reason`] blanks anything quoted and any long
//! number in them. Lists are bounded ([`LIST_MAX_BYTES`] each, [`LISTS_KEPT`] kept, none older
//! than [`LIST_DAYS`] days) and named by a hash of region, token, kind and Import-Id, so only
//! the token that ran the import finds its list.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::csvimport::Rejected;

/// Rejected rows the answer carries in full.
pub const IN_FULL: usize = 1000;
/// Distinct (column, reason) pairs counted one by one; the rest are counted together.
const REASONS_MAX: usize = 100;
/// Bytes of one list; the rejections after that are only counted.
pub const LIST_MAX_BYTES: u64 = 64 << 20;
/// Lists kept in the directory; the oldest go first.
const LISTS_KEPT: usize = 100;
/// Days a list is kept.
const LIST_DAYS: u64 = 7;

/// A reason of the answer's counts and the list, with nothing of the row's values: quoted
/// text and numbers of five digits or more are blanked out.
pub fn reason(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut quoted = false;
    let mut digits = String::new();
    let flush = |digits: &mut String, out: &mut String| {
        if digits.len() >= 5 {
            out.push('…');
        } else {
            out.push_str(digits);
        }
        digits.clear();
    };
    for c in message.chars() {
        if c == '"' {
            flush(&mut digits, &mut out);
            if !quoted {
                out.push_str("\"…");
            } else {
                out.push('"');
            }
            quoted = !quoted;
        } else if quoted {
            continue;
        } else if c.is_ascii_digit() {
            digits.push(c);
        } else {
            flush(&mut digits, &mut out);
            out.push(c);
        }
    }
    flush(&mut digits, &mut out);
    if quoted {
        out.push('"');
    }
    out
}

/// How many rows were rejected for one column and reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReasonCount {
    pub column: String,
    pub reason: String,
    pub rows: u64,
}

/// The rejections of an import as it goes, in bounded memory.
#[derive(Debug, Default)]
pub struct Tally {
    /// the first [`IN_FULL`] rejected rows, in line order
    pub first: Vec<Rejected>,
    /// rejected rows in all
    pub count: u64,
    reasons: BTreeMap<(String, String), u64>,
    /// rows with a reason beyond the first [`REASONS_MAX`] pairs
    other: u64,
}

impl Tally {
    pub fn add(&mut self, r: Rejected) {
        self.count += 1;
        let mut pairs: Vec<(String, String)> = r
            .errors
            .iter()
            .map(|e| (e.column.clone(), reason(&e.message)))
            .collect();
        pairs.sort();
        pairs.dedup();
        let mut counted_other = false;
        for pair in pairs {
            if let Some(n) = self.reasons.get_mut(&pair) {
                *n += 1;
            } else if self.reasons.len() < REASONS_MAX {
                self.reasons.insert(pair, 1);
            } else if !counted_other {
                self.other += 1;
                counted_other = true;
            }
        }
        if self.first.len() < IN_FULL {
            self.first.push(r);
        }
    }

    /// Rows per column and reason, most frequent first.
    pub fn by_reason(&self) -> Vec<ReasonCount> {
        let mut out: Vec<ReasonCount> = self
            .reasons
            .iter()
            .map(|((column, reason), rows)| ReasonCount {
                column: column.clone(),
                reason: reason.clone(),
                rows: *rows,
            })
            .collect();
        out.sort_by_key(|r| std::cmp::Reverse(r.rows));
        if self.other > 0 {
            out.push(ReasonCount {
                column: String::new(),
                reason: format!(
                    "other reasons (more than {REASONS_MAX} different ones): see the list"
                ),
                rows: self.other,
            });
        }
        out
    }
}

/// Where the lists live.
pub fn dir(own: &crate::config::IngestConfig) -> PathBuf {
    if own.rejections_dir.is_empty() {
        std::env::temp_dir().join("schakel-rejections")
    } else {
        PathBuf::from(&own.rejections_dir)
    }
}

/// The file of the list of an import: a hash of region (topic prefix), token, kind and id.
pub fn path(dir: &Path, region: &str, token: &str, kind: &str, import_id: &str) -> PathBuf {
    let mut h = Sha256::new();
    for part in [region, token, kind, import_id] {
        h.update(part.as_bytes());
        h.update([0x1f]);
    }
    dir.join(format!(
        "{}.csv",
        schakel_core::domain::ids::hex(&h.finalize()[..16])
    ))
}

/// One line of the list: line, column, reason.
pub type Line = (u64, String, String);

/// Writes a list on a blocking thread as the import goes; the list replaces the one of an
/// earlier run of the same import only when this run finishes. Dropped unfinished (the
/// import failed), it leaves nothing behind.
pub struct ListWriter {
    tx: Option<tokio::sync::mpsc::Sender<Vec<Line>>>,
    task: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
    partial: PathBuf,
    path: PathBuf,
}

impl ListWriter {
    /// Starts writing the list to `path` (under a temporary name until [`finish`]).
    ///
    /// [`finish`]: ListWriter::finish
    pub fn start(path: PathBuf) -> Self {
        let partial = path.with_extension(format!(
            "partial-{}",
            schakel_core::log::trace::random_hex(4)
        ));
        let (tx, mut rx) = tokio::sync::mpsc::channel::<Vec<Line>>(4);
        let file = partial.clone();
        let task = tokio::task::spawn_blocking(move || {
            if let Some(dir) = file.parent() {
                std::fs::create_dir_all(dir)?;
                tidy(dir);
            }
            let mut out = Counting {
                inner: std::io::BufWriter::new(std::fs::File::create(&file)?),
                written: 0,
            };
            writeln!(out, "line,column,reason")?;
            let mut full = false;
            while let Some(lines) = rx.blocking_recv() {
                if full {
                    continue;
                }
                for (line, column, reason) in lines {
                    writeln!(out, "{line},{},{}", field(&column), field(&reason))?;
                    if out.written >= LIST_MAX_BYTES {
                        writeln!(
                            out,
                            ",,\"the list stops here: it holds at most {} MiB; the answer counts every rejection\"",
                            LIST_MAX_BYTES >> 20
                        )?;
                        full = true;
                        break;
                    }
                }
            }
            out.inner.flush()
        });
        Self {
            tx: Some(tx),
            task: Some(task),
            partial,
            path,
        }
    }

    /// Adds the rejections of a chunk of rows.
    pub async fn add(&self, lines: Vec<Line>) {
        if let Some(tx) = &self.tx {
            let _ = tx.send(lines).await;
        }
    }

    /// Finishes the list and puts it in place; false (and no list) when it could not be
    /// written.
    pub async fn finish(mut self) -> bool {
        self.tx = None;
        let Some(task) = self.task.take() else {
            return false;
        };
        let written = matches!(task.await, Ok(Ok(())));
        let (partial, path) = (self.partial.clone(), self.path.clone());
        tokio::task::spawn_blocking(move || {
            if written && std::fs::rename(&partial, &path).is_ok() {
                return true;
            }
            tracing::warn!("the list of rejected rows could not be written");
            let _ = std::fs::remove_file(&partial);
            false
        })
        .await
        .unwrap_or(false)
    }
}

impl Drop for ListWriter {
    fn drop(&mut self) {
        self.tx = None;
        let (Some(task), Ok(rt)) = (self.task.take(), tokio::runtime::Handle::try_current()) else {
            return;
        };
        let partial = self.partial.clone();
        rt.spawn(async move {
            let _ = task.await;
            let _ = tokio::task::spawn_blocking(move || std::fs::remove_file(partial)).await;
        });
    }
}

/// Removes the list of an import (a run without rejections leaves none from an earlier run).
pub async fn remove(path: PathBuf) {
    let _ = tokio::task::spawn_blocking(move || std::fs::remove_file(path)).await;
}

/// A CSV field: quoted when it needs to be.
fn field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

struct Counting<W> {
    inner: W,
    written: u64,
}

impl<W: Write> Write for Counting<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.written += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// Removes lists older than [`LIST_DAYS`] days, unfinished ones older than a day, and the
/// oldest beyond [`LISTS_KEPT`].
fn tidy(dir: &Path) {
    let now = SystemTime::now();
    let age = |m: &std::fs::Metadata| {
        m.modified()
            .ok()
            .and_then(|t| now.duration_since(t).ok())
            .unwrap_or_default()
    };
    let mut lists = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let (p, Ok(m)) = (e.path(), e.metadata()) else {
            continue;
        };
        let name = e.file_name().to_string_lossy().into_owned();
        let a = age(&m);
        if name.contains(".partial-") {
            if a > Duration::from_secs(86_400) {
                let _ = std::fs::remove_file(&p);
            }
        } else if name.ends_with(".csv") {
            if a > Duration::from_secs(LIST_DAYS * 86_400) {
                let _ = std::fs::remove_file(&p);
            } else {
                lists.push((a, p));
            }
        }
    }
    lists.sort();
    for (_, p) in lists.into_iter().skip(LISTS_KEPT.saturating_sub(1)) {
        let _ = std::fs::remove_file(p);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::csvimport::CellError;

    #[test]
    fn reasons_never_carry_values() {
        assert_eq!(reason("fails the 11-proef"), "fails the 11-proef");
        assert_eq!(
            reason("unknown status \"ter kennisgeving 123456782\""),
            "unknown status \"…\""
        );
        assert_eq!(
            reason("unreadable row: record 5 (line: 6, byte: 123456)"),
            "unreadable row: record 5 (line: 6, byte: …)"
        );
        assert_eq!(
            reason("expected 10 columns, found 5"),
            "expected 10 columns, found 5"
        );
    }

    #[test]
    fn the_tally_keeps_the_first_in_full_and_counts_the_rest() {
        let mut t = Tally::default();
        for line in 2..2 + 2 * IN_FULL as u64 {
            let column = if line % 2 == 0 { "bsn" } else { "groep" };
            t.add(Rejected {
                line,
                errors: vec![
                    CellError {
                        column: column.into(),
                        message: "wrong".into(),
                    },
                    CellError {
                        column: column.into(),
                        message: "wrong".into(),
                    },
                ],
            });
        }
        assert_eq!(t.count, 2 * IN_FULL as u64);
        assert_eq!(t.first.len(), IN_FULL);
        assert_eq!(t.first[0].line, 2);
        let by = t.by_reason();
        assert_eq!(by.len(), 2);
        assert!(by.iter().all(|r| r.rows == IN_FULL as u64), "{by:?}");
        for i in 0..2 * REASONS_MAX {
            t.add(Rejected {
                line: 1,
                errors: vec![CellError {
                    column: format!("c{i}"),
                    message: "x".into(),
                }],
            });
        }
        let by = t.by_reason();
        assert_eq!(by.len(), REASONS_MAX + 1, "bounded");
        assert_eq!(by.last().unwrap().rows, REASONS_MAX as u64 + 2);
    }

    #[test]
    fn fields_are_quoted_when_needed() {
        assert_eq!(field("bsn"), "bsn");
        assert_eq!(field("must be one of po, vo"), "\"must be one of po, vo\"");
        assert_eq!(field("a \"b\""), "\"a \"\"b\"\"\"");
    }
}
