//! Request bodies read within a deadline and within one memory budget shared by all requests
//! (`ingest.body_timeout`, `ingest.max_buffered_bytes`): a client that stalls is answered 408,
//! a body that does not fit while others are held is answered 503, and however many clients
//! stall mid-body, ingest holds no more than the budget for them.

use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use futures_util::StreamExt;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::problem::ApiError;

/// Bytes of bodies that may be held in memory at once, all requests together.
#[derive(Debug, Clone)]
pub struct Budget {
    sem: Arc<Semaphore>,
}

/// Bytes held against the budget; given back when dropped.
#[derive(Debug)]
pub struct Reserved {
    permit: OwnedSemaphorePermit,
    bytes: usize,
}

fn busy() -> ApiError {
    ApiError::Busy(
        "ingest holds as many request bodies as ingest.max_buffered_bytes allows; try again shortly"
            .into(),
    )
}

impl Budget {
    pub fn new(bytes: usize) -> Self {
        Self {
            sem: Arc::new(Semaphore::new(bytes.min(Semaphore::MAX_PERMITS))),
        }
    }

    /// Reserves `n` bytes now, or None when they are not free.
    pub fn try_reserve(&self, n: usize) -> Option<Reserved> {
        let permits = u32::try_from(n).ok()?;
        let permit = self.sem.clone().try_acquire_many_owned(permits).ok()?;
        Some(Reserved { permit, bytes: n })
    }

    /// Reserves `n` bytes, waiting up to `wait` for them to be given back.
    pub async fn reserve(&self, n: usize, wait: Duration) -> Option<Reserved> {
        let permits = u32::try_from(n).ok()?;
        let permit = tokio::time::timeout(wait, self.sem.clone().acquire_many_owned(permits))
            .await
            .ok()?
            .ok()?;
        Some(Reserved { permit, bytes: n })
    }

    /// Bytes free now (for tests and metrics).
    pub fn available(&self) -> usize {
        self.sem.available_permits()
    }
}

impl Reserved {
    /// Grows the reservation to `total` bytes, or None (and unchanged) when that does not fit.
    fn grow_to(&mut self, budget: &Budget, total: usize) -> Option<()> {
        if total > self.bytes {
            let more = budget.try_reserve(total - self.bytes)?;
            self.bytes = total;
            self.permit.merge(more.permit);
        }
        Some(())
    }
}

/// A body read whole, and the budget it holds until dropped.
#[derive(Debug)]
pub struct Held {
    pub bytes: Vec<u8>,
    _reserved: Reserved,
}

impl std::ops::Deref for Held {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.bytes
    }
}

/// Reads a whole body of at most `max` bytes (413 beyond) that must arrive within `timeout`
/// (408), holding its bytes against `budget` (503 when they do not fit). `declared` is the
/// request's `Content-Length`, reserved at once.
pub async fn read_all(
    body: Body,
    declared: Option<u64>,
    max: usize,
    budget: &Budget,
    timeout: Duration,
) -> Result<Held, ApiError> {
    let too_large = || ApiError::TooLarge(format!("the body is larger than {max} bytes"));
    let deadline = tokio::time::Instant::now() + timeout;
    let mut stream = body.into_data_stream();
    let declared = match declared {
        Some(n) if n > max as u64 => {
            drain(&mut stream, deadline).await;
            return Err(too_large());
        }
        Some(n) => n as usize,
        None => 0,
    };
    let mut reserved = budget.try_reserve(declared).ok_or_else(busy)?;
    let mut buf: Vec<u8> = Vec::with_capacity(declared);
    loop {
        let next = tokio::time::timeout_at(deadline, stream.next())
            .await
            .map_err(|_| {
                ApiError::Timeout(format!(
                    "the body did not arrive within {} s (ingest.body_timeout)",
                    timeout.as_secs()
                ))
            })?;
        let Some(chunk) = next else { break };
        let chunk = chunk.map_err(|_| ApiError::Malformed("the body could not be read".into()))?;
        let len = buf.len() + chunk.len();
        if len > max {
            drop(buf);
            drain(&mut stream, deadline).await;
            return Err(too_large());
        }
        if len > buf.capacity() {
            // grow as a Vec would, but never past the limit, and only with budget for it
            let cap = len.max(buf.capacity() * 2).min(max);
            reserved.grow_to(budget, cap).ok_or_else(busy)?;
            buf.reserve_exact(cap - buf.len());
        }
        buf.extend_from_slice(&chunk);
    }
    Ok(Held {
        bytes: buf,
        _reserved: reserved,
    })
}

/// Bytes of a refused body read and dropped before the answer, so a client that is still
/// sending can read it (a close with unread bytes resets the connection).
const DRAIN_MAX: usize = 16 * 1024 * 1024;

/// Reads and drops what follows of a body, up to [`DRAIN_MAX`] bytes, for at most 5 s and
/// never past `deadline`. Nothing of it is held.
async fn drain<S>(stream: &mut S, deadline: tokio::time::Instant)
where
    S: futures_util::Stream<Item = Result<Bytes, axum::Error>> + Unpin,
{
    let deadline = deadline.min(tokio::time::Instant::now() + Duration::from_secs(5));
    let mut dropped = 0;
    while dropped < DRAIN_MAX {
        match tokio::time::timeout_at(deadline, stream.next()).await {
            Ok(Some(Ok(c))) => dropped += c.len(),
            _ => return,
        }
    }
}

/// How a streamed body ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamEnd {
    /// every byte was handed on, or the reader stopped taking them
    Complete,
    /// the client paused longer than the body timeout
    Stalled,
    /// the budget had no room for the next chunk within the body timeout
    Busy,
    /// the connection failed mid-body
    Failed,
}

impl StreamEnd {
    /// The answer to a request whose body ended this way, if it is not complete.
    pub fn error(self, timeout: Duration) -> Option<ApiError> {
        match self {
            StreamEnd::Complete => None,
            StreamEnd::Stalled => Some(ApiError::Timeout(format!(
                "the body paused longer than {} s (ingest.body_timeout); send it again with the same Import-Id to resume",
                timeout.as_secs()
            ))),
            StreamEnd::Busy => Some(busy()),
            StreamEnd::Failed => Some(ApiError::Malformed("the body could not be read".into())),
        }
    }
}

/// Hands a body on chunk by chunk, each held against `budget` until the receiver drops it; a
/// pause longer than `idle` ends it. The receiver gets an error item when the body does not
/// end completely.
pub async fn forward(
    body: Body,
    budget: Budget,
    idle: Duration,
    tx: tokio::sync::mpsc::Sender<Result<(Bytes, Reserved), String>>,
) -> StreamEnd {
    let mut stream = body.into_data_stream();
    let end = loop {
        let chunk = match tokio::time::timeout(idle, stream.next()).await {
            Err(_) => break StreamEnd::Stalled,
            Ok(None) => return StreamEnd::Complete,
            Ok(Some(Err(_))) => break StreamEnd::Failed,
            Ok(Some(Ok(c))) => c,
        };
        let Some(held) = budget.reserve(chunk.len(), idle).await else {
            break StreamEnd::Busy;
        };
        if tx.send(Ok((chunk, held))).await.is_err() {
            return StreamEnd::Complete;
        }
    };
    let _ = tx.send(Err(format!("the body ended early: {end:?}"))).await;
    end
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn bodies_are_held_against_one_budget() {
        let budget = Budget::new(100);
        let a = read_all(
            Body::from(vec![1u8; 60]),
            Some(60),
            80,
            &budget,
            Duration::from_secs(1),
        )
        .await
        .unwrap();
        assert_eq!(a.len(), 60);
        assert_eq!(budget.available(), 40);
        let b = read_all(
            Body::from(vec![1u8; 60]),
            Some(60),
            80,
            &budget,
            Duration::from_secs(1),
        )
        .await;
        assert!(matches!(b, Err(ApiError::Busy(_))), "{b:?}");
        let c = read_all(
            Body::from(vec![1u8; 60]),
            None,
            80,
            &budget,
            Duration::from_secs(1),
        )
        .await;
        assert!(
            matches!(c, Err(ApiError::Busy(_))),
            "without a length too: {c:?}"
        );
        let d = read_all(
            Body::from(vec![1u8; 90]),
            Some(90),
            80,
            &budget,
            Duration::from_secs(1),
        )
        .await;
        assert!(matches!(d, Err(ApiError::TooLarge(_))), "{d:?}");
        drop(a);
        assert_eq!(budget.available(), 100, "given back");
        let e = read_all(
            Body::from(vec![1u8; 60]),
            None,
            80,
            &budget,
            Duration::from_secs(1),
        )
        .await
        .unwrap();
        assert_eq!(e.len(), 60);
    }

    #[tokio::test]
    async fn a_body_that_stalls_times_out() {
        let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(1);
        tx.send(Ok(Bytes::from_static(b"[{"))).await.unwrap();
        let body = Body::from_stream(tokio_stream(rx));
        let budget = Budget::new(100);
        let r = read_all(body, Some(10), 80, &budget, Duration::from_millis(100)).await;
        assert!(matches!(r, Err(ApiError::Timeout(_))), "{r:?}");
        assert_eq!(budget.available(), 100);
        drop(tx);
    }

    fn tokio_stream<T: Send + 'static>(
        mut rx: tokio::sync::mpsc::Receiver<T>,
    ) -> impl futures_util::Stream<Item = T> + Send + 'static {
        futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx))
    }
}
