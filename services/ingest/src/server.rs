//! Ingest's HTTP server: HTTP/1.1 with a bound on connections (`ingest.max_connections`, one
//! more is answered 503 and closed) and on how long a client may take to send its request
//! line and headers (`ingest.header_timeout`, then the connection is closed; the same bound
//! closes an idle kept-alive connection). Bodies are bounded where they are read (`body.rs`).

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use schakel_core::runtime::ops::Health;
use schakel_core::Shutdown;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::problem::ApiError;

/// Connections over the limit that are answered 503 at the same time; beyond, they are
/// closed without an answer.
const REFUSING_AT_ONCE: usize = 64;
/// How long open requests may take to finish after shutdown was asked for.
const DRAIN: Duration = Duration::from_secs(10);

/// The server's bounds.
#[derive(Debug, Clone)]
pub struct Limits {
    pub max_connections: usize,
    pub header_timeout: Duration,
}

/// Serves `app` on `listener` until shutdown, then lets open requests finish (up to 10 s).
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: Limits,
    health: Health,
    shutdown: Shutdown,
) -> std::io::Result<()> {
    let max = limits.max_connections.max(1);
    let open = Arc::new(Semaphore::new(max));
    let refusing = Arc::new(Semaphore::new(REFUSING_AT_ONCE));
    loop {
        let stream = tokio::select! {
            _ = shutdown.wait() => break,
            r = listener.accept() => match r {
                Ok((s, _)) => s,
                Err(e) => {
                    // out of file descriptors and the like: wait a moment, do not spin
                    tracing::warn!(error = %e, "cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        match open.clone().try_acquire_owned() {
            Ok(permit) => {
                tokio::spawn(connection(
                    stream,
                    app.clone(),
                    limits.header_timeout,
                    shutdown.clone(),
                    permit,
                ));
            }
            Err(_) => {
                health
                    .metrics
                    .inc("schakel_ingest_connections_refused_total", "");
                if let Ok(p) = refusing.clone().try_acquire_owned() {
                    tokio::spawn(refuse(stream, p));
                }
            }
        }
    }
    // every permit back: every connection closed
    let _ = tokio::time::timeout(DRAIN, open.acquire_many(max as u32)).await;
    Ok(())
}

async fn connection(
    stream: TcpStream,
    app: Router,
    header_timeout: Duration,
    shutdown: Shutdown,
    _open: OwnedSemaphorePermit,
) {
    let _ = stream.set_nodelay(true);
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(header_timeout);
    let conn = builder.serve_connection(TokioIo::new(stream), TowerToHyperService::new(app));
    tokio::pin!(conn);
    tokio::select! {
        r = conn.as_mut() => {
            if let Err(e) = r {
                tracing::debug!(error = %e, "connection ended");
            }
        }
        _ = shutdown.wait() => {
            conn.as_mut().graceful_shutdown();
            let _ = tokio::time::timeout(DRAIN, conn).await;
        }
    }
}

/// Answers a connection over the limit with 503 and closes it. The request head is read
/// first (briefly), so a client answers its own request; what follows is read and dropped
/// for a moment, so the close does not reset the answer away.
async fn refuse(mut stream: TcpStream, _slot: OwnedSemaphorePermit) {
    let answer = ApiError::TooManyConnections.raw_response();
    let mut buf = [0u8; 4096];
    let mut head = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(1), async {
        while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 16 * 1024 {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => head.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    let _ = tokio::time::timeout(Duration::from_secs(2), async {
        stream.write_all(&answer).await?;
        stream.shutdown().await?;
        let mut read = 0;
        while read < 64 * 1024 {
            match stream.read(&mut buf).await? {
                0 => break,
                n => read += n,
            }
        }
        Ok::<_, std::io::Error>(())
    })
    .await;
}
