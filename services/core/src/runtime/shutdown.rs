//! One way to stop: a cancellation token shared by every task, tripped by SIGINT/SIGTERM or by
//! the first task that fails, and a drain deadline after which the process exits anyway.

use std::future::Future;
use std::process::ExitCode;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

/// Exit codes of every Schakel binary.
pub mod exit {
    /// Stopped on request, everything drained.
    pub const OK: u8 = 0;
    /// A task failed at run time.
    pub const FAILED: u8 = 1;
    /// The configuration could not be loaded.
    pub const CONFIG: u8 = 2;
    /// Draining took longer than the deadline.
    pub const DRAIN_TIMEOUT: u8 = 3;
}

/// The shutdown signal handed to `run` functions.
#[derive(Clone, Default)]
pub struct Shutdown {
    token: CancellationToken,
}

impl Shutdown {
    pub fn new() -> Self {
        Self::default()
    }

    /// A shutdown of its own that also comes when this one does: for work that may stop on
    /// its own (a partition's deliveries, stopped when the partition moves).
    pub fn child(&self) -> Self {
        Self {
            token: self.token.child_token(),
        }
    }

    /// Asks every task to stop.
    pub fn trigger(&self) {
        self.token.cancel();
    }

    pub fn is_triggered(&self) -> bool {
        self.token.is_cancelled()
    }

    /// Resolves once shutdown was asked for.
    pub async fn wait(&self) {
        self.token.cancelled().await
    }

    pub fn token(&self) -> CancellationToken {
        self.token.clone()
    }

    /// Trips the token on SIGINT or SIGTERM.
    pub fn on_signals(&self) {
        let me = self.clone();
        tokio::spawn(async move {
            let ctrl_c = tokio::signal::ctrl_c();
            #[cfg(unix)]
            {
                let mut term =
                    tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                        .expect("SIGTERM handler");
                tokio::select! {
                    _ = ctrl_c => {},
                    _ = term.recv() => {},
                }
            }
            #[cfg(not(unix))]
            let _ = ctrl_c.await;
            tracing::info!("shutdown requested");
            me.trigger();
        });
    }
}

/// Runs a service to completion: on error, cancels everything and reports; after shutdown
/// was asked for, waits at most `drain` for the service to finish.
pub async fn supervise<F>(name: &str, shutdown: Shutdown, drain: Duration, service: F) -> ExitCode
where
    F: Future<Output = anyhow::Result<()>> + Send + 'static,
{
    let handle = tokio::spawn(service);
    let abort = handle.abort_handle();
    let outcome = tokio::select! {
        r = handle => Some(r),
        _ = async {
            shutdown.wait().await;
            tokio::time::sleep(drain).await;
        } => None,
    };
    match outcome {
        Some(Ok(Ok(()))) => {
            tracing::info!(service = name, "stopped");
            ExitCode::from(exit::OK)
        }
        Some(Ok(Err(e))) => {
            shutdown.trigger();
            tracing::error!(service = name, error = format!("{e:#}"), "failed");
            ExitCode::from(exit::FAILED)
        }
        Some(Err(e)) => {
            shutdown.trigger();
            tracing::error!(service = name, error = %e, "task panicked");
            ExitCode::from(exit::FAILED)
        }
        None => {
            abort.abort();
            tracing::error!(service = name, "drain deadline passed, exiting");
            ExitCode::from(exit::DRAIN_TIMEOUT)
        }
    }
}
