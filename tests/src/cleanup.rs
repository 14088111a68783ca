//! What an environment leaves behind: its records and logs for the privacy scan, its logs'
//! tails when a test failed, and nothing on the shared broker.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use schakel_core::Config;

use crate::region::Broker;
use crate::{privacy, random_suffix, Env};

impl Env {
    /// Leaves every record of this environment's topics (key, headers, value) and every log
    /// file in `scan/envs/<name>/` for the privacy scan.
    fn leave_for_privacy_scan(&self, scan: &Path) {
        let name = self
            .dir
            .file_name()
            .map_or_else(|| "env".into(), |n| n.to_string_lossy().into_owned());
        let out = scan.join("envs").join(name);
        if std::fs::create_dir_all(out.join("logs")).is_err() {
            return;
        }
        for log in std::fs::read_dir(&self.dir)
            .into_iter()
            .flatten()
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "log"))
        {
            if let Some(f) = log.file_name() {
                let _ = std::fs::copy(&log, out.join("logs").join(f));
            }
        }
        // the mails an SMTP server of the test received
        let maildir = self.dir.join("maildir");
        for sub in ["new", "cur"] {
            for mail in std::fs::read_dir(maildir.join(sub))
                .into_iter()
                .flatten()
                .flatten()
            {
                let _ = std::fs::create_dir_all(out.join("mail"));
                let _ = std::fs::copy(mail.path(), out.join("mail").join(mail.file_name()));
            }
        }
        if self.broker.readable() {
            let dump = match dump_topics(&self.config) {
                Ok(d) => d,
                Err(e) => format!("topics could not be read: {e}\n").into_bytes(),
            };
            let _ = std::fs::write(out.join("topics.bin"), dump);
        }
    }
}

/// Every record of every topic with the config's prefix: topic, key, headers and value.
fn dump_topics(cfg: &Config) -> Result<Vec<u8>, rdkafka::error::KafkaError> {
    use rdkafka::consumer::{BaseConsumer, Consumer};
    use rdkafka::message::{Headers, Message};
    let consumer: BaseConsumer = schakel_core::log::kafka::client_config(cfg)
        .set("group.id", format!("privacy-scan-{}", random_suffix()))
        .set("enable.auto.commit", "false")
        .create()?;
    let md = consumer.fetch_metadata(None, Duration::from_secs(10))?;
    let mut tpl = rdkafka::TopicPartitionList::new();
    let mut remaining = std::collections::HashMap::new();
    for t in md.topics() {
        if !t.name().starts_with(&cfg.kafka.topic_prefix) {
            continue;
        }
        for p in t.partitions() {
            let (low, high) =
                consumer.fetch_watermarks(t.name(), p.id(), Duration::from_secs(10))?;
            if high > low {
                remaining.insert((t.name().to_owned(), p.id()), high);
                tpl.add_partition_offset(t.name(), p.id(), rdkafka::Offset::Beginning)?;
            }
        }
    }
    let mut out = Vec::new();
    if remaining.is_empty() {
        return Ok(out);
    }
    consumer.assign(&tpl)?;
    let deadline = Instant::now() + Duration::from_secs(60);
    while !remaining.is_empty() && Instant::now() < deadline {
        let Some(m) = consumer.poll(Duration::from_millis(200)) else {
            continue;
        };
        // a broker of the cluster that is away: go on with the others
        let Ok(m) = m else {
            continue;
        };
        out.extend_from_slice(
            format!("\n== {} {}@{} ", m.topic(), m.partition(), m.offset()).as_bytes(),
        );
        out.extend_from_slice(m.key().unwrap_or_default());
        if let Some(h) = m.headers() {
            for x in h.iter() {
                out.push(b' ');
                out.extend_from_slice(x.key.as_bytes());
                out.push(b'=');
                out.extend_from_slice(x.value.unwrap_or_default());
            }
        }
        out.push(b' ');
        out.extend_from_slice(m.payload().unwrap_or_default());
        let tp = (m.topic().to_owned(), m.partition());
        if remaining.get(&tp).is_some_and(|h| m.offset() + 1 >= *h) {
            remaining.remove(&tp);
        }
    }
    if !remaining.is_empty() {
        out.extend_from_slice(b"\n(timed out before the end of some topics)\n");
    }
    Ok(out)
}

/// A failing test prints the tail of every log it produced (services and broker), so a CI
/// failure can be read without the machine; a passing test removes its directory.
impl Drop for Env {
    fn drop(&mut self) {
        if let Some(scan) = privacy::dir() {
            self.leave_for_privacy_scan(&scan);
        }
        if !std::thread::panicking() {
            if matches!(self.broker, Broker::Shared(_)) {
                delete_topics(&self.config);
            }
            let _ = std::fs::remove_dir_all(&self.dir);
            return;
        }
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return;
        };
        let mut logs: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "log"))
            .collect();
        logs.sort_by_key(|p| std::fs::metadata(p).and_then(|m| m.created()).ok());
        for log in logs {
            let text = std::fs::read_to_string(&log).unwrap_or_default();
            let lines: Vec<&str> = text.lines().collect();
            let tail = &lines[lines.len().saturating_sub(60)..];
            eprintln!(
                "──── {} (last {} of {} lines)",
                log.display(),
                tail.len(),
                lines.len()
            );
            for l in tail {
                eprintln!("{l}");
            }
        }
    }
}

/// Deletes the topics of an environment on the shared broker, so a long run does not pile up
/// thousands of partitions there.
fn delete_topics(cfg: &Config) {
    use rdkafka::admin::{AdminClient, AdminOptions};
    use rdkafka::client::DefaultClientContext;
    use rdkafka::consumer::{BaseConsumer, Consumer};
    let Ok(consumer) = schakel_core::log::kafka::client_config(cfg).create::<BaseConsumer>() else {
        return;
    };
    let Ok(md) = consumer.fetch_metadata(None, Duration::from_secs(10)) else {
        return;
    };
    let names: Vec<String> = md
        .topics()
        .iter()
        .map(|t| t.name().to_owned())
        .filter(|n| n.starts_with(&cfg.kafka.topic_prefix))
        .collect();
    if names.is_empty() {
        return;
    }
    let Ok(admin) =
        schakel_core::log::kafka::client_config(cfg).create::<AdminClient<DefaultClientContext>>()
    else {
        return;
    };
    // a runtime of its own, in a thread of its own: this runs in Drop, maybe inside a test's
    // runtime, where another cannot be started or dropped
    let _ = std::thread::spawn(move || {
        let refs: Vec<&str> = names.iter().map(String::as_str).collect();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(admin.delete_topics(&refs, &AdminOptions::new()))
    })
    .join();
}
