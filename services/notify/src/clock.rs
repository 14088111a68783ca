//! Notify's time: the wall clock, or (`notify.clock = "log"`) the latest instant stamped on a
//! tick in `hub.clock.v1`. Retries, delivery stamps and digests read it, so a test moves time
//! by producing ticks (`schakel clock tick --at`) instead of sleeping, and a restarted notify
//! reads the same time back from the log.

use jiff::Timestamp;
use tokio::sync::watch;

/// A clock deliveries wait on.
#[derive(Clone)]
pub struct Clock(Option<watch::Receiver<Timestamp>>);

/// Moves a log clock forward.
pub struct Hand(watch::Sender<Timestamp>);

impl Clock {
    pub fn system() -> Self {
        Self(None)
    }

    /// A clock that stands still until its hand moves it; it starts at the Unix epoch, which
    /// means "not set yet" (see [`Clock::ready`]).
    pub fn log() -> (Self, Hand) {
        let (tx, rx) = watch::channel(Timestamp::UNIX_EPOCH);
        (Self(Some(rx)), Hand(tx))
    }

    pub fn now(&self) -> Timestamp {
        match &self.0 {
            None => Timestamp::now(),
            Some(rx) => *rx.borrow(),
        }
    }

    /// Returns once the clock has a time: at once for the wall clock; for a log clock, once a
    /// tick has been read, so nothing is stamped or scheduled at the epoch.
    pub async fn ready(&self) {
        self.sleep_until(Timestamp::UNIX_EPOCH + jiff::SignedDuration::from_secs(1))
            .await
    }

    /// Returns once the clock reads `at` or later.
    pub async fn sleep_until(&self, at: Timestamp) {
        match &self.0 {
            None => {
                let wait = at.duration_since(Timestamp::now());
                if let Ok(w) = std::time::Duration::try_from(wait) {
                    tokio::time::sleep(w).await;
                }
            }
            Some(rx) => {
                let mut rx = rx.clone();
                while *rx.borrow_and_update() < at {
                    if rx.changed().await.is_err() {
                        // the hand is gone: time stands still for good
                        std::future::pending::<()>().await;
                    }
                }
            }
        }
    }
}

impl Hand {
    /// Moves the clock to `t` if that is later; time never goes back.
    pub fn advance_to(&self, t: Timestamp) {
        self.0.send_if_modified(|now| {
            if t > *now {
                *now = t;
                true
            } else {
                false
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn a_log_clock_wakes_sleepers_only_when_time_reaches_them_and_never_goes_back() {
        let (clock, hand) = Clock::log();
        let t0: Timestamp = "2026-01-12T08:00:00Z".parse().unwrap();
        hand.advance_to(t0);
        let due = t0 + jiff::SignedDuration::from_secs(300);
        let c = clock.clone();
        let sleeper = tokio::spawn(async move { c.sleep_until(due).await });
        hand.advance_to(t0 + jiff::SignedDuration::from_secs(299));
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(!sleeper.is_finished(), "one second early");
        hand.advance_to(t0); // back in time: ignored
        assert_eq!(clock.now(), t0 + jiff::SignedDuration::from_secs(299));
        hand.advance_to(due);
        tokio::time::timeout(Duration::from_secs(1), sleeper)
            .await
            .expect("woken at the due time")
            .unwrap();
    }
}
