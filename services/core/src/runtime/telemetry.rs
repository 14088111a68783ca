//! Structured logs with `tracing`. `SCHAKEL_LOG` overrides the configured filter.

use tracing_subscriber::EnvFilter;

use crate::runtime::config::{LogFormat, TelemetryConfig};

/// Installs the global subscriber; logs go to stderr.
pub fn init(cfg: &TelemetryConfig) {
    let filter = std::env::var("SCHAKEL_LOG")
        .ok()
        .or_else(|| cfg.filter.clone())
        .unwrap_or_else(|| "info".into());
    let filter = EnvFilter::try_new(&filter).unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let result = match cfg.format {
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
        LogFormat::Text => builder.with_ansi(false).try_init(),
    };
    // a second init (tests) keeps the first subscriber
    let _ = result;
}
