//! Waiting for a positive marker instead of sleeping: readiness, metrics, commits, follows.

use std::time::{Duration, Instant};

use schakel_core::domain::catalogue::Topic;

use crate::Env;

/// Polls `check` every 100 ms until it returns true or `limit` passes; the last answer.
pub async fn eventually(limit: Duration, mut check: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if check() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    check()
}

/// Polls the async `check` every `every` until it returns true or `limit` passes.
pub async fn eventually_async<F, Fut>(limit: Duration, every: Duration, mut check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if check().await {
            return true;
        }
        tokio::time::sleep(every).await;
    }
    check().await
}

/// Runs `step` every `every` for the whole of `period`: for what must hold throughout a window
/// ("not ready while the broker is away"); the step asserts.
pub async fn during<F, Fut>(period: Duration, every: Duration, mut step: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let mut beat = tokio::time::interval(every);
    let end = Instant::now() + period;
    while Instant::now() < end {
        beat.tick().await;
        step().await;
    }
}

/// The status `/readyz` of the service on `port` answers, 0 when it does not answer in 3 s.
pub async fn ready_status(port: u16) -> u16 {
    match reqwest::Client::new()
        .get(format!("http://127.0.0.1:{port}/readyz"))
        .timeout(Duration::from_secs(3))
        .send()
        .await
    {
        Ok(r) => r.status().as_u16(),
        Err(_) => 0,
    }
}

/// Polls `/readyz` until it answers `want`; how long that took.
pub async fn await_ready_status(port: u16, want: u16, limit: Duration) -> Duration {
    let started = Instant::now();
    let got = eventually_async(limit, Duration::from_millis(100), || async {
        ready_status(port).await == want
    })
    .await;
    assert!(
        got,
        "/readyz answered {}, not {want}, for {limit:?}",
        ready_status(port).await
    );
    started.elapsed()
}

impl Env {
    /// Whether a service's `/readyz` answers 200.
    pub async fn is_ready(port: u16) -> bool {
        let url = format!("http://127.0.0.1:{port}/readyz");
        matches!(reqwest::get(url).await, Ok(r) if r.status().as_u16() == 200)
    }
    /// Waits until a service's `/readyz` answers 200.
    pub async fn await_ready(port: u16, limit: Duration) {
        await_ready_status(port, 200, limit).await;
    }

    /// Waits until a metric series of the service on `port` reaches `n`.
    pub async fn await_metric(port: u16, series: &str, n: u64, limit: Duration) {
        let got = eventually_async(limit, Duration::from_millis(20), || async {
            Self::metric(port, series).await >= n
        })
        .await;
        assert!(got, "{series} on :{port} did not reach {n} in {limit:?}");
    }

    /// The value of one series (`name{labels}` as rendered) of a service's `/metrics`, 0 when
    /// absent or unreachable.
    pub async fn metric(port: u16, series: &str) -> u64 {
        let url = format!("http://127.0.0.1:{port}/metrics");
        let Ok(resp) = reqwest::get(url).await else {
            return 0;
        };
        let text = resp.text().await.unwrap_or_default();
        let prefix = format!("{series} ");
        text.lines()
            .find_map(|l| l.strip_prefix(prefix.as_str()))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0)
    }
    /// How many records of `topic` (logical name) the rules service has read, from its metrics.
    pub async fn rules_read(&self, topic: Topic) -> u64 {
        let series = format!("schakel_rules_records_total{{topic=\"{topic}\"}}");
        Self::metric(self.rules_port, &series).await
    }
    /// Waits until rules has read at least `n` records of `topic`. Kafka orders records only
    /// within a partition, so a tick written after some facts may reach rules before them
    /// (they would then count from the next tick): a test that ticks once waits for this.
    pub async fn await_rules_read(&self, topic: Topic, n: u64) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let got = self.rules_read(topic).await;
            if got >= n {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "rules read {got} of {n} records of {topic} in 30 s"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    /// Whether `service`'s consumer group (`rules` or `notify`) has committed every record of
    /// `topic` (logical name) that is in it now.
    pub fn committed_all(&self, service: &str, topic: Topic) -> bool {
        use schakel_core::log::kafka;
        let group = format!("{service}-{}", self.config.kafka.topic_prefix);
        let full = self.config.topic(topic);
        let Ok(ends) = kafka::high_watermarks(&self.config, &full) else {
            return false;
        };
        let consumer: rdkafka::consumer::BaseConsumer = match kafka::client_config(&self.config)
            .set("group.id", &group)
            .set("enable.auto.commit", "false")
            .create()
        {
            Ok(c) => c,
            Err(_) => return false,
        };
        let tps: Vec<(String, i32)> = ends.keys().map(|p| (full.clone(), *p)).collect();
        let Ok(committed) = kafka::committed(&consumer, &tps) else {
            return false;
        };
        ends.iter().all(|(p, end)| {
            *end == 0 || committed.get(&(full.clone(), *p)).is_some_and(|c| c >= end)
        })
    }
    /// Waits until `service` has processed and committed every record of `topic` there is now:
    /// for rules, every signal of it is written; for notify (on `hub.signals.v1`), every
    /// delivery of every signal is final. The positive marker a "nothing more happens" check
    /// waits for before it looks.
    pub async fn await_committed(&self, service: &str, topic: Topic) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if self.committed_all(service, topic) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{service} did not commit all of {topic} in 60 s"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    /// Waits until notify has followed `topic` (logical name: `hub.directory.v1`,
    /// `hub.deliveries.v1` or `hub.clock.v1`) up to where it ends now: it read the directory
    /// change or the tick, from its metric `schakel_notify_followed_offsets_total`.
    pub async fn await_notify_followed(&self, topic: Topic) {
        let full = self.config.topic(topic);
        let ends = schakel_core::log::kafka::high_watermarks(&self.config, &full)
            .expect("high watermarks");
        let want: i64 = ends.values().sum();
        let series = format!("schakel_notify_followed_offsets_total{{topic=\"{topic}\"}}");
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let got = Self::metric(self.notify_port, &series).await;
            if got as i64 >= want {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "notify followed {got} of {want} offsets of {topic} in 30 s"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}
