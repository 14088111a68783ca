use std::process::ExitCode;

fn main() -> ExitCode {
    schakel_core::runtime::service::service_main(
        "schakel-ingest",
        "Accepts facts from source systems at POST /v1/events (see EVENTS.md), validates every\nfield, replaces BSNs by ChildKeys and answers 202 once the broker has every record.",
        |cfg| {
            schakel_ingest::config::IngestConfig::from_config(cfg)?;
            schakel_core::vault::check_config(cfg)
        },
        |cfg, shutdown| async move {
            let own = schakel_ingest::config::IngestConfig::from_config(&cfg)?;
            let listener = tokio::net::TcpListener::bind(&own.listen).await?;
            schakel_ingest::run(cfg, listener, shutdown).await
        },
    )
}
