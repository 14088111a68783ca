//! One order for the co-partitioned topics of a partition. Kafka orders records only within a
//! topic's partition, so a consumer of several topics sees them interleaved by fetch timing:
//! a restarted rules instance could read a tick before facts that were written before it, and
//! fire on another day. The merger releases a partition's records by the broker's append time
//! (`message.timestamp.type=LogAppendTime`, set by `schakel topics apply`), then the topic's
//! place in the input list, then the offset: the same order on every replay and every instance.
//!
//! A record is released only when no other topic of the partition can still hold an earlier
//! one: each other topic either has a later record waiting, or the caller knows it can no
//! longer deliver a record appended at or before it (in the rules service: the topic's leader,
//! asked after the record's append time, named an end the consumer has read).

use std::collections::VecDeque;

use crate::log::kafka::Record;

/// Where a record stands in the merged order.
fn key(topic: usize, r: &Record) -> (i64, usize, i64) {
    (r.timestamp.unwrap_or(i64::MIN), topic, r.offset)
}

/// The records of one partition's topics waiting to be released in order.
#[derive(Debug)]
pub struct Merger {
    queues: Vec<VecDeque<Record>>,
    cap: usize,
}

impl Merger {
    /// A merger of `topics` topics holding at most `cap` records per topic before the caller
    /// should pause that topic (`is_full`).
    pub fn new(topics: usize, cap: usize) -> Self {
        Self {
            queues: (0..topics).map(|_| VecDeque::new()).collect(),
            cap: cap.max(1),
        }
    }

    /// Adds a record read from topic `topic` (records of one topic come in offset order).
    pub fn push(&mut self, topic: usize, rec: Record) {
        self.queues[topic].push_back(rec);
    }

    /// Whether the consumer should stop fetching `topic` until records were released.
    pub fn is_full(&self, topic: usize) -> bool {
        self.queues[topic].len() >= self.cap
    }

    /// Whether a paused `topic` may be fetched again.
    pub fn has_room(&self, topic: usize) -> bool {
        self.queues[topic].len() <= self.cap / 2
    }

    pub fn len(&self) -> usize {
        self.queues.iter().map(VecDeque::len).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.queues.iter().all(VecDeque::is_empty)
    }

    /// The next record in merged order, or None while an earlier one may still come.
    /// `no_earlier(t, at)`: whether topic `t`, with nothing waiting, can no longer deliver a
    /// record appended at or before `at` (milliseconds since the epoch).
    pub fn pop(
        &mut self,
        mut no_earlier: impl FnMut(usize, i64) -> bool,
    ) -> Option<(usize, Record)> {
        let (topic, first) = self
            .queues
            .iter()
            .enumerate()
            .filter_map(|(t, q)| q.front().map(|r| (t, key(t, r))))
            .min_by_key(|(_, k)| *k)?;
        // every empty topic is asked, not only the first that blocks: the caller learns all
        // it must find out before the record can go
        let blocked = self
            .queues
            .iter()
            .enumerate()
            .filter(|(t, q)| *t != topic && q.is_empty())
            .fold(false, |blocked, (t, _)| !no_earlier(t, first.0) | blocked);
        if blocked {
            return None;
        }
        self.queues[topic].pop_front().map(|r| (topic, r))
    }

    /// Everything still waiting, dropped (a partition taken away: its new owner reads it).
    pub fn clear(&mut self) {
        for q in &mut self.queues {
            q.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(offset: i64, ts: i64) -> Record {
        Record {
            topic: String::new(),
            partition: 0,
            offset,
            key: None,
            value: None,
            timestamp: Some(ts),
            trace: None,
        }
    }

    fn drain(m: &mut Merger, ends: &[bool]) -> Vec<(usize, i64)> {
        let mut out = Vec::new();
        while let Some((t, r)) = m.pop(|t, _| ends[t]) {
            out.push((t, r.offset));
        }
        out
    }

    #[test]
    fn releases_by_append_time_whatever_the_arrival_order() {
        // facts at 100 and 300 on topic 0, a tick at 200 on topic 1
        let mut a = Merger::new(2, 100);
        a.push(1, rec(0, 200));
        a.push(0, rec(0, 100));
        a.push(0, rec(1, 300));
        let mut b = Merger::new(2, 100);
        b.push(0, rec(0, 100));
        b.push(0, rec(1, 300));
        b.push(1, rec(0, 200));
        let want = vec![(0, 0), (1, 0), (0, 1)];
        assert_eq!(drain(&mut a, &[true, true]), want);
        assert_eq!(drain(&mut b, &[true, true]), want);
    }

    #[test]
    fn waits_for_a_topic_that_was_not_read_to_its_end() {
        let mut m = Merger::new(2, 100);
        m.push(0, rec(0, 100));
        // topic 1 may still hold something older
        assert!(m.pop(|t, _| t == 0).is_none());
        // its record at 50 arrives and comes first
        m.push(1, rec(0, 50));
        assert_eq!(drain(&mut m, &[true, true]), vec![(1, 0), (0, 0)]);
    }

    #[test]
    fn an_empty_topic_is_asked_about_the_head_s_append_time() {
        let mut m = Merger::new(3, 100);
        m.push(0, rec(0, 9_800));
        m.push(0, rec(1, 9_900));
        let mut asked = Vec::new();
        // topic 2 is known to hold nothing up to 9 850, topic 1 nothing at all
        let mut ends = |t: usize, at: i64| {
            asked.push((t, at));
            t == 1 || at <= 9_850
        };
        assert_eq!(m.pop(&mut ends).map(|(t, r)| (t, r.offset)), Some((0, 0)));
        assert!(
            m.pop(&mut ends).is_none(),
            "topic 2 may still hold a record of 9 900"
        );
        assert_eq!(asked, vec![(1, 9_800), (2, 9_800), (1, 9_900), (2, 9_900)]);
        // when the first empty topic blocks, the others are asked all the same
        asked.clear();
        assert!(m
            .pop(|t, at| {
                asked.push((t, at));
                false
            })
            .is_none());
        assert_eq!(asked, vec![(1, 9_900), (2, 9_900)]);
    }

    #[test]
    fn equal_times_go_by_topic_then_offset() {
        let mut m = Merger::new(3, 100);
        m.push(2, rec(7, 100));
        m.push(1, rec(4, 100));
        m.push(1, rec(5, 100));
        m.push(0, rec(9, 100));
        assert_eq!(
            drain(&mut m, &[true, true, true]),
            vec![(0, 9), (1, 4), (1, 5), (2, 7)]
        );
    }

    #[test]
    fn reports_full_and_room_for_pausing() {
        let mut m = Merger::new(2, 4);
        for i in 0..4 {
            m.push(0, rec(i, i));
        }
        assert!(m.is_full(0) && !m.has_room(0) && !m.is_full(1));
        drain(&mut m, &[true, true]);
        assert!(m.has_room(0) && m.is_empty());
    }
}
