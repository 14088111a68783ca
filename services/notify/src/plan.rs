//! Planning: which deliveries a signal step needs, given the directory and the ledger. Pure:
//! the ledger decides what is final already, what resumes (same id, next attempt) and what is
//! new; the directory decides who receives it over which channels.

use crate::config::Settings;
use jiff::Timestamp;
use schakel_core::domain::events::SignalEvent;

use crate::delivery::{Job, Send};
use crate::directory::{Contact, Directory};
use crate::ledger::{delivery_id, DeliveryState, Ledger};
use crate::{digest, email, message, notificaties};

/// Which deliveries of a signal step to plan.
#[derive(Clone, Copy)]
pub enum Only<'a> {
    /// every one the ledger does not show as final (a signal read from the log)
    All,
    /// one dead letter an operator retried: one attempt
    Delivery(&'a str),
    /// the contacts that now hold a role nobody held before (an unroutable role retried)
    Role(&'a str),
}

/// The deliveries to run and what could not be planned.
#[derive(Default)]
pub struct Plan {
    pub jobs: Vec<Job>,
    /// roles of the signal that no contact holds
    pub missing: Vec<String>,
    /// contacts that want e-mail while `notify.email` is not configured
    pub email_unconfigured: Vec<String>,
}

/// The deliveries a signal step needs that the ledger does not show as final.
pub fn plan(
    cfg: &Settings,
    directory: &Directory,
    ledger: &Ledger,
    signal: &SignalEvent,
    position: (i32, i64),
    only: Only<'_>,
    now: Timestamp,
) -> Plan {
    let (recipients, missing) = directory.recipients(signal);
    let everyone: Vec<&Contact> = recipients.iter().map(|(c, _)| *c).collect();
    let mut out = Plan {
        missing,
        ..Plan::default()
    };
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
                out.email_unconfigured.push(contact.id.clone());
                continue;
            }
            let id = delivery_id(&signal.id, &contact.id, channel);
            if matches!(only, Only::Delivery(o) if o != id) {
                continue;
            }
            let state = ledger.get(&id);
            match state {
                Some(s) if s.is_final() => continue,
                // in its contact's digest already
                Some(DeliveryState::DigestScheduled { .. }) if matches!(only, Only::All) => {
                    continue
                }
                _ => {}
            }
            let note = message::build(message::Build {
                signal,
                recipient: contact,
                roles,
                others: &everyone,
                directory,
                delivery_id: &id,
                oin: &cfg.region.oin,
                api_base_url: &cfg.region.api_base_url,
                links: cfg.signer.as_ref(),
                link_days: cfg.links.valid_days,
                now,
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
            out.jobs.push(Job {
                id,
                signal: signal.clone(),
                contact: contact.id.clone(),
                send,
                digest,
                state: state.cloned(),
                position,
                single_attempt: matches!(only, Only::Delivery(_)),
                logged_at: None,
                trace: None,
            });
        }
    }
    if let Some(api) = &cfg.notify.notificaties {
        plan_notificaties(cfg, api, ledger, signal, position, only, now, &mut out);
    }
    out
}

/// One notificatie per role of the step to the region's Notificaties API, whoever holds the
/// role in the directory (its subscribers route by `kenmerken`).
#[allow(clippy::too_many_arguments)]
fn plan_notificaties(
    cfg: &Settings,
    api: &crate::config::NotificatiesConfig,
    ledger: &Ledger,
    signal: &SignalEvent,
    position: (i32, i64),
    only: Only<'_>,
    now: Timestamp,
    out: &mut Plan,
) {
    if matches!(only, Only::Role(_)) {
        return;
    }
    for role in &signal.recipients {
        let contact = notificaties::contact_of(role);
        let id = delivery_id(
            &signal.id,
            &format!("{contact}@{}", api.url),
            notificaties::CHANNEL,
        );
        if matches!(only, Only::Delivery(o) if o != id) {
            continue;
        }
        let state = ledger.get(&id);
        if state.is_some_and(DeliveryState::is_final) {
            continue;
        }
        let body = notificaties::notificatie(api, signal, role, &cfg.region.api_base_url, now);
        out.jobs.push(Job {
            id,
            signal: signal.clone(),
            contact,
            send: Send::Notificaties {
                body: serde_json::to_vec(&body).expect("notificatie serialises"),
            },
            digest: None,
            state: state.cloned(),
            position,
            single_attempt: matches!(only, Only::Delivery(_)),
            logged_at: None,
            trace: None,
        });
    }
}
