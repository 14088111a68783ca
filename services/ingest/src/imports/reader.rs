//! An import's body read as CSV on a blocking thread: body chunks in, chunks of row
//! outcomes out.

use std::io::Read;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use axum::body::Bytes;
use schakel_core::domain::ids::Pseudonymizer;

use crate::csvimport::{self, ImportKind, RowOutcome};
use crate::problem::FieldError;

/// Rows handed from the reader to the writer at a time.
const CHUNK_ROWS: usize = 500;

/// Feeds body chunks to a blocking reader; each chunk holds its part of the body budget until
/// the reader moves past it.
struct ChunkReader {
    rx: tokio::sync::mpsc::Receiver<Result<(Bytes, crate::body::Reserved), String>>,
    cur: Bytes,
    held: Option<crate::body::Reserved>,
    /// the body ended early (stalled, over budget, broken): what was read last is cut off
    failed: Arc<AtomicBool>,
}

impl Read for ChunkReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.cur.is_empty() {
            self.held = None;
            match self.rx.blocking_recv() {
                Some(Ok((b, held))) => {
                    self.cur = b;
                    self.held = Some(held);
                }
                Some(Err(e)) => {
                    self.failed.store(true, Ordering::SeqCst);
                    return Err(std::io::Error::other(e));
                }
                None => return Ok(0),
            }
        }
        let n = buf.len().min(self.cur.len());
        buf[..n].copy_from_slice(&self.cur[..n]);
        self.cur = self.cur.slice(n..);
        Ok(n)
    }
}

/// Rows read, with the line of the last.
pub(super) struct Chunk {
    pub last_line: u64,
    pub rows: Vec<(u64, RowOutcome)>,
}

/// Reads the body's chunks as CSV of `kind` on a blocking thread, handing the rows on in
/// chunks; ends with the number of rows read, or the header's problems.
pub(super) fn spawn(
    kind: ImportKind,
    chunk_rx: tokio::sync::mpsc::Receiver<Result<(Bytes, crate::body::Reserved), String>>,
    pseudo: Pseudonymizer,
    rows_tx: tokio::sync::mpsc::Sender<Chunk>,
) -> tokio::task::JoinHandle<Result<u64, Vec<FieldError>>> {
    let failed = Arc::new(AtomicBool::new(false));
    let cut = failed.clone();
    tokio::task::spawn_blocking(move || {
        let input = ChunkReader {
            rx: chunk_rx,
            cur: Bytes::new(),
            held: None,
            failed,
        };
        let mut rows = Vec::with_capacity(CHUNK_ROWS);
        let mut last = 0;
        let result = csvimport::read_csv(kind, input, &pseudo, |line, outcome| {
            if cut.load(Ordering::SeqCst) {
                // the row the body ended in is not a row: not reported, not counted as done,
                // so a resumed import reads it again
                return false;
            }
            last = line;
            rows.push((line, outcome));
            if rows.len() >= CHUNK_ROWS {
                let chunk = Chunk {
                    last_line: line,
                    rows: std::mem::take(&mut rows),
                };
                return rows_tx.blocking_send(chunk).is_ok();
            }
            true
        });
        if !rows.is_empty() {
            let _ = rows_tx.blocking_send(Chunk {
                last_line: last,
                rows,
            });
        }
        result
    })
}
