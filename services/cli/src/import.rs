//! `schakel import KIND FILE`: streams a CSV export to ingest's `POST /v1/imports/{kind}`
//! with a progress bar. The import id is the file's SHA-256, so running the same command
//! again after an interruption skips what was already written.

use std::io::{IsTerminal, Write};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use futures_util::stream;
use schakel_core::domain::ids::hex;
use schakel_core::Config;
use sha2::{Digest, Sha256};
use tokio::io::AsyncReadExt;

const KINDS: &[&str] = &[
    "enrolments",
    "placements",
    "verzuim",
    "vrijstellingen",
    "thuiszitters",
];

fn file_id(path: &Path, kind: &str) -> anyhow::Result<String> {
    let mut f = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let mut h = Sha256::new();
    std::io::copy(&mut f, &mut h)?;
    Ok(format!("{kind}-{}", hex(&h.finalize()[..16])))
}

fn human(bytes: u64) -> String {
    match bytes {
        b if b >= 1 << 30 => format!("{:.1} GiB", b as f64 / (1u64 << 30) as f64),
        b if b >= 1 << 20 => format!("{:.1} MiB", b as f64 / (1u64 << 20) as f64),
        b if b >= 1 << 10 => format!("{:.1} KiB", b as f64 / 1024.0),
        b => format!("{b} B"),
    }
}

fn draw(sent: u64, total: u64, started: Instant) {
    let pct = (sent * 100).checked_div(total).unwrap_or(100);
    let filled = (pct / 4) as usize;
    let rate = sent as f64 / started.elapsed().as_secs_f64().max(0.001);
    eprint!(
        "\r[{}{}] {pct:>3}%  {} of {}  {}/s   ",
        "#".repeat(filled),
        " ".repeat(25 - filled),
        human(sent),
        human(total),
        human(rate as u64)
    );
    let _ = std::io::stderr().flush();
}

pub async fn run(
    cfg: &Config,
    kind: &str,
    file: &Path,
    url: Option<String>,
    token: String,
) -> anyhow::Result<()> {
    if !KINDS.contains(&kind) {
        bail!("unknown kind {kind:?}; one of {}", KINDS.join(", "));
    }
    let total = std::fs::metadata(file)
        .with_context(|| format!("reading {}", file.display()))?
        .len();
    let id = file_id(file, kind)?;
    let base = match url {
        Some(u) => u,
        None => format!(
            "http://{}",
            schakel_ingest::config::IngestConfig::from_config(cfg)?.listen
        ),
    };
    let endpoint = format!("{}/v1/imports/{kind}", base.trim_end_matches('/'));
    let sent = Arc::new(AtomicU64::new(0));
    let f = tokio::fs::File::open(file).await?;
    let counter = sent.clone();
    let body = stream::unfold(f, move |mut f| {
        let counter = counter.clone();
        async move {
            let mut buf = vec![0u8; 256 * 1024];
            match f.read(&mut buf).await {
                Ok(0) => None,
                Ok(n) => {
                    buf.truncate(n);
                    counter.fetch_add(n as u64, Ordering::Relaxed);
                    Some((Ok::<_, std::io::Error>(buf), f))
                }
                Err(e) => Some((Err(e), f)),
            }
        }
    });
    let started = Instant::now();
    let tty = std::io::stderr().is_terminal();
    let progress = {
        let sent = sent.clone();
        tokio::spawn(async move {
            let mut last_pct = u64::MAX;
            loop {
                tokio::time::sleep(Duration::from_millis(200)).await;
                let s = sent.load(Ordering::Relaxed);
                let pct = (s * 100).checked_div(total).unwrap_or(100);
                if tty {
                    draw(s, total, started);
                } else if pct / 10 != last_pct / 10 {
                    eprintln!("sent {pct}% ({} of {})", human(s), human(total));
                }
                last_pct = pct;
            }
        })
    };
    eprintln!(
        "importing {} ({}) as {kind}; import id {id}",
        file.display(),
        human(total)
    );
    let resp = reqwest::Client::new()
        .post(&endpoint)
        .bearer_auth(token)
        .header("content-type", "text/csv")
        .header("import-id", &id)
        .body(reqwest::Body::wrap_stream(body))
        .send()
        .await;
    progress.abort();
    if tty {
        draw(sent.load(Ordering::Relaxed), total, started);
        eprintln!();
    }
    let resp = resp
        .with_context(|| format!("sending to {endpoint} (run the same command again to resume)"))?;
    let status = resp.status();
    let body: serde_json::Value = resp
        .json()
        .await
        .context("reading the answer (run the same command again to resume)")?;
    if !status.is_success() {
        let mut msg = format!(
            "{status}: {}",
            body["detail"].as_str().unwrap_or("import refused")
        );
        for e in body["errors"].as_array().into_iter().flatten() {
            msg.push_str(&format!(
                "\n  {}: {}",
                e["field"].as_str().unwrap_or(""),
                e["message"].as_str().unwrap_or("")
            ));
        }
        bail!(msg);
    }
    let rejected = body["rejected"].as_array().cloned().unwrap_or_default();
    for r in &rejected {
        for e in r["errors"].as_array().into_iter().flatten() {
            let col = e["column"].as_str().unwrap_or("");
            let sep = if col.is_empty() { "" } else { ": " };
            println!(
                "line {}: {col}{sep}{}",
                r["line"],
                e["message"].as_str().unwrap_or("")
            );
        }
    }
    // the answer lists the first rejections in full; the count and the list cover them all
    let count = body["rejectedCount"]
        .as_u64()
        .unwrap_or(rejected.len() as u64);
    if count > rejected.len() as u64 {
        println!("… and {} more rejected rows", count - rejected.len() as u64);
    }
    if let Some(list) = body["rejectedList"].as_str().filter(|_| count > 0) {
        println!("every rejected row (line, column, reason): {list}");
    }
    println!(
        "{} rows: {} accepted, {} already imported earlier, {} rejected ({:.1} s)",
        body["rows"],
        body["accepted"],
        body["skipped"],
        count,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
