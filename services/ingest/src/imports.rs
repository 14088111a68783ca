//! `POST /v1/imports/{kind}`: a CSV export streamed in, read row by row on a blocking thread,
//! written in chunks (identities first, then facts), with the progress of an import that
//! carries an `Import-Id` recorded in `hub.imports.v1` after every chunk. Sending the same file
//! again with the same id skips what was already written; event ids derive from row content,
//! so even a chunk written twice (a crash between facts and progress) adds nothing twice.

use schakel_core::domain::catalogue::{EventType, Topic};
use std::io::Read;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{Path, Request, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use jiff::Timestamp;
use schakel_core::domain::events::ImportProgress;
use schakel_core::log::kafka::{self, CloudEvent, Outgoing};
use schakel_core::log::trace::TraceParent;
use serde::Serialize;

use crate::csvimport::{self, CellError, ImportKind, Rejected, RowOutcome};
use crate::problem::{ApiError, ErrorKind, FieldError};
use crate::rejections::{self, ListWriter, ReasonCount, Tally};
use crate::AppState;

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

struct Chunk {
    last_line: u64,
    rows: Vec<(u64, RowOutcome)>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ImportSummary {
    #[serde(skip_serializing_if = "Option::is_none")]
    import_id: Option<String>,
    kind: ImportKind,
    rows: u64,
    accepted: u64,
    /// rows of an earlier, interrupted run of the same import that were not written again
    skipped: u64,
    /// the first 1000 rejected rows in full, in line order
    rejected: Vec<Rejected>,
    /// rejected rows in all
    rejected_count: u64,
    /// rejected rows per column and reason
    rejected_by_reason: Vec<ReasonCount>,
    /// where the complete list of rejected rows is fetched as CSV (imports with an Import-Id)
    #[serde(skip_serializing_if = "Option::is_none")]
    rejected_list: Option<String>,
    #[serde(skip)]
    tally: Tally,
}

impl ImportSummary {
    /// Counts a rejected row, and adds it to the chunk's lines for the list.
    fn reject(&mut self, r: Rejected, lines: &mut Vec<rejections::Line>) {
        for e in &r.errors {
            lines.push((r.line, e.column.clone(), rejections::reason(&e.message)));
        }
        self.tally.add(r);
    }
}

pub async fn post_import(
    State(st): State<AppState>,
    Path(kind): Path<String>,
    req: Request,
) -> Response {
    match accept_import(&st, &kind, req).await {
        Ok(s) => (StatusCode::OK, Json(s)).into_response(),
        Err(e) => {
            let r = e.into_response();
            st.health.metrics.inc(
                "schakel_ingest_requests_refused_total",
                &format!("status=\"{}\"", r.status().as_u16()),
            );
            r
        }
    }
}

/// `GET /v1/imports/{kind}/{importId}/rejected`: the complete list of the rejected rows of
/// the last finished run of an import, as CSV (line, column, reason), for the token that ran
/// it.
pub async fn get_rejected(
    State(st): State<AppState>,
    Path((kind, import_id)): Path<(String, String)>,
    headers: axum::http::HeaderMap,
) -> Response {
    match rejected_list(&st, &kind, &import_id, &headers).await {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

async fn rejected_list(
    st: &AppState,
    kind: &str,
    import_id: &str,
    headers: &axum::http::HeaderMap,
) -> Result<Response, ApiError> {
    let scope = crate::authenticate(st, headers)?;
    let not_found = || {
        ApiError::NotFound(
            "no list of rejected rows of this import for this token (lists are kept a week)".into(),
        )
    };
    let kind = ImportKind::parse(kind).ok_or_else(not_found)?;
    if !scope.allows_kind(kind.source_kind()) {
        return Err(ApiError::Forbidden(problem(
            "kind",
            format!("this token may not read {} imports", kind.source_kind()),
        )));
    }
    let path = rejections::path(
        &rejections::dir(&st.ingest),
        &st.cfg.kafka.topic_prefix,
        &scope.name,
        kind.name(),
        import_id,
    );
    let file = tokio::fs::File::open(&path)
        .await
        .map_err(|_| not_found())?;
    let chunks = futures_util::stream::unfold(file, |mut f| async move {
        use tokio::io::AsyncReadExt;
        let mut buf = vec![0u8; 64 * 1024];
        match f.read(&mut buf).await {
            Ok(0) => None,
            Ok(n) => {
                buf.truncate(n);
                Some((Ok::<_, std::io::Error>(Bytes::from(buf)), f))
            }
            Err(e) => Some((Err(e), f)),
        }
    });
    Ok((
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"rejected.csv\"".to_owned(),
            ),
        ],
        Body::from_stream(chunks),
    )
        .into_response())
}

fn problem(field: &str, message: impl Into<String>) -> Vec<FieldError> {
    vec![FieldError::new(0, field, ErrorKind::Invalid, message)]
}

/// The progress of an earlier run of this import, if any.
async fn progress_of(st: &AppState, import_id: &str) -> Result<Option<ImportProgress>, ApiError> {
    let cfg = st.cfg.clone();
    let id = import_id.to_owned();
    tokio::task::spawn_blocking(move || {
        let reg = schakel_core::log::schemas::registry();
        let records = kafka::read_to_end(&cfg, &cfg.topic(Topic::IMPORTS))?;
        let mut last = None;
        for r in records {
            if r.key.as_deref() == Some(id.as_str()) {
                last = r
                    .value
                    .and_then(|v| reg.decode::<ImportProgress>(Topic::IMPORTS, &v).ok());
            }
        }
        Ok::<_, kafka::KafkaError>(last)
    })
    .await
    .map_err(|_| ApiError::Unavailable)?
    .map_err(|e| {
        tracing::warn!(error = %e, "cannot read import progress");
        ApiError::Unavailable
    })
}

async fn accept_import(st: &AppState, kind: &str, req: Request) -> Result<ImportSummary, ApiError> {
    let (parts, body) = req.into_parts();
    let scope = crate::authenticate(st, &parts.headers)?;
    crate::broker_reachable(st)?;
    let kind = ImportKind::parse(kind).ok_or_else(|| {
        ApiError::Invalid(problem(
            "kind",
            format!("unknown import kind; one of {}", ImportKind::ALL),
        ))
    })?;
    let ct = crate::content_type(&parts.headers);
    if ct != "text/csv" && ct != "application/csv" {
        return Err(ApiError::UnsupportedMediaType(ct));
    }
    if !scope.allows_kind(kind.source_kind()) {
        return Err(ApiError::Forbidden(problem(
            "kind",
            format!("this token may not write {} events", kind.source_kind()),
        )));
    }
    let import_id = match parts.headers.get("import-id").map(|v| v.to_str()) {
        None => None,
        Some(Ok(s))
            if !s.is_empty()
                && s.len() <= 100
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"._:-".contains(&b)) =>
        {
            Some(s.to_owned())
        }
        Some(_) => {
            return Err(ApiError::Invalid(problem(
                "Import-Id",
                "must be 1 to 100 letters, digits, '.', '_', ':' or '-'",
            )))
        }
    };
    let resume = match &import_id {
        Some(id) => progress_of(st, id)
            .await?
            .filter(|p| p.kind == kind.name())
            .map_or(0, |p| p.lines_done as u64),
        None => 0,
    };
    let trace = crate::trace_of(&parts);

    // body → blocking CSV reader → chunks of row outcomes → writer (here); the body's chunks
    // are held against the body budget, and a pause longer than ingest.body_timeout ends it
    let (chunk_tx, chunk_rx) = tokio::sync::mpsc::channel(16);
    let (rows_tx, mut rows_rx) = tokio::sync::mpsc::channel::<Chunk>(2);
    let forward = tokio::spawn(crate::body::forward(
        Body::new(body),
        st.budget.clone(),
        st.body_timeout,
        chunk_tx,
    ));
    let pseudo = st.pseudo.clone();
    let failed = Arc::new(AtomicBool::new(false));
    let cut = failed.clone();
    let reader = tokio::task::spawn_blocking(move || {
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
    });

    let mut summary = ImportSummary {
        import_id: import_id.clone(),
        kind,
        rows: 0,
        accepted: 0,
        skipped: 0,
        rejected: Vec::new(),
        rejected_count: 0,
        rejected_by_reason: Vec::new(),
        rejected_list: None,
        tally: Tally::default(),
    };
    // the complete list of this run's rejections, when the import has an id to fetch it by
    let list_path = import_id.as_deref().map(|id| {
        rejections::path(
            &rejections::dir(&st.ingest),
            &st.cfg.kafka.topic_prefix,
            &scope.name,
            kind.name(),
            id,
        )
    });
    let mut list: Option<ListWriter> = None;
    let mut writes = Writes::default();
    while let Some(chunk) = rows_rx.recv().await {
        let chunk_rows = chunk.rows.len() as u64;
        let mut accepted = Vec::new();
        let mut lines = Vec::new();
        if kind == ImportKind::Verzuim {
            // its rows are checked against the meldingen of every row before: those written
            writes.finish().await?;
            crate::write::await_meldingen(st, true).await?;
        }
        {
            // checked row by row against the meldingen before this chunk and the rows before
            let mut meldingen = st.meldingen.checker();
            for (line, outcome) in chunk.rows {
                summary.rows += 1;
                match outcome {
                    RowOutcome::Rejected(r) => summary.reject(r, &mut lines),
                    RowOutcome::Accepted(_) if line <= resume => summary.skipped += 1,
                    RowOutcome::Accepted(events) => {
                        let refusal = if crate::write::check_scope(&scope, &events).is_err() {
                            vec![CellError {
                                column: String::new(),
                                message: "this token may not write for the institution of this row"
                                    .into(),
                            }]
                        } else {
                            meldingen
                                .group(&events)
                                .into_iter()
                                .map(|r| CellError {
                                    column: kind.column_of(r.field),
                                    message: r.message,
                                })
                                .collect()
                        };
                        if refusal.is_empty() {
                            summary.accepted += 1;
                            accepted.extend(events);
                        } else {
                            summary.reject(
                                Rejected {
                                    line,
                                    errors: refusal,
                                },
                                &mut lines,
                            );
                        }
                    }
                }
            }
        }
        if let (Some(path), false) = (&list_path, lines.is_empty()) {
            list.get_or_insert_with(|| ListWriter::start(path.clone()))
                .add(lines)
                .await;
        }
        let progress = import_id
            .clone()
            .filter(|_| chunk.last_line > resume)
            .map(|id| (id, chunk.last_line, Counts::of(&summary)));
        writes
            .push(
                st.clone(),
                WriteChunk {
                    accepted,
                    rows: chunk_rows,
                    kind,
                    progress,
                    trace: trace.clone(),
                },
            )
            .await?;
    }
    writes.finish().await?;
    let read = reader.await.map_err(|_| ApiError::Unavailable)?;
    if read.is_err() {
        forward.abort(); // the header was refused: the rest of the body is not wanted
    }
    if let Some(e) = forward
        .await
        .ok()
        .and_then(|end| end.error(st.body_timeout))
    {
        tracing::info!(token = %scope.name, kind = ?kind, rows = summary.rows, accepted = summary.accepted, error = %e, trace_id = %trace.trace_id(), "import ended early");
        return Err(e);
    }
    let rows = read.map_err(ApiError::Invalid)?;
    debug_assert_eq!(rows, summary.rows);
    if let Some(id) = &import_id {
        write_progress(st, id, kind, u64::MAX / 2, Counts::of(&summary), true).await?;
    }
    match (list, list_path) {
        (Some(l), _) => {
            if l.finish().await {
                summary.rejected_list = import_id
                    .as_deref()
                    .map(|id| format!("/v1/imports/{}/{id}/rejected", kind.name()));
            }
        }
        (None, Some(stale)) => rejections::remove(stale).await,
        (None, None) => {}
    }
    let tally = std::mem::take(&mut summary.tally);
    summary.rejected_count = tally.count;
    summary.rejected_by_reason = tally.by_reason();
    summary.rejected = tally.first;
    tracing::info!(token = %scope.name, kind = ?kind, rows = summary.rows, accepted = summary.accepted, skipped = summary.skipped, rejected = summary.rejected_count, trace_id = %trace.trace_id(), "import read");
    Ok(summary)
}

/// An import's counts at a point, for its progress record.
#[derive(Clone, Copy)]
struct Counts {
    /// accepted in this run or an earlier one
    accepted: i64,
    rejected: i64,
}

impl Counts {
    fn of(s: &ImportSummary) -> Self {
        Self {
            accepted: (s.accepted + s.skipped) as i64,
            rejected: s.tally.count as i64,
        }
    }
}

/// A checked chunk of an import, to be written.
struct WriteChunk {
    accepted: Vec<crate::validate::Accepted>,
    rows: u64,
    kind: ImportKind,
    /// the import's id, the chunk's last line and the counts up to it, when progress is kept
    progress: Option<(String, u64, Counts)>,
    trace: TraceParent,
}

/// The chunks of an import being written: a chunk's identities are sealed (the vault's sync)
/// while the chunk before it is still being written, and everything of a chunk goes to the
/// log after everything of the one before it (identities, facts, then its progress), so the
/// progress in the log always names lines that are wholly written. At most two chunks are
/// under way.
#[derive(Default)]
struct Writes {
    under_way: std::collections::VecDeque<tokio::task::JoinHandle<Result<(), ApiError>>>,
    /// the newest chunk's end: Some(true) once it was wholly written
    last: Option<tokio::sync::watch::Receiver<Option<bool>>>,
    /// the newest chunk's identities: true once sealed
    last_sealed: Option<tokio::sync::watch::Receiver<bool>>,
}

impl Writes {
    async fn push(&mut self, st: AppState, chunk: WriteChunk) -> Result<(), ApiError> {
        if self.under_way.len() >= 2 {
            let oldest = self.under_way.pop_front().expect("two under way");
            oldest.await.map_err(|_| ApiError::Unavailable)??;
        }
        let before = Before {
            end: self.last.take(),
            sealed: self.last_sealed.take(),
        };
        let (done, end) = tokio::sync::watch::channel(None);
        let (sealed, sealed_rx) = tokio::sync::watch::channel(false);
        self.last = Some(end);
        self.last_sealed = Some(sealed_rx);
        self.under_way.push_back(tokio::spawn(async move {
            let result = write_chunk(&st, chunk, before, sealed).await;
            let _ = done.send(Some(result.is_ok()));
            result
        }));
        Ok(())
    }

    /// Waits until every chunk is written; the first failure is the answer.
    async fn finish(&mut self) -> Result<(), ApiError> {
        while let Some(h) = self.under_way.pop_front() {
            h.await.map_err(|_| ApiError::Unavailable)??;
        }
        Ok(())
    }
}

impl Drop for Writes {
    fn drop(&mut self) {
        // an import that ended with an error writes no later chunk
        for h in &self.under_way {
            h.abort();
        }
    }
}

/// Where the chunk before stands.
struct Before {
    end: Option<tokio::sync::watch::Receiver<Option<bool>>>,
    sealed: Option<tokio::sync::watch::Receiver<bool>>,
}

async fn write_chunk(
    st: &AppState,
    c: WriteChunk,
    before: Before,
    sealed_tx: tokio::sync::watch::Sender<bool>,
) -> Result<(), ApiError> {
    // sealed after the chunk before was: a child it named must be known to the vault here, or
    // a record of this chunk without a name could be sealed (and written after) the named one
    if let Some(mut sealed) = before.sealed {
        // closed: the chunk before ended without sealing, and its end fails this one below
        let _ = sealed.wait_for(|s| *s).await;
    }
    let sealed = crate::write::seal_identities(st, &c.accepted, "import").await?;
    let _ = sealed_tx.send(true);
    if let Some(mut before) = before.end {
        let end = before
            .wait_for(Option::is_some)
            .await
            .map(|e| *e)
            .unwrap_or(Some(false));
        if end != Some(true) {
            return Err(ApiError::Unavailable);
        }
    }
    st.identities.send(&st.producer, sealed, &c.trace).await?;
    crate::write::write_all(&st.producer, &c.accepted, &c.trace).await?;
    st.meldingen.record(&c.accepted);
    st.health.metrics.add(
        "schakel_ingest_events_accepted_total",
        "",
        c.accepted.len() as u64,
    );
    st.health.metrics.add(
        "schakel_ingest_import_rows_total",
        &format!("kind=\"{}\"", c.kind.name()),
        c.rows,
    );
    if let Some((id, last_line, counts)) = &c.progress {
        write_progress(st, id, c.kind, *last_line, *counts, false).await?;
    }
    Ok(())
}

async fn write_progress(
    st: &AppState,
    id: &str,
    kind: ImportKind,
    lines_done: u64,
    counts: Counts,
    finished: bool,
) -> Result<(), ApiError> {
    let p = ImportProgress {
        import_id: id.to_owned(),
        kind: kind.name().to_owned(),
        lines_done: lines_done as i64,
        accepted: counts.accepted,
        rejected: counts.rejected,
        finished,
        at: Timestamp::now(),
    };
    let ce = CloudEvent {
        id: format!("import-{id}-{lines_done}"),
        source: "urn:nl:schakel:ingest".into(),
        kind: EventType::ImportProgressed,
        time: p.at,
        trace: schakel_core::log::trace::TraceParent::new_root(),
    };
    st.producer
        .send(Outgoing {
            key: id,
            value: &p,
            event: &ce,
            partition: None,
        })
        .await
        .map(drop)
        .map_err(|e| {
            tracing::warn!(error = %e, "cannot record import progress");
            ApiError::Unavailable
        })
}
