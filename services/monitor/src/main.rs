use std::process::ExitCode;

fn main() -> ExitCode {
    schakel_core::runtime::service::service_main(
        "schakel-monitor",
        "Serves the contact persons' side of Schakel: the page behind every notification's link\n(audited reads of a child), the acknowledge and complete links, and the inbox per role.",
        |cfg| schakel_monitor::config::Settings::from_config(cfg.clone()).map(drop),
        |cfg, shutdown| async move {
            let own = schakel_monitor::config::MonitorConfig::from_config(&cfg)?;
            let listener = tokio::net::TcpListener::bind(&own.listen).await?;
            schakel_monitor::run(cfg, listener, shutdown).await
        },
    )
}
