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

/// One signal step waiting for a contact's digest: where it is in the log, not what it says
/// (the digest is rendered when it is sent, from the log and the directory as they are then).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    pub delivery_id: String,
    pub position: (i32, i64),
    pub attempt: i32,
    pub due: Timestamp,
}

/// Every digest not yet sent, per contact, shared by the main loop (which fills it from the
/// ledger) and the digest loop (which sends it). Only contacts this instance owns are in it.
#[derive(Clone, Default)]
pub struct Digests {
    inner: Arc<Mutex<BTreeMap<String, Vec<Item>>>>,
    wake: Arc<tokio::sync::Notify>,
}

impl Digests {
    /// Puts an item into its contact's digest, replacing an earlier state of the same delivery.
    pub fn schedule(&self, contact: &str, item: Item) {
        let mut m = self.inner.lock().expect("digest lock");
        let items = m.entry(contact.to_owned()).or_default();
        items.retain(|i| i.delivery_id != item.delivery_id);
        items.push(item);
        drop(m);
        self.wake.notify_one();
    }

    /// Takes a delivery out of its contact's digest (it was sent or given up).
    pub fn remove(&self, contact: &str, delivery_id: &str) {
        let mut m = self.inner.lock().expect("digest lock");
        if let Some(items) = m.get_mut(contact) {
            items.retain(|i| i.delivery_id != delivery_id);
            if items.is_empty() {
                m.remove(contact);
            }
        }
    }

    /// Drops the digests of the contacts `gone` says (another instance owns them now).
    pub fn forget(&self, gone: impl Fn(&str) -> bool) {
        self.inner
            .lock()
            .expect("digest lock")
            .retain(|contact, _| !gone(contact));
    }

    /// When the next digest is due, if any waits.
    pub fn earliest(&self) -> Option<Timestamp> {
        let m = self.inner.lock().expect("digest lock");
        m.values()
            .flat_map(|items| items.iter().map(|i| i.due))
            .min()
    }

    /// Takes the items due at `now`, per contact.
    pub fn take_due(&self, now: Timestamp) -> Vec<(String, Vec<Item>)> {
        let mut m = self.inner.lock().expect("digest lock");
        let mut out = Vec::new();
        for (contact, items) in m.iter_mut() {
            let (due, later): (Vec<Item>, Vec<Item>) = std::mem::take(items)
                .into_iter()
                .partition(|i| i.due <= now);
            *items = later;
            if !due.is_empty() {
                out.push((contact.clone(), due));
            }
        }
        m.retain(|_, items| !items.is_empty());
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
            .map(Vec::len)
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
    fn a_digest_holds_each_delivery_once_and_gives_out_what_is_due() {
        let ts = |s: &str| s.parse::<Timestamp>().unwrap();
        let d = Digests::default();
        let item = |id: &str, due: &str| Item {
            delivery_id: id.into(),
            position: (0, 1),
            attempt: 1,
            due: ts(due),
        };
        d.schedule("c1", item("a", "2026-01-12T07:00:00Z"));
        d.schedule("c1", item("b", "2026-01-13T07:00:00Z"));
        // a retry of the same delivery replaces it
        d.schedule("c1", item("a", "2026-01-12T08:00:00Z"));
        d.schedule("c2", item("c", "2026-01-12T07:00:00Z"));
        assert_eq!(d.len(), 3);
        assert_eq!(d.earliest(), Some(ts("2026-01-12T07:00:00Z")));
        let due = d.take_due(ts("2026-01-12T09:00:00Z"));
        assert_eq!(due.len(), 2, "one digest per contact: {due:?}");
        assert_eq!(d.len(), 1, "b waits for tomorrow");
        d.forget(|c| c == "c1");
        assert!(d.is_empty());
    }

    #[test]
    fn urgent_steps_bypass_the_digest() {
        assert!(is_urgent("escalated") && is_urgent("overdue"));
        assert!(!is_urgent("opened") && !is_urgent("reminded") && !is_urgent("resolved"));
    }
}
