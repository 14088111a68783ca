use std::process::ExitCode;

fn main() -> ExitCode {
    schakel_core::runtime::service::service_main(
        "schakel-notify",
        "Delivers signals (hub.signals.v1) to the contact persons of the directory as signed\nwebhooks, retries on the schedule of EVENTS.md and records every outcome in hub.deliveries.v1.",
        |cfg| schakel_notify::config::NotifyConfig::from_config(cfg).map(drop),
        |cfg, shutdown| async move {
            let own = schakel_notify::config::NotifyConfig::from_config(&cfg)?;
            let listener = tokio::net::TcpListener::bind(&own.listen).await?;
            schakel_notify::service::run(cfg, listener, shutdown).await
        },
    )
}
