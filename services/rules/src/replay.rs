//! A replay from the log's records, as `schakel whatif` makes one: the records of the topics
//! rules folds, each decoded once, in the order the log received them, and a tick at the
//! start of every day in the region's time zone. What folds them is open: one [`Engine`] for
//! a plain replay, a [`WhatIf`] for two policies side by side.

use jiff::civil::Date;
use jiff::tz::TimeZone;
use schakel_core::domain::catalogue::Topic;
use schakel_core::log::codec::Registry;
use schakel_core::log::kafka::Record;

use crate::whatif::WhatIf;
use crate::{Engine, Input};

/// The topics rules folds, in its order (a replay makes the ticks itself, day by day).
pub const FOLDED: [Topic; 5] = [
    Topic::JEUGDHULP,
    Topic::SCHOOL,
    Topic::VOORSCHOOL,
    Topic::LEERPLICHT,
    Topic::RESPONSES,
];

/// What a replay folds its inputs into.
pub trait Fold {
    fn fold(&mut self, input: &Input);

    /// Folds inputs in order: the same as one by one, and perhaps faster.
    fn fold_all(&mut self, inputs: &[Input]) {
        for input in inputs {
            self.fold(input);
        }
    }
}

impl Fold for Engine {
    /// A plain replay builds the state only: signal steps and refused answers are let go.
    fn fold(&mut self, input: &Input) {
        let _ = self.apply(input);
    }
}

impl Fold for WhatIf {
    fn fold(&mut self, input: &Input) {
        self.apply(input);
    }

    fn fold_all(&mut self, inputs: &[Input]) {
        self.apply_all(inputs);
    }
}

/// Where a record is in the log: (timestamp in ms since the epoch, the rank of its topic in
/// [`FOLDED`], partition, offset).
type Position = (i64, usize, i32, i64);

/// The records of the folded topics, decoded as they are read.
pub struct Decoded {
    reg: Registry,
    inputs: Vec<(Position, Input)>,
}

impl Default for Decoded {
    fn default() -> Self {
        Self {
            reg: schakel_core::log::schemas::registry(),
            inputs: Vec::new(),
        }
    }
}

impl Decoded {
    /// Decodes the records of one of the [`FOLDED`] topics; returns how many could not be
    /// read, which are left out (as rules dead-letters them).
    pub fn add(&mut self, topic: Topic, records: &[Record]) -> usize {
        let rank = FOLDED
            .iter()
            .position(|t| *t == topic)
            .unwrap_or(FOLDED.len());
        let mut unreadable = 0;
        self.inputs.reserve(records.len());
        for r in records {
            let input = r
                .value
                .as_deref()
                .and_then(|bytes| Input::decode(&self.reg, topic, bytes).ok());
            match input {
                Some(input) => self.inputs.push((
                    (r.timestamp.unwrap_or(0), rank, r.partition, r.offset),
                    input,
                )),
                None => unreadable += 1,
            }
        }
        unreadable
    }

    /// How many inputs were decoded.
    pub fn len(&self) -> usize {
        self.inputs.len()
    }

    /// Whether no input was decoded.
    pub fn is_empty(&self) -> bool {
        self.inputs.is_empty()
    }

    /// The inputs in the order the log received them: by timestamp, then by topic, partition
    /// and offset.
    pub fn in_log_order(mut self) -> Replay {
        self.inputs.sort_unstable_by_key(|(at, _)| *at);
        Replay {
            inputs: self.inputs,
        }
    }
}

/// Inputs in log order, to be folded day by day.
pub struct Replay {
    inputs: Vec<(Position, Input)>,
}

/// The instant day `d` begins in time zone `tz`, in ms since the epoch.
fn day_start_ms(d: Date, tz: &TimeZone) -> i64 {
    d.to_zoned(tz.clone())
        .map(|z| z.timestamp().as_millisecond())
        .unwrap_or(i64::MAX)
}

impl Replay {
    /// Folds a tick at the start of every day from the first input's day (or `from`, if that
    /// is earlier) to `to`, each after the inputs stamped before that day began; inputs
    /// stamped after `to` are left out. `progress(day, inputs folded)` is called once the
    /// first day of a new month is folded, and once `to` is. Returns how many inputs were
    /// folded, ticks included.
    pub fn fold_into(
        self,
        into: &mut impl Fold,
        tz: &TimeZone,
        from: Date,
        to: Date,
        mut progress: impl FnMut(Date, u64),
    ) -> Result<u64, jiff::Error> {
        let first_day = self
            .inputs
            .first()
            .and_then(|((t, ..), _)| jiff::Timestamp::from_millisecond(*t).ok())
            .map(|t| t.to_zoned(tz.clone()).date())
            .map_or(from, |d| d.min(from));
        let mut next = self.inputs.into_iter().peekable();
        let mut folded = 0u64;
        let mut day = first_day;
        let mut month = (day.year(), day.month());
        // a month's inputs and ticks, folded together: a what-if's engines then take turns
        // by the month, not by the input, and each keeps its own memory in the cache longer
        let mut batch = Vec::new();
        while day <= to {
            let start = day_start_ms(day, tz);
            while let Some(((t, ..), _)) = next.peek() {
                if *t >= start {
                    break;
                }
                let (_, input) = next.next().expect("peeked");
                batch.push(input);
            }
            batch.push(Input::Tick(day));
            if (day.year(), day.month()) != month || day == to {
                month = (day.year(), day.month());
                into.fold_all(&batch);
                folded += batch.len() as u64;
                batch.clear();
                progress(day, folded);
            }
            day = day.tomorrow()?;
        }
        Ok(folded)
    }
}

#[cfg(test)]
mod tests {
    use jiff::civil::date;
    use schakel_core::domain::dates::DatePrecision;
    use schakel_core::domain::events::{
        ChildRef, LeerplichtData, SchoolData, SchoolRef, SourceEvent,
    };
    use schakel_core::domain::ids::ChildKey;

    use super::*;
    use crate::policy::Policy;
    use crate::scenario::Scenario;

    /// What a fold saw: fact ids and ticks, in order.
    #[derive(Default)]
    struct Seen(Vec<String>);

    impl Fold for Seen {
        fn fold(&mut self, input: &Input) {
            self.0.push(match input {
                Input::Tick(d) => format!("tick {d}"),
                other => other.fact_id().expect("a fact").1.to_owned(),
            });
        }
    }

    fn child() -> ChildRef {
        ChildRef {
            child_key: ChildKey::parse(&"ab".repeat(32)).unwrap(),
            birth_date: date(2012, 5, 1),
            birth_date_precision: DatePrecision::Day,
            residence_municipality: Some("0392".into()),
        }
    }

    /// A record of `topic` at `at` (UTC), as ingest writes it.
    fn record(topic: Topic, id: &str, at: &str, offset: i64) -> Record {
        let reg = schakel_core::log::schemas::registry();
        let time: jiff::Timestamp = at.parse().unwrap();
        let school = SchoolRef {
            brin: "12AB".into(),
            vestiging: "00".into(),
        };
        let value = match topic {
            Topic::SCHOOL => reg.encode(
                topic,
                &SourceEvent::new(
                    id.into(),
                    "urn:test:las".into(),
                    time,
                    child(),
                    SchoolData::ApplicationRegistered {
                        school,
                        date: date(2026, 2, 1),
                    },
                ),
            ),
            _ => reg.encode(
                topic,
                &SourceEvent::new(
                    id.into(),
                    "urn:test:leerplicht".into(),
                    time,
                    child(),
                    LeerplichtData::ThuiszitterRegistered {
                        since: date(2026, 2, 1),
                        school: Some(school),
                    },
                ),
            ),
        };
        Record {
            topic: topic.name().into(),
            partition: 0,
            offset,
            key: None,
            value: Some(value.unwrap()),
            timestamp: Some(time.as_millisecond()),
            trace: None,
        }
    }

    #[test]
    fn facts_go_in_log_order_before_the_tick_of_the_next_amsterdam_day() {
        let mut decoded = Decoded::default();
        // 1 March begins in Amsterdam at 28 February 23:00 UTC
        let school = [
            record(Topic::SCHOOL, "after-midnight", "2026-02-28T23:30:00Z", 0),
            record(Topic::SCHOOL, "same-time-school", "2026-02-28T22:00:00Z", 1),
            record(Topic::SCHOOL, "after-to", "2026-03-03T09:00:00Z", 2),
        ];
        let mut unreadable = record(Topic::SCHOOL, "x", "2026-02-28T12:00:00Z", 3);
        unreadable.value = Some(b"not avro".to_vec());
        let mut tombstone = unreadable.clone();
        tombstone.value = None;
        assert_eq!(decoded.add(Topic::SCHOOL, &school), 0);
        assert_eq!(decoded.add(Topic::SCHOOL, &[unreadable, tombstone]), 2);
        let leerplicht = [
            record(
                Topic::LEERPLICHT,
                "same-time-leerplicht",
                "2026-02-28T22:00:00Z",
                0,
            ),
            record(
                Topic::LEERPLICHT,
                "before-midnight",
                "2026-02-28T22:59:59Z",
                1,
            ),
        ];
        assert_eq!(decoded.add(Topic::LEERPLICHT, &leerplicht), 0);
        assert_eq!(decoded.len(), 5);

        let tz = TimeZone::get("Europe/Amsterdam").unwrap();
        let mut seen = Seen::default();
        let mut progress = Vec::new();
        let folded = decoded
            .in_log_order()
            .fold_into(
                &mut seen,
                &tz,
                date(2026, 2, 27),
                date(2026, 3, 2),
                |d, n| progress.push((d, n)),
            )
            .unwrap();
        assert_eq!(
            seen.0,
            [
                "tick 2026-02-27",
                "tick 2026-02-28",
                // at the same time, school before leerplicht, as rules orders its topics
                "same-time-school",
                "same-time-leerplicht",
                "before-midnight",
                "tick 2026-03-01",
                "after-midnight",
                "tick 2026-03-02",
            ]
        );
        assert_eq!(folded, 8, "what came after --to is left out");
        assert_eq!(
            progress,
            [(date(2026, 3, 1), 6), (date(2026, 3, 2), 8)],
            "a line per month and one at the end"
        );
    }

    #[test]
    fn a_what_if_folded_by_the_batch_reports_as_input_by_input() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
        let (mut checked, mut changed) = (0, 0);
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_none_or(|x| x != "toml") {
                continue;
            }
            let s = Scenario::load(&path).unwrap();
            let mut other: Policy = s.policy.clone();
            other.adulthood.handoff_age = crate::policy::Age::new(17, 0);
            other.verzuim_jeugdhulp.enabled = !other.verzuim_jeugdhulp.enabled;
            let (from, to) = (date(1900, 1, 1), date(2199, 12, 31));
            let mut one = WhatIf::new(s.policy.clone(), other.clone(), from, to);
            let mut batched = WhatIf::new(s.policy.clone(), other, from, to);
            for i in &s.inputs {
                one.apply(i);
            }
            for chunk in s.inputs.chunks(3) {
                batched.fold_all(chunk);
            }
            let json = |w: &WhatIf| serde_json::to_value(w.report()).unwrap();
            assert_eq!(json(&one), json(&batched), "{}", path.display());
            checked += 1;
            changed += usize::from(!one.report().is_empty());
        }
        assert!(checked > 40, "every golden scenario: {checked}");
        assert!(changed > 5, "reports with changes to compare: {changed}");
    }
}
