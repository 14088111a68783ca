//! `POST /v1/imports/{kind}`: a CSV export streamed in, read row by row on a blocking thread,
//! written in chunks (identities first, then facts), with the progress of an import that
//! carries an `Import-Id` recorded in `hub.imports.v1` after every chunk. Sending the same file
//! again with the same id skips what was already written; event ids derive from row content,
//! so even a chunk written twice (a crash between facts and progress) adds nothing twice.

use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;

use crate::csvimport::{CellError, ImportKind, Rejected, RowOutcome};
use crate::problem::{ApiError, ErrorKind, FieldError};
use crate::rejections::{self, ListWriter, ReasonCount, Tally};
use crate::AppState;

mod reader;
mod rejected;
mod writes;
use reader::Chunk;
pub use rejected::get_rejected;
use writes::{progress_of, write_progress, Counts, WriteChunk, Writes};

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

fn problem(field: &str, message: impl Into<String>) -> Vec<FieldError> {
    vec![FieldError::new(0, field, ErrorKind::Invalid, message)]
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
    let reader = reader::spawn(kind, chunk_rx, st.pseudo.clone(), rows_tx);

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
