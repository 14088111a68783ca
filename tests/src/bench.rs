//! What the benchmarks (`tests/bench/`) share: their arguments, their statistics, where their
//! figures go, and posting batches from several clients at once.

use std::sync::{Arc, Mutex};

/// `--name N` on the command line (`_` allowed as a digit separator), or `default`.
pub fn arg(name: &str, default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.replace('_', "").parse().ok())
        .unwrap_or(default)
}

/// `--name TEXT` on the command line.
pub fn text_arg(name: &str) -> Option<String> {
    std::env::args().skip_while(|a| a != name).nth(1)
}

/// The middle value (the mean of the two middle ones for an even count).
pub fn median(v: &[f64]) -> f64 {
    let mut v = v.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// The value at fraction `p` of the sorted values (nearest rank).
pub fn percentile(v: &[f64], p: f64) -> f64 {
    let mut v = v.to_vec();
    v.sort_by(f64::total_cmp);
    v[((v.len() as f64 - 1.0) * p).round() as usize]
}

/// Writes the figures as JSON to `out`, making its directory first.
pub fn write_figures(out: &str, figures: &serde_json::Value) {
    if let Some(dir) = std::path::Path::new(out).parent() {
        std::fs::create_dir_all(dir).expect("the figures' directory");
    }
    let text = serde_json::to_string_pretty(figures).expect("json");
    std::fs::write(out, text + "\n").expect("write the figures");
}

/// Posts `batches` of CloudEvents to `url` with `token` from `clients` clients at once, each
/// taking the next batch when its last one was accepted (202).
pub async fn post_concurrently(
    url: &str,
    token: &'static str,
    batches: Vec<serde_json::Value>,
    clients: usize,
) {
    let client = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(600))
        .build()
        .expect("client");
    let queue = Arc::new(Mutex::new(batches));
    let mut workers = Vec::new();
    for _ in 0..clients {
        let (queue, client, url) = (queue.clone(), client.clone(), url.to_owned());
        workers.push(tokio::spawn(async move {
            loop {
                let Some(batch) = queue.lock().expect("queue").pop() else {
                    return;
                };
                let res = client
                    .post(&url)
                    .bearer_auth(token)
                    .header("content-type", "application/cloudevents-batch+json")
                    .json(&batch)
                    .send()
                    .await
                    .expect("ingest answers");
                assert_eq!(
                    res.status(),
                    202,
                    "{}",
                    res.text().await.unwrap_or_default()
                );
            }
        }));
    }
    for w in workers {
        w.await.expect("client");
    }
}
