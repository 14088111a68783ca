//! Daily digests: contacts with `digest_hour` get their e-mail once a day at that hour
//! (Europe/Amsterdam), listing every signal step since the last one; escalations and overdue
//! tasks still go at once. A step waiting for its digest is recorded in `hub.deliveries.v1` as
//! `digest-scheduled` (with the digest's time), so a restarted notify rebuilds the digests
//! from the ledger.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use jiff::civil::Time;
use jiff::tz::TimeZone;
use jiff::Timestamp;
use schakel_core::events::SignalEvent;

use crate::message::Notification;

/// Steps that never wait for a digest.
pub fn is_urgent(step: &str) -> bool {
    matches!(step, "escalated" | "overdue")
}

/// The first moment at `hour` o'clock in `tz` after `now`.
pub fn next_digest_at(now: Timestamp, hour: i32, tz: &TimeZone) -> Timestamp {
    let hour = hour.clamp(0, 23) as i8;
    let local = now.to_zoned(tz.clone());
    let at = |d: jiff::civil::Date| {
        d.to_datetime(Time::new(hour, 0, 0, 0).unwrap_or(Time::midnight()))
            .to_zoned(tz.clone())
            .map(|z| z.timestamp())
            .unwrap_or(now)
    };
    let today = at(local.date());
    if today > now {
        today
    } else {
        local.date().tomorrow().map(at).unwrap_or(today)
    }
}

/// One signal step waiting for a contact's digest.
pub struct Item {
    pub delivery_id: String,
    pub signal: SignalEvent,
    pub position: (i32, i64),
    pub note: Notification,
    pub attempt: i32,
    pub due: Timestamp,
}

/// The digest of one contact.
pub struct Pending {
    pub to: String,
    pub name: String,
    pub items: Vec<Item>,
}

/// Every digest not yet sent, shared by the planner and the digest loop.
#[derive(Clone, Default)]
pub struct Digests {
    inner: Arc<Mutex<BTreeMap<String, Pending>>>,
    wake: Arc<tokio::sync::Notify>,
}

impl Digests {
    pub fn add(&self, contact: &str, to: &str, name: &str, item: Item) {
        let mut m = self.inner.lock().expect("digest lock");
        let p = m.entry(contact.to_owned()).or_insert_with(|| Pending {
            to: to.to_owned(),
            name: name.to_owned(),
            items: Vec::new(),
        });
        if !p.items.iter().any(|i| i.delivery_id == item.delivery_id) {
            p.items.push(item);
        }
        drop(m);
        self.wake.notify_one();
    }

    /// When the next digest is due, if any waits.
    pub fn earliest(&self) -> Option<Timestamp> {
        let m = self.inner.lock().expect("digest lock");
        m.values().flat_map(|p| p.items.iter().map(|i| i.due)).min()
    }

    /// Takes the items due at `now`, per contact.
    pub fn take_due(&self, now: Timestamp) -> Vec<(String, Pending)> {
        let mut m = self.inner.lock().expect("digest lock");
        let mut out = Vec::new();
        for (contact, p) in m.iter_mut() {
            let (due, later): (Vec<Item>, Vec<Item>) = std::mem::take(&mut p.items)
                .into_iter()
                .partition(|i| i.due <= now);
            p.items = later;
            if !due.is_empty() {
                out.push((
                    contact.clone(),
                    Pending {
                        to: p.to.clone(),
                        name: p.name.clone(),
                        items: due,
                    },
                ));
            }
        }
        m.retain(|_, p| !p.items.is_empty());
        out
    }

    /// Waits until something is added.
    pub async fn changed(&self) {
        self.wake.notified().await
    }

    pub fn len(&self) -> usize {
        self.inner
            .lock()
            .expect("digest lock")
            .values()
            .map(|p| p.items.len())
            .sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_next_digest_is_the_next_time_the_hour_strikes_in_amsterdam() {
        let tz = TimeZone::get("Europe/Amsterdam").unwrap();
        let ts = |s: &str| s.parse::<Timestamp>().unwrap();
        // winter: UTC+1
        assert_eq!(
            next_digest_at(ts("2026-01-12T06:30:00Z"), 8, &tz),
            ts("2026-01-12T07:00:00Z")
        );
        assert_eq!(
            next_digest_at(ts("2026-01-12T07:00:00Z"), 8, &tz),
            ts("2026-01-13T07:00:00Z"),
            "at the hour itself: the next day"
        );
        // summer: UTC+2
        assert_eq!(
            next_digest_at(ts("2026-07-01T12:00:00Z"), 8, &tz),
            ts("2026-07-02T06:00:00Z")
        );
    }

    #[test]
    fn urgent_steps_bypass_the_digest() {
        assert!(is_urgent("escalated") && is_urgent("overdue"));
        assert!(!is_urgent("opened") && !is_urgent("reminded") && !is_urgent("resolved"));
    }
}
