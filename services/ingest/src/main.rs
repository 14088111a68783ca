use std::process::ExitCode;

fn main() -> ExitCode {
    schakel_core::service::service_main(
        "schakel-ingest",
        "Accepts facts from source systems at POST /v1/events (see EVENTS.md), validates every\nfield, replaces BSNs by ChildKeys and answers 202 once the broker has every record.",
        |cfg, shutdown| async move {
            let listener = tokio::net::TcpListener::bind(&cfg.ingest.listen).await?;
            schakel_ingest::run(cfg, listener, shutdown).await
        },
    )
}
