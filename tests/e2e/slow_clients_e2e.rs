//! Slow and greedy clients against ingest's HTTP server: connections that dribble their
//! headers are closed after `ingest.header_timeout`, a body that stalls or trickles is answered
//! 408 after `ingest.body_timeout`, connections over `ingest.max_connections` get 503, and
//! bodies held in memory stay within `ingest.max_buffered_bytes` (503 beyond), so a hundred
//! clients that stall mid-body cannot pin hundreds of megabytes.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use schakel_e2e::rss::{rss_mib, RssSampler};
use schakel_e2e::{
    assignment_event, bin, bsns, during, eventually_async, wait_for_port, Env, Proc, Region,
    JEUGDHULP_TOKEN,
};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Starts ingest with extra `SCHAKEL_INGEST__*` overrides; the process and its pid.
fn spawn_ingest_with(env: &Env, overrides: &[(&str, &str)]) -> (Proc, u32) {
    let log = env
        .dir
        .join(format!("schakel-ingest-{}.log", overrides.len()));
    let mut cmd = Command::new(bin("schakel-ingest"));
    cmd.env("SCHAKEL_CONFIG", &env.config_path)
        .env("SCHAKEL_LOG", "info")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).expect("log file"));
    for (k, v) in overrides {
        cmd.env(format!("SCHAKEL_INGEST__{}", k.to_ascii_uppercase()), v);
    }
    let child = cmd.spawn().expect("spawn ingest");
    let pid = child.id();
    let p = Proc::adopt("schakel-ingest", child, log);
    wait_for_port(env.ingest_port, Duration::from_secs(20));
    (p, pid)
}

fn head(port: u16, content_length: usize) -> String {
    format!(
        "POST /v1/events HTTP/1.1\r\nhost: 127.0.0.1:{port}\r\nauthorization: Bearer {JEUGDHULP_TOKEN}\r\ncontent-type: application/cloudevents-batch+json\r\ncontent-length: {content_length}\r\n\r\n"
    )
}

/// Reads what the server sends until it closes the connection or `limit` passes: the text
/// and whether it closed.
async fn read_until_closed(s: &mut TcpStream, limit: Duration) -> (String, bool) {
    let mut got = Vec::new();
    let deadline = tokio::time::Instant::now() + limit;
    let mut buf = [0u8; 4096];
    loop {
        match tokio::time::timeout_at(deadline, s.read(&mut buf)).await {
            Err(_) => return (String::from_utf8_lossy(&got).into_owned(), false),
            Ok(Ok(0)) | Ok(Err(_)) => return (String::from_utf8_lossy(&got).into_owned(), true),
            Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
        }
    }
}

fn status_of(response: &str) -> Option<u16> {
    response.strip_prefix("HTTP/1.1 ")?.get(..3)?.parse().ok()
}

/// Posts one event; the status, or 0 when the request got no answer.
async fn post_one(env: &Env, id: &str, bsn: &str) -> u16 {
    reqwest::Client::new()
        .post(env.ingest_url())
        .bearer_auth(JEUGDHULP_TOKEN)
        .header("content-type", "application/cloudevents-batch+json")
        .json(&json!([assignment_event(id, bsn, "2009-01-01", id)]))
        .send()
        .await
        .map_or(0, |r| r.status().as_u16())
}

#[tokio::test(flavor = "multi_thread")]
async fn dribbling_headers_are_closed_and_stalled_bodies_get_408() {
    let env = Region::new().start();
    let (_ingest, _) = spawn_ingest_with(&env, &[("header_timeout", "2s"), ("body_timeout", "3s")]);
    let port = env.ingest_port;

    // 100 connections sending their headers a byte a second
    let started = Instant::now();
    let mut dribblers = tokio::task::JoinSet::new();
    for _ in 0..100 {
        dribblers.spawn(async move {
            let mut s = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
            let request = head(port, 2);
            for b in request.as_bytes() {
                if s.write_all(&[*b]).await.is_err() {
                    return Some(Instant::now());
                }
                let (_, closed) = read_until_closed(&mut s, Duration::from_secs(1)).await;
                if closed {
                    return Some(Instant::now());
                }
            }
            None
        });
    }
    // a body that stalls after 10 of 1000 bytes, and one that trickles a byte a second
    let stall = tokio::spawn(async move {
        let mut s = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        s.write_all(head(port, 1000).as_bytes()).await.unwrap();
        s.write_all(b"[{\"specve").await.unwrap();
        let t = Instant::now();
        let (text, closed) = read_until_closed(&mut s, Duration::from_secs(15)).await;
        (text, closed, t.elapsed())
    });
    let trickle = tokio::spawn(async move {
        let mut s = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        s.write_all(head(port, 1000).as_bytes()).await.unwrap();
        let t = Instant::now();
        for _ in 0..20 {
            if s.write_all(b" ").await.is_err() {
                break;
            }
            let (text, closed) = read_until_closed(&mut s, Duration::from_secs(1)).await;
            if !text.is_empty() || closed {
                let (rest, closed) = read_until_closed(&mut s, Duration::from_secs(2)).await;
                return (text + &rest, closed, t.elapsed());
            }
        }
        (String::new(), false, t.elapsed())
    });

    let mut closed_after = Vec::new();
    while let Some(r) = dribblers.join_next().await {
        closed_after.push(r.unwrap().map(|t| t - started));
    }
    let open = closed_after.iter().filter(|c| c.is_none()).count();
    assert_eq!(
        open, 0,
        "{open} of 100 dribbling connections were never closed"
    );
    let slowest = closed_after.iter().flatten().max().unwrap();
    assert!(
        *slowest < Duration::from_secs(8),
        "dribbling connections closed after the 2 s header timeout, the last after {slowest:?}"
    );

    for (what, task) in [("stalled", stall), ("trickling", trickle)] {
        let (text, closed, after) = task.await.unwrap();
        assert_eq!(status_of(&text), Some(408), "a {what} body: {text:?}");
        assert!(text.contains("application/problem+json"), "{text}");
        assert!(
            text.contains("urn:nl:schakel:problem:request-timeout"),
            "{text}"
        );
        assert!(closed, "the connection of a {what} body is closed");
        assert!(
            after >= Duration::from_secs(2) && after < Duration::from_secs(8),
            "a {what} body is answered after the 3 s body timeout, not {after:?}"
        );
    }
    // and the server still serves
    assert_eq!(post_one(&env, "ok-1", &bsns(1, 191)[0]).await, 202);
}

#[tokio::test(flavor = "multi_thread")]
async fn connections_over_the_limit_get_503() {
    let env = Region::new().start();
    let (_ingest, _) =
        spawn_ingest_with(&env, &[("max_connections", "20"), ("body_timeout", "60s")]);
    let port = env.ingest_port;
    // 20 requests whose bodies never come hold every connection
    let mut held = Vec::new();
    for _ in 0..20 {
        let mut s = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        s.write_all(head(port, 2).as_bytes()).await.unwrap();
        held.push(s);
    }
    let mut s = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    s.write_all(head(port, 2).as_bytes()).await.unwrap();
    let (text, closed) = read_until_closed(&mut s, Duration::from_secs(5)).await;
    assert_eq!(status_of(&text), Some(503), "connection 21: {text:?}");
    assert!(text.contains("application/problem+json"), "{text}");
    assert!(
        text.contains("urn:nl:schakel:problem:too-many-connections"),
        "{text}"
    );
    assert!(text.to_ascii_lowercase().contains("retry-after:"), "{text}");
    assert!(closed, "and closed");

    // once they are gone, the server serves again
    drop(held);
    let b = bsns(1, 193);
    assert!(
        eventually_async(
            Duration::from_secs(10),
            Duration::from_millis(100),
            || async { post_one(&env, "ok-1", &b[0]).await == 202 }
        )
        .await,
        "not served again"
    );
}

/// What became of a client that sends most of a large body and then stalls.
enum Outcome {
    /// the server took the bytes and waits for the rest
    Stalled(TcpStream),
    /// the server answered (or closed) before the body was in
    Refused(String),
}

async fn send_and_stall(port: u16, body: usize, sent: usize) -> Outcome {
    let mut s = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    s.write_all(head(port, body).as_bytes()).await.unwrap();
    let chunk = vec![b' '; 64 * 1024];
    let mut done = 0;
    while done < sent {
        let n = chunk.len().min(sent - done);
        match tokio::time::timeout(Duration::from_secs(3), s.write_all(&chunk[..n])).await {
            Ok(Ok(())) => done += n,
            _ => {
                return Outcome::Refused(read_until_closed(&mut s, Duration::from_secs(2)).await.0)
            }
        }
    }
    let mut buf = [0u8; 1024];
    match tokio::time::timeout(Duration::from_millis(500), s.read(&mut buf)).await {
        Err(_) => Outcome::Stalled(s),
        Ok(Ok(n)) => Outcome::Refused(String::from_utf8_lossy(&buf[..n]).into_owned()),
        Ok(Err(_)) => Outcome::Refused(String::new()),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_hundred_stalled_bodies_stay_within_the_buffer_budget() {
    let env = Region::new().start();
    // the default budget (64 MiB) and connection limit; bodies may take a minute
    let (_ingest, pid) = spawn_ingest_with(&env, &[("body_timeout", "60s")]);
    let port = env.ingest_port;
    let b = bsns(2, 194);
    assert_eq!(post_one(&env, "ok-1", &b[0]).await, 202);
    let before = rss_mib(pid);

    // 100 clients send 3.9 MB of a 4 MB body each, then stall
    let mut clients = tokio::task::JoinSet::new();
    for _ in 0..100 {
        clients.spawn(send_and_stall(port, 4_000_000, 3_900_000));
    }
    let sampler = RssSampler::start(pid);
    let (mut stalled, mut refused) = (Vec::new(), Vec::new());
    while let Some(o) = clients.join_next().await {
        match o.unwrap() {
            Outcome::Stalled(s) => stalled.push(s),
            Outcome::Refused(text) => refused.push(text),
        }
    }
    // the bodies the server took sit in its memory while they stall: sampled for 3 s more
    during(
        Duration::from_secs(3),
        Duration::from_millis(100),
        || async {},
    )
    .await;
    let max_rss = sampler.stop().max(before);
    eprintln!(
        "ingest RSS {before:.0} MiB before, at most {max_rss:.0} MiB with 100 clients stalling mid-body; {} stalled, {} refused",
        stalled.len(),
        refused.len()
    );
    assert!(
        max_rss - before < 160.0,
        "100 stalled bodies of 3.9 MB grew ingest from {before:.0} to {max_rss:.0} MiB"
    );
    assert!(
        !refused.is_empty(),
        "bodies beyond the 64 MiB budget are refused"
    );
    for text in &refused {
        assert!(
            text.is_empty()
                || (status_of(text) == Some(503) && text.contains("urn:nl:schakel:problem:busy")),
            "a body beyond the budget: {text:?}"
        );
    }
    assert!(
        refused.iter().any(|t| status_of(t) == Some(503)),
        "refused with a 503 problem document"
    );

    // once the stalled clients are gone, the server serves again
    drop(stalled);
    assert!(
        eventually_async(
            Duration::from_secs(20),
            Duration::from_millis(200),
            || async { post_one(&env, "ok-2", &b[1]).await == 202 }
        )
        .await,
        "not served again"
    );
}
