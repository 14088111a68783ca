use std::process::ExitCode;

fn main() -> ExitCode {
    schakel_core::service::service_main(
        "schakel-rules",
        "Folds source facts and clock ticks into transition signals (hub.signals.v1).\nOn start it restores its state by replaying its inputs up to the committed offsets.",
        |cfg, shutdown| async move {
            let listener = tokio::net::TcpListener::bind(&cfg.rules.listen).await?;
            schakel_rules::service::run(cfg, listener, shutdown).await
        },
    )
}
