use std::process::ExitCode;

fn main() -> ExitCode {
    schakel_core::runtime::service::service_main(
        "schakel-rules",
        "Folds source facts and clock ticks into transition signals (hub.signals.v1).\nOn start it restores its state by replaying its inputs up to the committed offsets.",
        |cfg| schakel_rules::config::Settings::from_config(cfg).map(drop),
        |cfg, shutdown| async move {
            let own = schakel_rules::config::Settings::from_config(&cfg)?;
            let listener = tokio::net::TcpListener::bind(&own.rules.listen).await?;
            schakel_rules::service::run(cfg, listener, shutdown).await
        },
    )
}
