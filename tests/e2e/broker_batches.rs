//! Records produced together land in batches; a reader sees them all and a consumer can resume
//! at any offset, also inside a batch (Tansu 0.6.0, the former local broker, could not).

use std::time::Duration;

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::{Message, Offset, TopicPartitionList};
use schakel_core::domain::catalogue::Topic;
use schakel_core::domain::events::ClockTick;
use schakel_core::log::kafka::{self, CloudEvent, Outgoing, Producer};
use schakel_e2e::Region;

#[tokio::test(flavor = "multi_thread")]
async fn records_sent_together_are_all_readable_from_any_offset() {
    let env = Region::new().start();
    let producer = Producer::new(&env.config).expect("producer");
    let mut sends = tokio::task::JoinSet::new();
    for i in 0..20 {
        let p = producer.clone();
        sends.spawn(async move {
            let d = jiff::civil::date(2026, 1, 1).saturating_add(jiff::Span::new().days(i));
            let tick = ClockTick {
                id: ClockTick::id_for(d),
                date: d,
                produced_at: jiff::Timestamp::now(),
            };
            let ev = CloudEvent::of_tick(&tick);
            p.send(Outgoing {
                key: "k",
                value: &tick,
                event: &ev,
                partition: Some(0),
            })
            .await
            .expect("send")
        });
    }
    while let Some(r) = sends.join_next().await {
        r.expect("join");
    }
    let topic = env.config.topic(Topic::CLOCK);
    let consumer: BaseConsumer = kafka::client_config(&env.config)
        .set("group.id", "batches-test")
        .create()
        .expect("consumer");
    let mut tpl = TopicPartitionList::new();
    tpl.add_partition_offset(&topic, 0, Offset::Offset(7))
        .expect("tpl");
    consumer.assign(&tpl).expect("assign");
    let mut got = Vec::new();
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    while got.len() < 13 && std::time::Instant::now() < deadline {
        if let Some(Ok(m)) = consumer.poll(Duration::from_millis(200)) {
            got.push(m.offset());
        }
    }
    assert_eq!(
        got,
        (7..20).collect::<Vec<i64>>(),
        "a fetch from offset 7 returns 7..19"
    );
    let all = kafka::read_to_end(&env.config, &topic).expect("read");
    assert_eq!(all.len(), 20, "read_to_end sees every record");
}
