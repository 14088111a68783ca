//! An import's checked chunks written to the log in order, and its progress there.

use jiff::Timestamp;
use schakel_core::domain::catalogue::{EventType, Topic};
use schakel_core::domain::events::ImportProgress;
use schakel_core::log::kafka::{self, CloudEvent, Outgoing};
use schakel_core::log::trace::TraceParent;

use super::ImportSummary;
use crate::csvimport::ImportKind;
use crate::problem::ApiError;
use crate::AppState;

/// The progress of an earlier run of this import, if any.
pub(super) async fn progress_of(
    st: &AppState,
    import_id: &str,
) -> Result<Option<ImportProgress>, ApiError> {
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

/// An import's counts at a point, for its progress record.
#[derive(Clone, Copy)]
pub(super) struct Counts {
    /// accepted in this run or an earlier one
    accepted: i64,
    rejected: i64,
}

impl Counts {
    pub(super) fn of(s: &ImportSummary) -> Self {
        Self {
            accepted: (s.accepted + s.skipped) as i64,
            rejected: s.tally.count as i64,
        }
    }
}

/// A checked chunk of an import, to be written.
pub(super) struct WriteChunk {
    pub accepted: Vec<crate::validate::Accepted>,
    pub rows: u64,
    pub kind: ImportKind,
    /// the import's id, the chunk's last line and the counts up to it, when progress is kept
    pub progress: Option<(String, u64, Counts)>,
    pub trace: TraceParent,
}

/// The chunks of an import being written: a chunk's identities are sealed (the vault's sync)
/// while the chunk before it is still being written, and everything of a chunk goes to the
/// log after everything of the one before it (identities, facts, then its progress), so the
/// progress in the log always names lines that are wholly written. At most two chunks are
/// under way.
#[derive(Default)]
pub(super) struct Writes {
    under_way: std::collections::VecDeque<tokio::task::JoinHandle<Result<(), ApiError>>>,
    /// the newest chunk's end: Some(true) once it was wholly written
    last: Option<tokio::sync::watch::Receiver<Option<bool>>>,
    /// the newest chunk's identities: true once sealed
    last_sealed: Option<tokio::sync::watch::Receiver<bool>>,
}

impl Writes {
    pub(super) async fn push(&mut self, st: AppState, chunk: WriteChunk) -> Result<(), ApiError> {
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
    pub(super) async fn finish(&mut self) -> Result<(), ApiError> {
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

pub(super) async fn write_progress(
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
