//! What every delivery task shares: the clock, the directory as notify follows it, the
//! endpoints' health and caps, the digests waiting, and the clients that send.

use std::collections::{BTreeSet, HashSet};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use crate::config::Settings;
use schakel_core::runtime::ops::Health;

use crate::clock::Clock;
use crate::digest::Digests;
use crate::directory::Directory;
use crate::email;
use crate::endpoints::Endpoints;
use schakel_core::log::kafka::Producer;

#[derive(Clone)]
pub struct Deps {
    pub cfg: Arc<Settings>,
    pub clock: Clock,
    /// the directory as hub.directory.v1 holds it now
    pub directory: Arc<RwLock<Directory>>,
    /// contacts removed from the directory: they get nothing more, not even a retry
    pub removed: Arc<Mutex<HashSet<String>>>,
    pub endpoints: Endpoints,
    pub digests: Digests,
    pub owner: Ownership,
    pub tz: jiff::tz::TimeZone,
    pub producer: Producer,
    pub client: reqwest::Client,
    pub mailer: Option<Arc<email::Mailer>>,
    /// set once the Notificaties API knows the kanaal (`[notify.notificaties]`)
    pub kanaal: Arc<tokio::sync::OnceCell<()>>,
    pub schedule: Arc<Vec<Duration>>,
    pub timeout: Duration,
    pub health: Health,
}

/// Which partitions of hub.signals.v1 this instance owns now. A contact's digest and the
/// records about its endpoints belong to the owner of the partition its id hashes to, so
/// exactly one instance sends a contact's digest, however many run.
#[derive(Clone)]
pub struct Ownership {
    partitions: i32,
    owned: Arc<RwLock<BTreeSet<i32>>>,
}

impl Ownership {
    pub fn new(partitions: i32) -> Self {
        Self {
            partitions: partitions.max(1),
            owned: Arc::default(),
        }
    }

    /// The partition whose owner handles `contact`'s digest.
    pub fn partition_of_contact(&self, contact: &str) -> i32 {
        // FNV-1a: stable across versions and machines, unlike the std hasher
        let h = contact.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        });
        (h % self.partitions as u64) as i32
    }

    pub fn owns_contact(&self, contact: &str) -> bool {
        self.owns(self.partition_of_contact(contact))
    }

    pub fn owns(&self, partition: i32) -> bool {
        self.owned
            .read()
            .expect("ownership lock")
            .contains(&partition)
    }

    pub fn set(&self, partition: i32, owned: bool) {
        let mut o = self.owned.write().expect("ownership lock");
        if owned {
            o.insert(partition);
        } else {
            o.remove(&partition);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_contact_has_one_owning_partition() {
        let o = Ownership::new(6);
        let p = o.partition_of_contact("school-12AB-ib");
        assert!((0..6).contains(&p));
        assert_eq!(p, o.partition_of_contact("school-12AB-ib"), "stable");
        assert!(!o.owns_contact("school-12AB-ib"));
        o.set(p, true);
        assert!(o.owns_contact("school-12AB-ib"));
        o.set(p, false);
        assert!(!o.owns_contact("school-12AB-ib"));
        let spread: BTreeSet<i32> = (0..60)
            .map(|i| o.partition_of_contact(&format!("contact-{i}")))
            .collect();
        assert!(
            spread.len() >= 5,
            "contacts spread over the partitions: {spread:?}"
        );
    }
}
