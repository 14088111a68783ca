//! `schakel topics apply`.

use std::path::Path;
use std::time::Duration;

use anyhow::Context;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer};
use schakel_core::kafka::client_config;
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
    #[allow(dead_code)]
    schema: String,
}

pub async fn apply(cfg: &Config, file: Option<&Path>, rf: Option<i32>) -> anyhow::Result<()> {
    let text = match file {
        Some(p) => {
            std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?
        }
        None => schakel_core::schemas::TOPICS_TOML.to_owned(),
    };
    let spec: TopicsFile = toml::from_str(&text).context("topics file")?;
    let rf = rf.unwrap_or(spec.replication_factor);
    let admin: AdminClient<DefaultClientContext> = client_config(cfg).create()?;
    let probe: BaseConsumer = client_config(cfg).create()?;
    let md = probe
        .fetch_metadata(None, Duration::from_secs(10))
        .context("reading cluster metadata")?;
    let mut new = Vec::new();
    for t in &spec.topic {
        let name = cfg.topic(&t.name);
        let partitions = if t.child_scoped {
            spec.child_partitions
        } else {
            t.partitions.unwrap_or(1)
        };
        match md
            .topics()
            .iter()
            .find(|m| m.name() == name && m.error().is_none())
        {
            Some(existing) if existing.partitions().len() as i32 == partitions => {
                println!("{name}: exists ({partitions} partitions)");
            }
            Some(existing) => {
                anyhow::bail!(
                    "{name} has {} partitions, topics.toml says {partitions}: fix by hand (changing it re-partitions children)",
                    existing.partitions().len()
                );
            }
            None => new.push((name, partitions, t.compact)),
        }
    }
    if new.is_empty() {
        return Ok(());
    }
    let topics: Vec<NewTopic<'_>> = new
        .iter()
        .map(|(name, p, compact)| {
            let t = NewTopic::new(name, *p, TopicReplication::Fixed(rf));
            if *compact {
                t.set("cleanup.policy", "compact")
            } else {
                t
            }
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
