//! `schakel topics apply`.

use std::path::Path;
use std::time::Duration;

use anyhow::Context;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer};
use schakel_core::domain::catalogue::Topic;
use schakel_core::log::kafka::client_config;
use schakel_core::Config;
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TopicsFile {
    child_partitions: i32,
    replication_factor: i32,
    topic: Vec<TopicSpec>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TopicSpec {
    name: String,
    #[serde(default)]
    child_scoped: bool,
    #[serde(default)]
    partitions: Option<i32>,
    #[serde(default)]
    compact: bool,
    /// the Avro schema of the values; none for internal topics
    #[allow(dead_code)]
    #[serde(default)]
    schema: Option<String>,
    /// roll segments this often (ms), so compaction can clean them sooner
    #[serde(default)]
    segment_ms: Option<u64>,
}

pub async fn apply(cfg: &Config, file: Option<&Path>, rf: Option<i32>) -> anyhow::Result<()> {
    let text = match file {
        Some(p) => {
            std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?
        }
        None => schakel_core::log::schemas::TOPICS_TOML.to_owned(),
    };
    let spec: TopicsFile = toml::from_str(&text).context("topics file")?;
    let rf = rf.unwrap_or(spec.replication_factor);
    let admin: AdminClient<DefaultClientContext> = client_config(cfg).create()?;
    let probe: BaseConsumer = client_config(cfg).create()?;
    let md = probe
        .fetch_metadata(None, Duration::from_secs(10))
        .context("reading cluster metadata")?;
    let mut new = Vec::new();
    let mut existing_topics = Vec::new();
    let mut all = Vec::new();
    for t in &spec.topic {
        let topic = Topic::parse(&t.name).with_context(|| {
            format!("{} in topics.toml is not a topic of the catalogue", t.name)
        })?;
        let name = cfg.topic(topic);
        let partitions = if t.child_scoped {
            spec.child_partitions
        } else {
            t.partitions.unwrap_or(1)
        };
        all.push(name.clone());
        match md
            .topics()
            .iter()
            .find(|m| m.name() == name && m.error().is_none())
        {
            Some(existing) if existing.partitions().len() as i32 == partitions => {
                println!("{name}: exists ({partitions} partitions)");
                existing_topics.push((name, managed_configs(t)));
            }
            Some(existing) => {
                anyhow::bail!(
                    "{name} has {} partitions, topics.toml says {partitions}: fix by hand (changing it re-partitions children)",
                    existing.partitions().len()
                );
            }
            None => new.push((name, partitions, managed_configs(t))),
        }
    }
    update_configs(&admin, &existing_topics).await?;
    if !new.is_empty() {
        create(&admin, &new, rf).await?;
    }
    await_leaders(&probe, &all)
}

/// The topic settings Schakel manages. Child-scoped topics take the broker's append time as
/// record timestamp: rules merges a partition's topics in that order (`schakel_core::log::merge`).
fn managed_configs(t: &TopicSpec) -> Configs {
    let mut c = vec![(
        "cleanup.policy",
        if t.compact { "compact" } else { "delete" }.to_owned(),
    )];
    if !t.compact {
        // the log is the truth: nothing is deleted by age (Kafka's default is 7 days)
        c.push(("retention.ms", "-1".to_owned()));
    }
    if t.child_scoped {
        c.push(("message.timestamp.type", "LogAppendTime".to_owned()));
    }
    if let Some(ms) = t.segment_ms {
        c.push(("segment.ms", ms.to_string()));
    }
    c
}

type Configs = Vec<(&'static str, String)>;

async fn create(
    admin: &AdminClient<DefaultClientContext>,
    new: &[(String, i32, Configs)],
    rf: i32,
) -> anyhow::Result<()> {
    let topics: Vec<NewTopic<'_>> = new
        .iter()
        .map(|(name, p, configs)| {
            configs.iter().fold(
                NewTopic::new(name, *p, TopicReplication::Fixed(rf)),
                |t, (k, v)| t.set(k, v),
            )
        })
        .collect();
    let results = admin
        .create_topics(
            &topics,
            &AdminOptions::new().operation_timeout(Some(Duration::from_secs(30))),
        )
        .await
        .context("creating topics")?;
    for r in results {
        match r {
            Ok(name) => println!("{name}: created"),
            Err((name, rdkafka::types::RDKafkaErrorCode::TopicAlreadyExists)) => {
                println!("{name}: exists")
            }
            Err((name, e)) => anyhow::bail!("{name}: {e}"),
        }
    }
    Ok(())
}

/// Brings the managed settings of existing topics up to date (a topic made by an older
/// version keeps its records).
async fn update_configs(
    admin: &AdminClient<DefaultClientContext>,
    topics: &[(String, Configs)],
) -> anyhow::Result<()> {
    use rdkafka::admin::{AlterConfig, ResourceSpecifier};
    if topics.is_empty() {
        return Ok(());
    }
    let changes: Vec<AlterConfig<'_>> = topics
        .iter()
        .map(|(name, configs)| {
            configs.iter().fold(
                AlterConfig::new(ResourceSpecifier::Topic(name)),
                |c, (k, v)| c.set(k, v),
            )
        })
        .collect();
    let results = admin
        .alter_configs(&changes, &AdminOptions::new())
        .await
        .context("updating topic settings")?;
    for r in results {
        if let Err((resource, e)) = r {
            anyhow::bail!("updating the settings of {resource:?}: {e}");
        }
    }
    Ok(())
}

/// Waits until every partition of the topics has a leader: Kafka creates topics
/// asynchronously, and a client that comes right after would be told "not leader".
fn await_leaders(probe: &BaseConsumer, topics: &[String]) -> anyhow::Result<()> {
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let mut said = false;
    loop {
        let md = probe
            .fetch_metadata(None, Duration::from_secs(10))
            .context("reading cluster metadata")?;
        let waiting: Vec<&String> = topics
            .iter()
            .filter(|name| {
                !md.topics().iter().any(|t| {
                    t.name() == name.as_str()
                        && t.error().is_none()
                        && !t.partitions().is_empty()
                        // every replica in sync too: a cluster that just made the topic
                        // would otherwise time out the first writes with acks=all
                        && t.partitions().iter().all(|p| {
                            p.leader() >= 0
                                && p.error().is_none()
                                && p.isr().len() >= p.replicas().len()
                        })
                })
            })
            .collect();
        let late = std::time::Instant::now() >= deadline;
        if waiting.is_empty() {
            // a leader in the metadata may not serve yet (each broker of a cluster learns of a
            // new topic on its own): ask each for its offsets, and ask again while one does not
            match unserved(probe, &md, topics) {
                None => return Ok(()),
                Some(e) if late => return Err(e),
                Some(_) => {}
            }
        } else {
            anyhow::ensure!(
                !late,
                "{} topics have partitions without a leader or with replicas out of sync after 60 s: {}",
                waiting.len(),
                waiting
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
        if !said {
            println!("waiting for the partition leaders of the topics to serve");
            said = true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The first partition of the topics whose leader does not answer for its offsets yet.
fn unserved(
    probe: &BaseConsumer,
    md: &rdkafka::metadata::Metadata,
    topics: &[String],
) -> Option<anyhow::Error> {
    md.topics()
        .iter()
        .filter(|t| topics.iter().any(|n| n == t.name()))
        .flat_map(|t| t.partitions().iter().map(move |p| (t.name(), p.id())))
        .find_map(|(name, id)| {
            schakel_core::log::kafka::watermarks(probe, name, id)
                .with_context(|| format!("{name} partition {id}"))
                .err()
        })
}
