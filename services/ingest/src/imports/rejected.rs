//! The complete list of an import's rejected rows, fetched as CSV.

use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};

use super::problem;
use crate::csvimport::ImportKind;
use crate::problem::ApiError;
use crate::rejections;
use crate::AppState;

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
