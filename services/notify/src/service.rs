//! The notify loop. Reads the directory and the delivery ledger back, then consumes signals:
//! every (signal step, contact) becomes a delivery job that retries on the configured schedule
//! until it is delivered or dead-lettered, each outcome recorded in `hub.deliveries.v1`.
//! A signal's offset is committed only when every delivery of it is final, so a crash or
//! restart resumes whatever was in flight, with the same delivery ids.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use jiff::Timestamp;
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::{Offset, TopicPartitionList};
use schakel_core::config::NotifyClock;
use schakel_core::events::{ClockTick, DeliveryEvent, DirectoryEntry, SignalEvent};
use schakel_core::kafka::{self, CloudEvent, Outgoing, Producer, Record};
use schakel_core::ops::{self, Health};
use schakel_core::roles::{is_config_rule, CONFIG_RULE};
use schakel_core::trace::TraceParent;
use schakel_core::{Config, Shutdown};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, Semaphore};

use crate::clock::{Clock, Hand};
use crate::digest::{self, Digests};
use crate::directory::Directory;
use crate::email;
use crate::ledger::{delivery_id, endpoint_id, DeliveryState, Endpoints, Ledger};
use crate::message;
use crate::webhook;

/// Most deliveries in flight at once; past this, notify stops reading signals until some end.
const MAX_IN_FLIGHT: usize = 10_000;

type Tp = (String, i32);

/// Runs notify until shutdown.
pub async fn run(cfg: Config, listener: TcpListener, shutdown: Shutdown) -> anyhow::Result<()> {
    let sd = shutdown.clone();
    ops::run_with_health(listener, shutdown, |health| async move {
        consume(cfg, &health, &sd).await
    })
    .await
}

/// A delivery that reached a final state (or was given up on shutdown).
struct Finished {
    tp: Tp,
    offset: i64,
}

/// One delivery to run: a signal step to one contact over one channel.
struct Job {
    id: String,
    signal: SignalEvent,
    contact: String,
    send: Send,
    next_attempt: i32,
    not_before: Option<Timestamp>,
    /// the ledger knows nothing of it yet: record it as queued first
    fresh: bool,
    /// where the signal step is in hub.signals.v1
    position: (i32, i64),
    /// an operator's retry of a dead letter: one attempt, then dead-lettered again
    single_attempt: bool,
    /// an e-mail for the contact's daily digest at this hour, and what it says
    digest: Option<(i32, message::Notification)>,
}

/// What to send, per channel.
enum Send {
    Webhook {
        url: String,
        secret: String,
        body: Vec<u8>,
    },
    Email {
        to: String,
        mail: email::Rendered,
    },
}

impl Send {
    fn channel(&self) -> &'static str {
        match self {
            Send::Webhook { .. } => "webhook",
            Send::Email { .. } => "email",
        }
    }
}

#[derive(Clone)]
struct Deps {
    clock: Clock,
    /// contacts removed from the directory: they get nothing more, not even a retry
    removed: Arc<std::sync::Mutex<std::collections::HashSet<String>>>,
    endpoint_health: Arc<std::sync::Mutex<Endpoints>>,
    disable_after: Duration,
    digests: Digests,
    tz: jiff::tz::TimeZone,
    region: String,
    producer: Producer,
    client: reqwest::Client,
    mailer: Option<email::Mailer>,
    schedule: Arc<Vec<Duration>>,
    timeout: Duration,
    health: Health,
    endpoints: Arc<std::sync::Mutex<HashMap<String, Arc<Semaphore>>>>,
    per_endpoint: usize,
}

impl Deps {
    /// The concurrency cap of the endpoint a delivery goes to: a webhook's host and port, or
    /// the SMTP server.
    fn endpoint(&self, send: &Send) -> Arc<Semaphore> {
        let key = match send {
            Send::Webhook { url, .. } => reqwest::Url::parse(url)
                .ok()
                .map(|u| {
                    format!(
                        "{}:{}",
                        u.host_str().unwrap_or_default(),
                        u.port_or_known_default().unwrap_or(0)
                    )
                })
                .unwrap_or_else(|| url.to_owned()),
            Send::Email { .. } => self
                .mailer
                .as_ref()
                .map_or_else(|| "smtp".to_owned(), |m| m.endpoint.clone()),
        };
        let mut m = self.endpoints.lock().expect("endpoint lock");
        m.entry(key)
            .or_insert_with(|| Arc::new(Semaphore::new(self.per_endpoint)))
            .clone()
    }
}

/// The directory, the ledger and the endpoints' health as the log holds them, and where the
/// directory and the ledger topics end.
type Loaded = (
    Directory,
    Ledger,
    Endpoints,
    HashMap<i32, i64>,
    HashMap<i32, i64>,
);

async fn load_state(cfg: &Config) -> anyhow::Result<Loaded> {
    let cfg2 = cfg.clone();
    let (dir_records, ledger_records) = tokio::task::spawn_blocking(move || {
        let d = kafka::read_to_end(&cfg2, &cfg2.topic("hub.directory.v1"))?;
        let l = kafka::read_to_end(&cfg2, &cfg2.topic("hub.deliveries.v1"))?;
        anyhow::Ok((d, l))
    })
    .await??;
    let reg = schakel_core::schemas::registry();
    let mut directory = Directory::default();
    let mut dir_end = HashMap::new();
    for r in &dir_records {
        apply_directory(&reg, &mut directory, r);
        dir_end.insert(r.partition, r.offset + 1);
    }
    let mut ledger = Ledger::default();
    let mut endpoints = Endpoints::default();
    let mut ledger_end = HashMap::new();
    for r in &ledger_records {
        ledger_end.insert(r.partition, r.offset + 1);
        match r
            .value
            .as_deref()
            .map(|v| reg.decode::<DeliveryEvent>("hub.deliveries.v1", v))
        {
            Some(Ok(ev)) => {
                ledger.apply(&ev);
                endpoints.apply(&ev);
            }
            Some(Err(e)) => {
                tracing::warn!(offset = r.offset, error = %e, "unreadable ledger record skipped")
            }
            None => {}
        }
    }
    Ok((directory, ledger, endpoints, dir_end, ledger_end))
}

fn apply_directory(reg: &schakel_core::avro::Registry, dir: &mut Directory, r: &Record) {
    let key = r.key.clone().unwrap_or_default();
    match r.value.as_deref() {
        None => dir.apply(&key, None),
        Some(v) => match reg.decode::<DirectoryEntry>("hub.directory.v1", v) {
            Ok(e) => dir.apply(&key, Some(e)),
            Err(e) => {
                tracing::warn!(offset = r.offset, error = %e, "unreadable directory record skipped")
            }
        },
    }
}

async fn consume(cfg: Config, health: &Health, shutdown: &Shutdown) -> anyhow::Result<()> {
    let (mut directory, ledger, endpoints, dir_end, ledger_end) = load_state(&cfg).await?;
    tracing::info!(
        contacts = directory.contacts(),
        deliveries = ledger.len(),
        "directory and ledger read back"
    );
    let consumer: StreamConsumer = kafka::stream_consumer(&cfg, &cfg.notify.group)?;
    let signals_topic = cfg.topic("hub.signals.v1");
    let dir_topic = cfg.topic("hub.directory.v1");
    let mut tpl = TopicPartitionList::new();
    let sig_parts = kafka::partitions(&consumer, &signals_topic)?;
    let tps: Vec<Tp> = sig_parts
        .iter()
        .map(|p| (signals_topic.clone(), *p))
        .collect();
    let committed = kafka::committed(&consumer, &tps)?;
    for tp in &tps {
        let off = committed
            .get(tp)
            .map_or(Offset::Beginning, |o| Offset::Offset(*o));
        tpl.add_partition_offset(&tp.0, tp.1, off)?;
    }
    // read back at start, followed from where that read ended
    let follow_from = |tpl: &mut TopicPartitionList, topic: &str, ends: &HashMap<i32, i64>| {
        for p in kafka::partitions(&consumer, topic)? {
            let off = ends
                .get(&p)
                .map_or(Offset::Beginning, |o| Offset::Offset(*o));
            tpl.add_partition_offset(topic, p, off)?;
        }
        anyhow::Ok(())
    };
    follow_from(&mut tpl, &dir_topic, &dir_end)?;
    // the ledger is followed for operators' retries of dead letters
    let deliveries_topic = cfg.topic("hub.deliveries.v1");
    follow_from(&mut tpl, &deliveries_topic, &ledger_end)?;
    // a log clock reads the ticks' instants back, then follows them
    let clock_topic = cfg.topic("hub.clock.v1");
    let (clock, hand): (Clock, Option<Hand>) = match cfg.notify.clock {
        NotifyClock::System => (Clock::system(), None),
        NotifyClock::Log => {
            // the time the log has reached, before anything is sent; then follow it
            let (c, h) = Clock::log();
            let (cfg2, topic) = (cfg.clone(), clock_topic.clone());
            let ticks =
                tokio::task::spawn_blocking(move || kafka::read_to_end(&cfg2, &topic)).await??;
            let mut ends: HashMap<i32, i64> = HashMap::new();
            let reg = schakel_core::schemas::registry();
            for r in &ticks {
                ends.insert(r.partition, r.offset + 1);
                if let Some(Ok(t)) = r
                    .value
                    .as_deref()
                    .map(|v| reg.decode::<ClockTick>("hub.clock.v1", v))
                {
                    h.advance_to(t.produced_at);
                }
            }
            follow_from(&mut tpl, &clock_topic, &ends)?;
            tracing::info!(now = %c.now(), "log clock read back");
            (c, Some(h))
        }
    };
    consumer.assign(&tpl)?;
    let resume: Vec<String> = tps
        .iter()
        .map(|tp| match committed.get(tp) {
            Some(o) => format!("{}:{o}", tp.1),
            None => format!("{}:start", tp.1),
        })
        .collect();
    tracing::info!(partitions = %resume.join(","), "consuming signals from the committed offsets");
    health.set_ready(true);

    let deps = Deps {
        clock,
        removed: Arc::default(),
        endpoint_health: Arc::new(std::sync::Mutex::new(endpoints)),
        disable_after: cfg.notify.disable_after,
        digests: Digests::default(),
        tz: jiff::tz::TimeZone::get(&cfg.clock.timezone)
            .with_context(|| format!("clock.timezone {:?}", cfg.clock.timezone))?,
        region: cfg.region.name.clone(),
        producer: Producer::new(&cfg)?,
        client: reqwest::Client::builder().build()?,
        mailer: cfg
            .notify
            .email
            .as_ref()
            .map(email::Mailer::new)
            .transpose()?,
        schedule: Arc::new(cfg.notify.retry_schedule.clone()),
        timeout: cfg.notify.webhook_timeout,
        health: health.clone(),
        endpoints: Arc::default(),
        per_endpoint: cfg.notify.per_endpoint_concurrency.max(1),
    };
    let reg = deps.producer.registry().clone();
    let in_flight = Arc::new(Semaphore::new(MAX_IN_FLIGHT));
    let (done_tx, mut done_rx) = mpsc::unbounded_channel::<Finished>();
    // per partition: offset → deliveries of that signal still open
    let mut open: HashMap<Tp, BTreeMap<i64, usize>> = HashMap::new();
    let mut next: HashMap<Tp, i64> = HashMap::new();
    let mut commit_every = tokio::time::interval(Duration::from_millis(500));
    let mut dirty = false;
    let mut ledger = ledger;
    let mut raised = std::collections::HashSet::new();
    rehydrate_digests(&cfg, &deps, &directory, &ledger).await;
    tokio::spawn(run_digests(deps.clone(), shutdown.clone()));
    let open_retries: Vec<DeliveryEvent> = ledger.open_retries().into_iter().cloned().collect();
    for ev in open_retries {
        redrive(&cfg, &deps, &directory, &mut ledger, &ev, shutdown).await;
    }
    loop {
        tokio::select! {
            biased;
            _ = shutdown.wait() => break,
            Some(f) = done_rx.recv() => {
                if let Some(m) = open.get_mut(&f.tp) {
                    if let Some(n) = m.get_mut(&f.offset) {
                        *n -= 1;
                        if *n == 0 {
                            m.remove(&f.offset);
                        }
                    }
                }
                dirty = true;
            }
            _ = commit_every.tick() => {
                if dirty {
                    let offsets = low_watermarks(&open, &next);
                    kafka::commit(&consumer, &offsets).context("committing signal offsets")?;
                    dirty = false;
                }
            }
            permit = in_flight.clone().acquire_owned() => {
                drop(permit);
                let msg = tokio::select! {
                    biased;
                    _ = shutdown.wait() => break,
                    m = consumer.recv() => m.context("consuming signals")?,
                };
                let rec = Record::from_message(&msg);
                drop(msg);
                if rec.topic == dir_topic {
                    apply_directory(&reg, &mut directory, &rec);
                    if let Some(c) = rec.key.as_deref().and_then(|k| k.strip_prefix("contact:")) {
                        if rec.value.is_some() {
                            deps.removed.lock().expect("removed lock").remove(c);
                            enable_endpoints(&deps, c, shutdown).await;
                        } else {
                            deps.removed.lock().expect("removed lock").insert(c.to_owned());
                        }
                    }
                    continue;
                }
                if rec.topic == deliveries_topic {
                    let Some(Ok(ev)) = rec.value.as_deref().map(|v| reg.decode::<DeliveryEvent>("hub.deliveries.v1", v)) else {
                        continue;
                    };
                    ledger.apply(&ev);
                    if ev.status == "retry-requested"
                        && matches!(ledger.get(&ev.id), Some(DeliveryState::RetryRequested { .. }))
                    {
                        redrive(&cfg, &deps, &directory, &mut ledger, &ev, shutdown).await;
                    }
                    continue;
                }
                if rec.topic == clock_topic {
                    if let (Some(h), Some(v)) = (&hand, rec.value.as_deref()) {
                        match reg.decode::<ClockTick>("hub.clock.v1", v) {
                            Ok(t) => h.advance_to(t.produced_at),
                            Err(e) => tracing::warn!(offset = rec.offset, error = %e, "unreadable tick skipped"),
                        }
                    }
                    continue;
                }
                let tp = (rec.topic.clone(), rec.partition);
                next.insert(tp.clone(), rec.offset + 1);
                dirty = true;
                let Some(bytes) = rec.value.as_deref() else { continue };
                let signal: SignalEvent = match reg.decode("hub.signals.v1", bytes) {
                    Ok(s) => s,
                    Err(e) => {
                        tracing::warn!(offset = rec.offset, error = %e, "unreadable signal skipped");
                        continue;
                    }
                };
                let position = (rec.partition, rec.offset);
                let (jobs, missing) = plan(&cfg, &deps, &directory, &mut ledger, &signal, position, Only::All);
                if !missing.is_empty() && !is_config_rule(&signal.rule) {
                    raise_unroutable(&deps, &mut ledger, &signal, position, &missing, &mut raised, shutdown).await;
                }
                tracing::debug!(partition = rec.partition, offset = rec.offset, deliveries = jobs.len(), "signal read");
                if jobs.is_empty() {
                    continue;
                }
                open.entry(tp.clone()).or_default().insert(rec.offset, jobs.len());
                for job in jobs {
                    let permit = in_flight.clone().acquire_owned().await?;
                    let deps = deps.clone();
                    let done = done_tx.clone();
                    let shutdown = shutdown.clone();
                    let tp = tp.clone();
                    let offset = rec.offset;
                    tokio::spawn(async move {
                        let finished = deliver(&deps, job, &shutdown).await;
                        drop(permit);
                        if finished {
                            let _ = done.send(Finished { tp, offset });
                        }
                    });
                }
            }
        }
    }
    let offsets = low_watermarks(&open, &next);
    kafka::commit(&consumer, &offsets).context("committing signal offsets")?;
    deps.producer.flush(Duration::from_secs(5));
    Ok(())
}

/// Re-drives a dead letter an operator retried: reads its signal step back from where the
/// ledger says it is and makes one more attempt (its signal offset was committed long ago, so
/// it is not tracked for commits).
async fn redrive(
    cfg: &Config,
    deps: &Deps,
    directory: &Directory,
    ledger: &mut Ledger,
    ev: &DeliveryEvent,
    shutdown: &Shutdown,
) {
    let (Some(p), Some(o)) = (ev.signal_partition, ev.signal_offset) else {
        tracing::warn!(delivery_id = %ev.id, "retry requested for a delivery without a signal position; not re-driven");
        return;
    };
    let (cfg2, topic) = (cfg.clone(), cfg.topic("hub.signals.v1"));
    let rec = tokio::task::spawn_blocking(move || kafka::read_one(&cfg2, &topic, p, o)).await;
    let signal = match rec {
        Ok(Ok(Some(r))) => r.value.as_deref().and_then(|v| {
            deps.producer
                .registry()
                .decode::<SignalEvent>("hub.signals.v1", v)
                .ok()
        }),
        _ => None,
    };
    let Some(signal) = signal.filter(|s| s.id == ev.signal_event_id) else {
        tracing::warn!(delivery_id = %ev.id, partition = p, offset = o, "the signal step of a retried delivery cannot be read; not re-driven");
        return;
    };
    if let Some(role) = ev.contact.strip_prefix("role:") {
        // an unroutable role: hand the step to whoever holds it now
        let (jobs, missing) = plan(
            cfg,
            deps,
            directory,
            ledger,
            &signal,
            (p, o),
            Only::Role(role),
        );
        if missing.iter().any(|m| m == role) {
            tracing::warn!(delivery_id = %ev.id, role, "retried, but still no contact holds the role");
            return;
        }
        // the role's record is closed once every new delivery is final; a crash before that
        // leaves the retry open, and the restart hands the step over again (same ids)
        let (deps2, shutdown2) = (deps.clone(), shutdown.clone());
        let (ev2, signal2) = (ev.clone(), signal.clone());
        let role = role.to_owned();
        tokio::spawn(async move {
            tracing::info!(delivery_id = %ev2.id, role, deliveries = jobs.len(), "unroutable step handed to the role's contacts");
            // usually one or two contacts: in turn
            for job in jobs {
                if !deliver(&deps2, job, &shutdown2).await {
                    return;
                }
            }
            let s = Subject {
                id: &ev2.id,
                signal: &signal2,
                contact: &ev2.contact,
                channel: "none",
                position: (p, o),
            };
            let done = ledger_record(&s, "rerouted", ev2.attempt, None, deps2.clock.now(), None);
            record_until_durable(&deps2, &done, &shutdown2).await;
        });
        return;
    }
    let (jobs, _) = plan(
        cfg,
        deps,
        directory,
        ledger,
        &signal,
        (p, o),
        Only::Delivery(&ev.id),
    );
    if jobs.is_empty() {
        tracing::warn!(delivery_id = %ev.id, "the contact or channel of a retried delivery is gone; not re-driven");
    }
    for job in jobs {
        tracing::info!(delivery_id = %job.id, attempt = job.next_attempt, "dead letter re-driven");
        let (deps, shutdown) = (deps.clone(), shutdown.clone());
        tokio::spawn(async move { deliver(&deps, job, &shutdown).await });
    }
}

/// Folds an attempt's outcome into its endpoint's health; an endpoint failing for
/// `notify.disable_after` without a success is disabled (recorded in the ledger) and the
/// municipality's `beheer` gets a configuration signal C2. False only when shutdown
/// interrupted it.
async fn check_endpoint(
    deps: &Deps,
    job: &Job,
    outcome: &DeliveryEvent,
    shutdown: &Shutdown,
) -> bool {
    let channel = job.send.channel();
    let failing_since = {
        let mut all = deps.endpoint_health.lock().expect("endpoint health lock");
        all.apply(outcome);
        let h = all.get(&job.contact, channel);
        let too_long = h.failing_since.is_some_and(|f| {
            Duration::try_from(outcome.at.duration_since(f)).unwrap_or_default()
                >= deps.disable_after
        });
        if h.disabled || !too_long {
            return true;
        }
        // marked at once, so only one delivery disables it
        let mark = DeliveryEvent {
            status: "endpoint-disabled".into(),
            ..outcome.clone()
        };
        all.apply(&mark);
        h.failing_since
    };
    let id = endpoint_id(&job.contact, channel);
    let s = Subject {
        id: &id,
        signal: &job.signal,
        contact: &job.contact,
        channel,
        position: job.position,
    };
    let since = failing_since.map_or_else(String::new, |t| t.to_string());
    let ev = ledger_record(
        &s,
        "endpoint-disabled",
        0,
        Some(format!("failing since {since}")),
        outcome.at,
        None,
    );
    if !record_until_durable(deps, &ev, shutdown).await {
        return false;
    }
    tracing::warn!(contact = %job.contact, channel, "endpoint disabled after failing too long");
    deps.health
        .metrics
        .inc("schakel_notify_endpoints_disabled_total", "");
    let inst = job
        .signal
        .municipality
        .as_ref()
        .map(|m| format!("gemeente:{m}"))
        .unwrap_or_default();
    let policy = [
        ("disabledContact".to_owned(), job.contact.clone()),
        ("channel".to_owned(), channel.to_owned()),
        ("failingSince".to_owned(), since.clone()),
    ]
    .into_iter()
    .collect();
    let signal_id = delivery_id("C2", &format!("{}:{since}", job.contact), channel);
    let _ = raise_config(deps, &job.signal, "C2", signal_id, &inst, policy).await;
    true
}

/// An endpoint disabled for a contact whose directory entry changed starts afresh: the
/// address may be fixed. Recorded as `endpoint-enabled`.
async fn enable_endpoints(deps: &Deps, contact: &str, shutdown: &Shutdown) {
    let disabled: Vec<&str> = {
        let all = deps.endpoint_health.lock().expect("endpoint health lock");
        crate::directory::CHANNELS
            .iter()
            .copied()
            .filter(|ch| all.get(contact, ch).disabled)
            .collect()
    };
    for channel in disabled {
        let ev = DeliveryEvent {
            id: endpoint_id(contact, channel),
            kind: "nl.schakel.delivery.endpoint-enabled.v1".into(),
            signal_id: String::new(),
            signal_event_id: String::new(),
            step: String::new(),
            contact: contact.to_owned(),
            channel: channel.to_owned(),
            attempt: 0,
            status: "endpoint-enabled".into(),
            error: None,
            at: deps.clock.now(),
            next_attempt_at: None,
            signal_partition: None,
            signal_offset: None,
        };
        if record_until_durable(deps, &ev, shutdown).await {
            deps.endpoint_health
                .lock()
                .expect("endpoint health lock")
                .apply(&ev);
            tracing::info!(
                contact,
                channel,
                "endpoint enabled again: the directory entry changed"
            );
        }
    }
}

/// Writes a configuration signal (`rule` C1 or C2) for `beheer` of the municipality of the
/// signal it is about, keyed by that signal's child so it travels with it.
async fn raise_config(
    deps: &Deps,
    about: &SignalEvent,
    rule: &str,
    signal_id: String,
    institution: &str,
    policy: std::collections::BTreeMap<String, String>,
) -> Result<(), ()> {
    let now = deps.clock.now();
    let config = SignalEvent {
        id: format!("{signal_id}-opened"),
        kind: "nl.schakel.signal.opened.v1".into(),
        step: "opened".into(),
        signal_id,
        rule: rule.into(),
        child_key: about.child_key.clone(),
        institution: Some(institution.to_owned()),
        municipality: about.municipality.clone(),
        due_date: None,
        recipients: vec!["beheer".into()],
        task: false,
        fired_on: now.to_zoned(deps.tz.clone()).date(),
        birth_date_uncertain: false,
        facts: vec![about.id.clone()],
        policy,
        routes: Default::default(),
    };
    let ce = CloudEvent {
        id: config.id.clone(),
        source: "urn:nl:schakel:notify".into(),
        kind: config.kind.clone(),
        time: now,
        trace: TraceParent::new_root(),
    };
    deps.producer
        .send(Outgoing {
            topic: "hub.signals.v1",
            key: config.child_key.as_str(),
            value: &config,
            event: &ce,
            partition: None,
        })
        .await
        .map(drop)
        .map_err(|e| {
            tracing::error!(error = %e, rule, "cannot write a configuration signal");
        })
}

/// A signal step with roles nobody holds: an `unroutable` ledger record per role (listed by
/// `schakel deliveries list --status unroutable`, retried once the directory is fixed) and,
/// once per role and institution while notify runs, a configuration signal (C1) to the
/// municipality's `beheer` contacts.
async fn raise_unroutable(
    deps: &Deps,
    ledger: &mut Ledger,
    signal: &SignalEvent,
    position: (i32, i64),
    missing: &[String],
    raised: &mut std::collections::HashSet<(String, String)>,
    shutdown: &Shutdown,
) {
    for role in missing {
        let inst = Directory::institution_for(signal, role).unwrap_or_default();
        let contact = format!("role:{role}");
        let id = delivery_id(&signal.id, &contact, "none");
        if ledger.get(&id).is_none() {
            let s = Subject {
                id: &id,
                signal,
                contact: &contact,
                channel: "none",
                position,
            };
            let error = format!("no contact in the directory holds {role} at {inst}");
            let ev = ledger_record(&s, "unroutable", 0, Some(error), deps.clock.now(), None);
            if !record_until_durable(deps, &ev, shutdown).await {
                return;
            }
            ledger.apply(&ev);
        }
        if !raised.insert((role.clone(), inst.clone())) {
            continue;
        }
        let policy = [("missingRole".to_owned(), role.clone())]
            .into_iter()
            .collect();
        let signal_id = delivery_id(CONFIG_RULE, &inst, role);
        if raise_config(deps, signal, CONFIG_RULE, signal_id, &inst, policy)
            .await
            .is_ok()
        {
            tracing::warn!(role, institution = %inst, "configuration signal raised: no contact holds the role");
        } else {
            raised.remove(&(role.clone(), inst.clone()));
        }
    }
}

/// Sends the digests as they fall due, on notify's clock, until shutdown.
async fn run_digests(deps: Deps, shutdown: Shutdown) {
    loop {
        let next = deps.digests.earliest();
        tokio::select! {
            _ = shutdown.wait() => return,
            _ = deps.digests.changed() => continue,
            _ = async {
                match next {
                    Some(t) => deps.clock.sleep_until(t).await,
                    None => std::future::pending::<()>().await,
                }
            } => {}
        }
        let now = deps.clock.now();
        for (contact, pending) in deps.digests.take_due(now) {
            if !send_digest(&deps, &contact, pending, &shutdown).await {
                return;
            }
        }
    }
}

/// Sends one contact's digest and records the outcome of every item in it: delivered, or
/// back in the digest after the retry wait, or dead-lettered after the last. False only when
/// shutdown interrupted it.
async fn send_digest(
    deps: &Deps,
    contact: &str,
    pending: digest::Pending,
    shutdown: &Shutdown,
) -> bool {
    let mut ids: Vec<&str> = pending
        .items
        .iter()
        .map(|i| i.delivery_id.as_str())
        .collect();
    ids.sort_unstable();
    let digest_id = delivery_id(&ids.join(","), contact, "digest");
    let subject = |i: &'_ digest::Item| -> (String, SignalEvent, (i32, i64)) {
        (i.delivery_id.clone(), i.signal.clone(), i.position)
    };
    for item in &pending.items {
        let (id, signal, position) = subject(item);
        let s = Subject {
            id: &id,
            signal: &signal,
            contact,
            channel: "email",
            position,
        };
        let ev = ledger_record(&s, "in-flight", item.attempt, None, deps.clock.now(), None);
        if !record_until_durable(deps, &ev, shutdown).await {
            return false;
        }
    }
    if deps.removed.lock().expect("removed lock").contains(contact) {
        for item in &pending.items {
            let (id, signal, position) = subject(item);
            let s = Subject {
                id: &id,
                signal: &signal,
                contact,
                channel: "email",
                position,
            };
            let error = Some("the contact was removed from the directory".to_owned());
            let ev = ledger_record(
                &s,
                "dead-lettered",
                item.attempt,
                error,
                deps.clock.now(),
                None,
            );
            if !record_until_durable(deps, &ev, shutdown).await {
                return false;
            }
        }
        return true;
    }
    let notes: Vec<&message::Notification> = pending.items.iter().map(|i| &i.note).collect();
    let mail = email::render_digest(&pending.name, &notes, &digest_id, &deps.region);
    let result = match &deps.mailer {
        Some(m) => m
            .send(&pending.to, &mail, &digest_id)
            .await
            .map_err(|e| e.to_string()),
        None => Err("notify.email is not configured".into()),
    };
    let now = deps.clock.now();
    tracing::info!(
        contact,
        items = pending.items.len(),
        ok = result.is_ok(),
        "digest sent"
    );
    for item in pending.items {
        let (id, signal, position) = subject(&item);
        let s = Subject {
            id: &id,
            signal: &signal,
            contact,
            channel: "email",
            position,
        };
        let wait = deps.schedule.get((item.attempt - 1) as usize).copied();
        let (ev, again) = match (&result, wait) {
            (Ok(()), _) => (
                ledger_record(&s, "succeeded", item.attempt, None, now, None),
                None,
            ),
            (Err(e), Some(w)) => {
                let at = now
                    .checked_add(jiff::SignedDuration::try_from(w).unwrap_or_default())
                    .unwrap_or(now);
                let ev = ledger_record(
                    &s,
                    "digest-scheduled",
                    item.attempt + 1,
                    Some(e.clone()),
                    now,
                    Some(at),
                );
                (ev, Some(at))
            }
            (Err(e), None) => (
                ledger_record(
                    &s,
                    "dead-lettered",
                    item.attempt,
                    Some(e.clone()),
                    now,
                    None,
                ),
                None,
            ),
        };
        deps.health.metrics.inc(
            "schakel_notify_deliveries_total",
            &format!("channel=\"email\",status=\"{}\"", ev.status),
        );
        if !record_until_durable(deps, &ev, shutdown).await {
            return false;
        }
        if let Some(due) = again {
            deps.digests.add(
                contact,
                &pending.to,
                &pending.name,
                digest::Item {
                    attempt: item.attempt + 1,
                    due,
                    ..item
                },
            );
        }
    }
    true
}

/// Puts the deliveries of digests not (known to be) sent back into their digests, after a
/// restart: their signal offsets were committed when they were scheduled.
async fn rehydrate_digests(cfg: &Config, deps: &Deps, directory: &Directory, ledger: &Ledger) {
    let open = ledger.open_digests();
    if open.is_empty() {
        return;
    }
    // every signal step in one pass over the log
    let positions: Vec<(i32, i64)> = open
        .iter()
        .filter_map(|e| Some((e.signal_partition?, e.signal_offset?)))
        .collect();
    let (cfg2, topic) = (cfg.clone(), cfg.topic("hub.signals.v1"));
    let records =
        match tokio::task::spawn_blocking(move || kafka::read_positions(&cfg2, &topic, &positions))
            .await
        {
            Ok(Ok(r)) => r,
            _ => {
                tracing::error!("cannot read the signal steps of waiting digests back");
                return;
            }
        };
    tracing::info!(items = open.len(), "digests rebuilt from the ledger");
    for ev in open {
        let (Some(p), Some(o)) = (ev.signal_partition, ev.signal_offset) else {
            continue;
        };
        let Some(signal) = records.get(&(p, o)).and_then(|r| {
            r.value.as_deref().and_then(|v| {
                deps.producer
                    .registry()
                    .decode::<SignalEvent>("hub.signals.v1", v)
                    .ok()
            })
        }) else {
            tracing::warn!(delivery_id = %ev.id, "the signal step of a digest item cannot be read");
            continue;
        };
        let (recipients, _) = directory.recipients(&signal);
        let everyone: Vec<&crate::directory::Contact> =
            recipients.iter().map(|(c, _)| *c).collect();
        let Some((contact, roles)) = recipients.iter().find(|(c, _)| c.id == ev.contact) else {
            tracing::info!(delivery_id = %ev.id, "the contact of a digest item is gone; it gets nothing new");
            continue;
        };
        let Some(to) = &contact.email else { continue };
        let note = message::build(message::Build {
            signal: &signal,
            recipient: contact,
            roles,
            others: &everyone,
            directory,
            delivery_id: &ev.id,
            oin: &cfg.region.oin,
            api_base_url: &cfg.region.api_base_url,
            now: deps.clock.now(),
        });
        let due = match ledger.get(&ev.id) {
            Some(DeliveryState::DigestScheduled { at, .. }) => *at,
            _ => deps.clock.now(),
        };
        deps.digests.add(
            &contact.id,
            to,
            &roles.join(", "),
            digest::Item {
                delivery_id: ev.id.clone(),
                signal: signal.clone(),
                position: (p, o),
                note,
                attempt: ev.attempt.max(1),
                due,
            },
        );
    }
}

/// The offset to commit per partition: the oldest signal with an open delivery, or the next.
fn low_watermarks(
    open: &HashMap<Tp, BTreeMap<i64, usize>>,
    next: &HashMap<Tp, i64>,
) -> HashMap<Tp, i64> {
    next.iter()
        .map(|(tp, n)| {
            let low = open
                .get(tp)
                .and_then(|m| m.keys().next().copied())
                .unwrap_or(*n);
            (tp.clone(), low.min(*n))
        })
        .collect()
}

/// Which deliveries of a signal step to plan.
#[derive(Clone, Copy)]
enum Only<'a> {
    /// every one the ledger does not show as final (a signal read from the log)
    All,
    /// one dead letter an operator retried: one attempt
    Delivery(&'a str),
    /// the contacts that now hold a role nobody held before (an unroutable role retried)
    Role(&'a str),
}

/// The deliveries a signal step needs that the ledger does not show as final, and the roles
/// of the signal that no contact holds.
fn plan(
    cfg: &Config,
    deps: &Deps,
    directory: &Directory,
    ledger: &mut Ledger,
    signal: &SignalEvent,
    position: (i32, i64),
    only: Only<'_>,
) -> (Vec<Job>, Vec<String>) {
    let (health, clock) = (&deps.health, &deps.clock);
    let (recipients, missing) = directory.recipients(signal);
    if matches!(only, Only::All) {
        for role in &missing {
            tracing::warn!(signal_id = %signal.signal_id, rule = %signal.rule, role = %role, "no contact holds this role for the signal");
            health.metrics.inc(
                "schakel_notify_unroutable_total",
                &format!("rule=\"{}\",role=\"{role}\"", signal.rule),
            );
        }
    }
    let everyone: Vec<&crate::directory::Contact> = recipients.iter().map(|(c, _)| *c).collect();
    let mut jobs = Vec::new();
    for (contact, roles) in &recipients {
        if !contact.wants_rule(&signal.rule) {
            continue;
        }
        if let Only::Role(r) = only {
            if !roles.iter().any(|x| x == r) {
                continue;
            }
        }
        for channel in contact.channels() {
            if channel == "email" && cfg.notify.email.is_none() {
                tracing::warn!(contact = %contact.id, "contact wants e-mail but notify.email is not configured");
                health
                    .metrics
                    .inc("schakel_notify_email_unconfigured_total", "");
                continue;
            }
            let id = delivery_id(&signal.id, &contact.id, channel);
            if matches!(only, Only::Delivery(o) if o != id) {
                continue;
            }
            let state = ledger.get(&id);
            let (next_attempt, not_before) = match state {
                Some(s) if s.is_final() => continue,
                Some(DeliveryState::RetryScheduled { attempt, at }) => (attempt + 1, Some(*at)),
                // it may or may not have arrived: send it again, with the same id
                Some(DeliveryState::InFlight { attempt }) => (*attempt, None),
                Some(DeliveryState::RetryRequested { attempt }) => (attempt + 1, None),
                // in its contact's digest already
                Some(DeliveryState::DigestScheduled { .. }) if matches!(only, Only::All) => {
                    continue
                }
                _ => (1, None),
            };
            let fresh = state.is_none();
            let note = message::build(message::Build {
                signal,
                recipient: contact,
                roles,
                others: &everyone,
                directory,
                delivery_id: &id,
                oin: &cfg.region.oin,
                api_base_url: &cfg.region.api_base_url,
                now: clock.now(),
            });
            let send = match (channel, &contact.webhook, &contact.email) {
                ("webhook", Some(hook), _) => Send::Webhook {
                    url: hook.url.clone(),
                    secret: hook.secret.clone(),
                    body: serde_json::to_vec(&note).expect("notification serialises"),
                },
                ("email", _, Some(to)) => Send::Email {
                    to: to.clone(),
                    mail: email::render(&note, &cfg.region.name),
                },
                _ => continue,
            };
            let digest = match (channel, contact.preferences.digest_hour) {
                ("email", Some(h))
                    if !matches!(only, Only::Delivery(_)) && !digest::is_urgent(&signal.step) =>
                {
                    Some((h, note))
                }
                _ => None,
            };
            jobs.push(Job {
                id,
                signal: signal.clone(),
                contact: contact.id.clone(),
                send,
                digest,
                next_attempt,
                not_before,
                fresh,
                position,
                single_attempt: matches!(only, Only::Delivery(_)),
            });
        }
    }
    (jobs, missing)
}

/// Sends once over the job's channel.
async fn send_once(deps: &Deps, job: &Job) -> Result<(), String> {
    match &job.send {
        Send::Webhook { url, secret, body } => webhook::post(
            &deps.client,
            url,
            secret,
            &job.id,
            body.clone(),
            deps.timeout,
        )
        .await
        .map(drop)
        .map_err(|e| e.to_string()),
        Send::Email { to, mail } => match &deps.mailer {
            Some(m) => m.send(to, mail, &job.id).await.map_err(|e| e.to_string()),
            None => Err("notify.email is not configured".into()),
        },
    }
}

/// What a ledger record is about.
struct Subject<'a> {
    id: &'a str,
    signal: &'a SignalEvent,
    contact: &'a str,
    channel: &'a str,
    position: (i32, i64),
}

impl Job {
    fn subject(&self) -> Subject<'_> {
        Subject {
            id: &self.id,
            signal: &self.signal,
            contact: &self.contact,
            channel: self.send.channel(),
            position: self.position,
        }
    }
}

/// The ledger record of one step of a delivery's lifecycle.
fn ledger_record(
    s: &Subject<'_>,
    status: &str,
    attempt: i32,
    error: Option<String>,
    at: Timestamp,
    next_attempt_at: Option<Timestamp>,
) -> DeliveryEvent {
    DeliveryEvent {
        id: s.id.to_owned(),
        kind: format!("nl.schakel.delivery.{status}.v1"),
        signal_id: s.signal.signal_id.clone(),
        signal_event_id: s.signal.id.clone(),
        step: s.signal.step.clone(),
        contact: s.contact.to_owned(),
        channel: s.channel.to_owned(),
        attempt,
        status: status.into(),
        error,
        at,
        next_attempt_at,
        signal_partition: Some(s.position.0),
        signal_offset: Some(s.position.1),
    }
}

fn lifecycle_event(
    job: &Job,
    status: &str,
    attempt: i32,
    error: Option<String>,
    at: Timestamp,
    next_attempt_at: Option<Timestamp>,
) -> DeliveryEvent {
    ledger_record(&job.subject(), status, attempt, error, at, next_attempt_at)
}

/// Why a delivery must not be sent at all: its contact was removed from the directory, or its
/// endpoint is disabled (an operator's retry is still sent to a disabled endpoint).
fn not_to_call(deps: &Deps, job: &Job) -> Option<String> {
    if deps
        .removed
        .lock()
        .expect("removed lock")
        .contains(&job.contact)
    {
        return Some("the contact was removed from the directory".into());
    }
    let health = deps
        .endpoint_health
        .lock()
        .expect("endpoint health lock")
        .get(&job.contact, job.send.channel());
    (health.disabled && !job.single_attempt).then(|| {
        format!(
            "endpoint disabled after failing since {}; fix it in the directory and retry",
            health
                .failing_since
                .map_or_else(|| "long".to_owned(), |t| t.to_string())
        )
    })
}

/// Runs one delivery through its lifecycle: queued → in flight → delivered, retry scheduled
/// (→ in flight …) or dead-lettered, each step recorded in `hub.deliveries.v1` before the next.
/// Retries wait on notify's clock. Returns true once the outcome is final and recorded; false
/// when shutdown interrupted it (it resumes after a restart).
async fn deliver(deps: &Deps, mut job: Job, shutdown: &Shutdown) -> bool {
    tokio::select! {
        _ = deps.clock.ready() => {},
        _ = shutdown.wait() => return false,
    }
    let mut attempt = job.next_attempt;
    let channel = job.send.channel();
    if job.fresh {
        let ev = lifecycle_event(&job, "queued", 0, None, deps.clock.now(), None);
        if !record_until_durable(deps, &ev, shutdown).await {
            return false;
        }
    }
    if let Some((hour, note)) = job.digest.take() {
        // durable in the ledger, the signal may be committed; the digest loop sends it
        let due = digest::next_digest_at(deps.clock.now(), hour, &deps.tz);
        let ev = lifecycle_event(
            &job,
            "digest-scheduled",
            1,
            None,
            deps.clock.now(),
            Some(due),
        );
        if !record_until_durable(deps, &ev, shutdown).await {
            return false;
        }
        let Send::Email { to, .. } = &job.send else {
            return true;
        };
        deps.digests.add(
            &job.contact,
            to,
            &note.data.your_roles.join(", "),
            digest::Item {
                delivery_id: job.id.clone(),
                signal: job.signal.clone(),
                position: job.position,
                note,
                attempt: 1,
                due,
            },
        );
        return true;
    }
    if let Some(at) = job.not_before {
        tokio::select! {
            _ = deps.clock.sleep_until(at) => {},
            _ = shutdown.wait() => return false,
        }
    }
    let endpoint = deps.endpoint(&job.send);
    loop {
        if shutdown.is_triggered() {
            return false;
        }
        if let Some(error) = not_to_call(deps, &job) {
            let ev = lifecycle_event(
                &job,
                "dead-lettered",
                attempt,
                Some(error),
                deps.clock.now(),
                None,
            );
            deps.health.metrics.inc(
                "schakel_notify_deliveries_total",
                &format!("channel=\"{channel}\",status=\"dead-lettered\""),
            );
            return record_until_durable(deps, &ev, shutdown).await;
        }
        let result = {
            let _slot = endpoint.acquire().await.expect("semaphore open");
            let ev = lifecycle_event(&job, "in-flight", attempt, None, deps.clock.now(), None);
            if !record_until_durable(deps, &ev, shutdown).await {
                return false;
            }
            send_once(deps, &job).await
        };
        let max_attempts = deps.schedule.len() as i32 + 1;
        let (status, error, wait) = match &result {
            Ok(_) => ("succeeded", None, None),
            Err(e) if attempt >= max_attempts || job.single_attempt => {
                ("dead-lettered", Some(e.clone()), None)
            }
            Err(e) => (
                "failed",
                Some(e.clone()),
                Some(deps.schedule[(attempt - 1) as usize]),
            ),
        };
        let now = deps.clock.now();
        let next_at = wait.and_then(|w| {
            now.checked_add(jiff::SignedDuration::try_from(w).ok()?)
                .ok()
        });
        let ev = lifecycle_event(&job, status, attempt, error.clone(), now, next_at);
        deps.health.metrics.inc(
            "schakel_notify_deliveries_total",
            &format!("channel=\"{channel}\",status=\"{status}\""),
        );
        if !record_until_durable(deps, &ev, shutdown).await {
            return false;
        }
        if !check_endpoint(deps, &job, &ev, shutdown).await {
            return false;
        }
        match (wait, next_at) {
            (Some(w), Some(at)) => {
                tracing::info!(delivery_id = %job.id, attempt, error = error.as_deref().unwrap_or(""), retry_in_s = w.as_secs(), "delivery failed; retry scheduled");
                tokio::select! {
                    _ = deps.clock.sleep_until(at) => {},
                    _ = shutdown.wait() => return false,
                }
                attempt += 1;
            }
            _ => {
                tracing::debug!(delivery_id = %job.id, attempt, status, "delivery final");
                if status == "dead-lettered" {
                    tracing::warn!(delivery_id = %job.id, contact = %job.contact, attempt, "delivery dead-lettered");
                }
                return true;
            }
        }
    }
}

/// Writes an outcome to the ledger, retrying with backoff while the broker refuses it: a
/// delivery whose outcome is not durable must not be given up until shutdown (the signal offset
/// stays uncommitted, so a restart would resume it). False only when shutdown interrupted it.
async fn record_until_durable(deps: &Deps, ev: &DeliveryEvent, shutdown: &Shutdown) -> bool {
    let mut backoff = Duration::from_millis(200);
    loop {
        match record(deps, ev).await {
            Ok(()) => return true,
            Err(e) => {
                tracing::error!(delivery_id = %ev.id, error = %e, retry_in_ms = backoff.as_millis() as u64, "cannot record delivery outcome; retrying");
                deps.health
                    .metrics
                    .inc("schakel_notify_ledger_write_errors_total", "");
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(backoff) => {},
            _ = shutdown.wait() => return false,
        }
        backoff = (backoff * 2).min(Duration::from_secs(10));
    }
}

async fn record(deps: &Deps, ev: &DeliveryEvent) -> anyhow::Result<()> {
    let ce = CloudEvent {
        id: format!("{}-{}-{}", ev.id, ev.attempt, ev.status),
        source: "urn:nl:schakel:notify".into(),
        kind: ev.kind.clone(),
        time: ev.at,
        trace: TraceParent::new_root(),
    };
    deps.producer
        .send(Outgoing {
            topic: "hub.deliveries.v1",
            key: &ev.id,
            value: ev,
            event: &ce,
            partition: None,
        })
        .await?;
    Ok(())
}
