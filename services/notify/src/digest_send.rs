//! Sending the daily digests. The ledger is their source: every `digest-scheduled` record of a
//! contact this instance owns puts the step into that contact's digest, whichever instance
//! planned it; at the contact's hour the steps are read back from hub.signals.v1, rendered
//! with the directory as it is then, sent as one mail, and each outcome recorded.

use schakel_core::domain::catalogue::Topic;
use schakel_core::domain::events::{DeliveryEvent, DeliveryStatus, SignalEvent};
use schakel_core::log::kafka;
use schakel_core::Shutdown;

use crate::deps::Deps;
use crate::digest::Item;
use crate::ledger::{delivery_id, Ledger};
use crate::ledger_writer::{record_step, Step, Subject};
use crate::lifecycle::{DeliveryState, Outcome, Schedule};
use crate::{email, message};

/// Folds a ledger record into the digests: a step scheduled for a digest of a contact this
/// instance owns waits in it; one that became final leaves it.
pub fn from_ledger(deps: &Deps, ev: &DeliveryEvent) {
    if ev.channel != "email" || !deps.owner.owns_contact(&ev.contact) {
        return;
    }
    let (Some(p), Some(o)) = (ev.signal_partition, ev.signal_offset) else {
        return;
    };
    match ev.status {
        DeliveryStatus::DigestScheduled => deps.digests.schedule(
            &ev.contact,
            Item {
                delivery_id: ev.id.clone(),
                position: (p, o),
                attempt: ev.attempt.max(1),
                due: ev.next_attempt_at.unwrap_or(ev.at),
            },
        ),
        DeliveryStatus::Succeeded | DeliveryStatus::DeadLettered => {
            deps.digests.remove(&ev.contact, &ev.id)
        }
        _ => {}
    }
}

/// Puts back the digests of the contacts owned through `partition` that the ledger shows as
/// not (known to be) sent: after a start, or when the partition came to this instance.
pub fn rehydrate(deps: &Deps, ledger: &Ledger, partition: i32) {
    let mut n = 0;
    for ev in ledger.open_digests() {
        if deps.owner.partition_of_contact(&ev.contact) != partition {
            continue;
        }
        n += 1;
        // an item caught in flight by a crash is due at once
        let mut ev = ev.clone();
        if ev.status != DeliveryStatus::DigestScheduled {
            ev.status = DeliveryStatus::DigestScheduled;
            ev.next_attempt_at = Some(deps.clock.now());
        }
        from_ledger(deps, &ev);
    }
    if n > 0 {
        tracing::info!(partition, items = n, "digests rebuilt from the ledger");
    }
}

/// Sends the digests as they fall due, on notify's clock, until shutdown.
pub async fn run(deps: Deps, shutdown: Shutdown) {
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
        for (contact, items) in deps.digests.take_due(now) {
            if !send(&deps, &contact, items, &shutdown).await {
                return;
            }
        }
    }
}

/// The signal steps of the items, read back from the log in one pass.
async fn read_signals(deps: &Deps, items: &[Item]) -> Vec<Option<SignalEvent>> {
    let positions: Vec<(i32, i64)> = items.iter().map(|i| i.position).collect();
    let (cfg, topic) = ((*deps.cfg).clone(), deps.cfg.topic(Topic::SIGNALS));
    let records =
        tokio::task::spawn_blocking(move || kafka::read_positions(&cfg, &topic, &positions))
            .await
            .ok()
            .and_then(Result::ok)
            .unwrap_or_default();
    items
        .iter()
        .map(|i| {
            records.get(&i.position).and_then(|r| {
                r.value.as_deref().and_then(|v| {
                    deps.producer
                        .registry()
                        .decode::<SignalEvent>(Topic::SIGNALS, v)
                        .ok()
                })
            })
        })
        .collect()
}

/// Sends one contact's digest and records the outcome of every item in it: delivered, or
/// back in the digest after the retry wait, or dead-lettered after the last. False only when
/// shutdown interrupted it.
async fn send(deps: &Deps, contact: &str, items: Vec<Item>, stop: &Shutdown) -> bool {
    let signals = read_signals(deps, &items).await;
    let mut ids: Vec<&str> = items.iter().map(|i| i.delivery_id.as_str()).collect();
    ids.sort_unstable();
    let digest_id = delivery_id(&ids.join(","), contact, "digest");
    // what the digest says, per item, with the directory as it is now
    let (to, name, notes) = {
        let directory = deps.directory.read().expect("directory lock");
        let mut notes = Vec::new();
        let mut names: Vec<String> = Vec::new();
        for (item, signal) in items.iter().zip(&signals) {
            let Some(signal) = signal else {
                tracing::warn!(delivery_id = %item.delivery_id, "the signal step of a digest item cannot be read");
                notes.push(None);
                continue;
            };
            let (recipients, _) = directory.recipients(signal);
            let everyone: Vec<&crate::directory::Contact> =
                recipients.iter().map(|(c, _)| *c).collect();
            let Some((c, roles)) = recipients.iter().find(|(c, _)| c.id == contact) else {
                notes.push(None);
                continue;
            };
            for r in roles {
                if !names.contains(r) {
                    names.push(r.clone());
                }
            }
            notes.push(Some(message::build(message::Build {
                signal,
                recipient: c,
                roles,
                others: &everyone,
                directory: &directory,
                delivery_id: &item.delivery_id,
                oin: &deps.cfg.region.oin,
                api_base_url: &deps.cfg.region.api_base_url,
                links: deps.cfg.signer.as_ref(),
                link_days: deps.cfg.links.valid_days,
                now: deps.clock.now(),
            })));
        }
        let to = directory.contact(contact).and_then(|c| c.email.clone());
        (to, names.join(", "), notes)
    };
    let removed = deps.removed.lock().expect("removed lock").contains(contact);
    let mut steps = Vec::new();
    for (item, signal) in items.iter().zip(&signals) {
        let Some(signal) = signal else { continue };
        let scheduled = DeliveryState::DigestScheduled {
            attempt: item.attempt,
            at: item.due,
        };
        let step = Step {
            subject: subject(item, signal, contact),
            outcome: Outcome::Attempt,
            error: None,
            schedule: Schedule::new(&deps.schedule, &item.delivery_id),
            trace: None,
        };
        match record_step(deps, step, Some(&scheduled), stop).await {
            Some(r) => steps.push(r.state),
            None => return false,
        }
    }
    let result = match (&to, removed) {
        (_, true) | (None, _) => Err("the contact was removed from the directory".to_owned()),
        (Some(to), false) => {
            let shown: Vec<&message::Notification> = notes.iter().flatten().collect();
            let mail = email::render_digest(&name, &shown, &digest_id, &deps.cfg.region.name);
            match &deps.mailer {
                Some(m) => m
                    .send(to, &mail, &digest_id)
                    .await
                    .map_err(|e| e.to_string()),
                None => Err("notify.email is not configured".into()),
            }
        }
    };
    let gone = removed || to.is_none();
    tracing::info!(
        contact,
        items = items.len(),
        ok = result.is_ok(),
        "digest sent"
    );
    let mut in_flight = steps.into_iter();
    for ((item, signal), note) in items.iter().zip(&signals).zip(&notes) {
        let Some(signal) = signal else { continue };
        let state = in_flight.next();
        let (outcome, error) = match &result {
            Ok(()) if note.is_some() => (Outcome::Sent, None),
            Ok(()) => (
                Outcome::Refused,
                Some("the contact no longer receives this signal".to_owned()),
            ),
            Err(e) if gone => (Outcome::Refused, Some(e.clone())),
            Err(e) => (Outcome::DigestFailed, Some(e.clone())),
        };
        let step = Step {
            subject: subject(item, signal, contact),
            outcome,
            error,
            schedule: Schedule::new(&deps.schedule, &item.delivery_id),
            trace: None,
        };
        let Some(done) = record_step(deps, step, state.as_ref(), stop).await else {
            return false;
        };
        deps.health.metrics.inc(
            "schakel_notify_deliveries_total",
            &format!("channel=\"email\",status=\"{}\"", done.record.status),
        );
        // a rescheduled item comes back through the ledger (`from_ledger`)
    }
    true
}

/// What the ledger records of a digest item are about.
fn subject<'a>(item: &'a Item, signal: &'a SignalEvent, contact: &'a str) -> Subject<'a> {
    Subject {
        id: &item.delivery_id,
        signal,
        contact,
        channel: "email",
        position: item.position,
    }
}
