//! The one stylesheet of every page: the region's design-token theme and the NL Design System
//! components (fetched by `infra/monitor/assets.sh`), then Schakel's own layout, joined once at
//! start and served from our own origin.

use std::path::Path;

use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};

const OWN: &str = include_str!("../static/schakel.css");

/// The joined stylesheet.
#[derive(Debug, Clone)]
pub struct Assets {
    css: String,
    /// whether the NL Design System files were found
    pub themed: bool,
}

impl Assets {
    /// Joins `theme.css` and `components.css` from `dir` (when given and present) with our
    /// own styles.
    pub fn load(dir: Option<&Path>) -> Self {
        let read = |name: &str| dir.and_then(|d| std::fs::read_to_string(d.join(name)).ok());
        match (read("theme.css"), read("components.css")) {
            (Some(theme), Some(components)) => Self {
                css: format!("{theme}\n{components}\n{OWN}"),
                themed: true,
            },
            _ => {
                tracing::warn!(
                    dir = ?dir,
                    "no NL Design System styles found (run infra/monitor/assets.sh); pages use the plain styles"
                );
                Self {
                    css: OWN.to_owned(),
                    themed: false,
                }
            }
        }
    }

    pub fn response(&self) -> Response {
        let mut r = self.css.clone().into_response();
        let h = r.headers_mut();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/css; charset=utf-8"),
        );
        h.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("public, max-age=3600"),
        );
        h.insert(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        );
        r
    }
}
