//! RFC 9457 problem documents: every error of the API is mapped to HTTP here, once.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// One wrong field of one event in a batch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub index: usize,
    pub field: String,
    pub message: String,
    /// what is wrong, for callers that answer in codes (iJw retour codes); not in the
    /// problem document, whose `message` says it in words
    #[serde(skip)]
    pub kind: ErrorKind,
}

impl FieldError {
    pub fn new(
        index: usize,
        field: impl Into<String>,
        kind: ErrorKind,
        message: impl Into<String>,
    ) -> Self {
        Self {
            index,
            field: field.into(),
            message: message.into(),
            kind,
        }
    }
}

/// What kind of mistake a field holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// required and absent (or null)
    Missing,
    /// another JSON type than the field has: an object, a string, a number, a boolean
    WrongType,
    /// the right type but not a valid value: a BSN failing the 11-proef, a date of the wrong
    /// form, a word not in the list, a number out of range, too long
    Invalid,
    /// a date before the one it may not precede (an end before its start)
    Order,
    /// a key the type does not have
    Unknown,
    /// a value outside what the token may write
    OutOfScope,
    /// a type the catalogue does not have, or the event as a whole
    Event,
    /// the value does not fit what is known already (a task's state, a melding's status)
    Conflict,
}

/// Why a request was refused.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("missing or unknown bearer token")]
    Unauthorized,
    #[error("the token may not write these events")]
    Forbidden(Vec<FieldError>),
    #[error("the body is not valid JSON: {0}")]
    MalformedJson(String),
    #[error("{0}")]
    Malformed(String),
    #[error("unsupported content type {0:?}")]
    UnsupportedMediaType(String),
    #[error("{0}")]
    TooLarge(String),
    #[error("{} invalid field(s)", .0.len())]
    Invalid(Vec<FieldError>),
    #[error("the event log is unavailable")]
    Unavailable,
    #[error(
        "the change does not fit the current state (of the handoff task or the verzuim melding)"
    )]
    Conflict(Vec<FieldError>),
    #[error("{0}")]
    Timeout(String),
    #[error("{0}")]
    Busy(String),
    #[error("more connections than ingest.max_connections; try again shortly")]
    TooManyConnections,
    #[error("{0}")]
    NotFound(String),
}

#[derive(Serialize)]
struct Problem<'a> {
    #[serde(rename = "type")]
    kind: String,
    title: &'a str,
    status: u16,
    detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    errors: Option<&'a [FieldError]>,
}

impl ApiError {
    fn parts(&self) -> (StatusCode, &'static str, &'static str) {
        match self {
            ApiError::Unauthorized => (
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "Niet geautoriseerd",
            ),
            ApiError::Forbidden(_) => (
                StatusCode::FORBIDDEN,
                "out-of-scope",
                "Buiten het bereik van het token",
            ),
            ApiError::MalformedJson(_) => {
                (StatusCode::BAD_REQUEST, "malformed-json", "Ongeldige JSON")
            }
            ApiError::Malformed(_) => (
                StatusCode::BAD_REQUEST,
                "malformed-body",
                "Ongeldige inhoud",
            ),
            ApiError::UnsupportedMediaType(_) => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported-media-type",
                "Niet ondersteund contenttype",
            ),
            ApiError::TooLarge(_) => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "batch-too-large",
                "Batch te groot",
            ),
            ApiError::Invalid(_) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid-events",
                "Ongeldige gebeurtenissen",
            ),
            ApiError::Unavailable => (
                StatusCode::SERVICE_UNAVAILABLE,
                "log-unavailable",
                "Tijdelijk niet beschikbaar",
            ),
            ApiError::Conflict(_) => (
                StatusCode::CONFLICT,
                "illegal-transition",
                "Deze wijziging past niet bij de huidige stand",
            ),
            ApiError::Timeout(_) => (
                StatusCode::REQUEST_TIMEOUT,
                "request-timeout",
                "Verzoek niet op tijd ontvangen",
            ),
            ApiError::Busy(_) => (StatusCode::SERVICE_UNAVAILABLE, "busy", "Tijdelijk te druk"),
            ApiError::NotFound(_) => (StatusCode::NOT_FOUND, "not-found", "Niet gevonden"),
            ApiError::TooManyConnections => (
                StatusCode::SERVICE_UNAVAILABLE,
                "too-many-connections",
                "Tijdelijk te druk",
            ),
        }
    }

    /// The status and the problem document (JSON).
    fn document(&self) -> (StatusCode, Vec<u8>) {
        let (status, slug, title) = self.parts();
        let errors = match self {
            ApiError::Invalid(e) | ApiError::Forbidden(e) | ApiError::Conflict(e) => {
                Some(e.as_slice())
            }
            _ => None,
        };
        let body = Problem {
            kind: format!("urn:nl:schakel:problem:{slug}"),
            title,
            status: status.as_u16(),
            detail: self.to_string(),
            errors,
        };
        (
            status,
            serde_json::to_vec(&body).expect("problem serialises"),
        )
    }

    /// The whole HTTP/1.1 response, for a connection the server does not serve (over the
    /// connection limit): status line, headers, problem document; the connection closes.
    pub fn raw_response(&self) -> Vec<u8> {
        let (status, json) = self.document();
        let mut out = format!(
            "HTTP/1.1 {} {}\r\ncontent-type: application/problem+json\r\ncontent-length: {}\r\nconnection: close\r\n",
            status.as_u16(),
            status.canonical_reason().unwrap_or(""),
            json.len()
        );
        if status == StatusCode::SERVICE_UNAVAILABLE {
            out.push_str(&format!("retry-after: {RETRY_AFTER}\r\n"));
        }
        out.push_str("\r\n");
        let mut out = out.into_bytes();
        out.extend_from_slice(&json);
        out
    }
}

/// Seconds a client is asked to wait after a 503.
const RETRY_AFTER: &str = "5";

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, json) = self.document();
        let mut resp = (status, json).into_response();
        let h = resp.headers_mut();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if status == StatusCode::SERVICE_UNAVAILABLE {
            h.insert(header::RETRY_AFTER, HeaderValue::from_static(RETRY_AFTER));
        }
        if status == StatusCode::UNAUTHORIZED {
            h.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if matches!(self, ApiError::Timeout(_) | ApiError::Busy(_)) {
            // the rest of the body is not read: the connection cannot carry another request
            h.insert(header::CONNECTION, HeaderValue::from_static("close"));
        }
        resp
    }
}
