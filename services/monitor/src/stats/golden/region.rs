//! The generated region of children: who is a thuiszitter since when, with a passend aanbod or a
//! vrijstelling, when each fact was received, and the thuiszitters the test expects from it.

use super::*;

/// One generated child: a thuiszitter registration (since, when it was received), maybe a
/// passend aanbod (from, when received), maybe a vrijstelling 5 onder b from a day.
pub(super) struct Kid {
    pub(super) municipality: &'static str,
    pub(super) since: Date,
    pub(super) received: Date,
    pub(super) aanbod: Option<(Date, Date)>,
    pub(super) vrijstelling: Option<(Date, Date)>,
}

pub(super) struct Lcg(pub(super) u64);

impl Lcg {
    pub(super) fn next(&mut self, below: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % below
    }
}

pub(super) fn plus(d: Date, n: u64) -> Date {
    d.saturating_add(jiff::Span::new().days(n as i64))
}

pub(super) fn region() -> (Vec<Kid>, Log) {
    let mut rng = Lcg(7);
    let mut kids = Vec::new();
    let mut log = Log::default();
    let base = date(2025, 6, 1);
    for i in 0..400u64 {
        let since = plus(base, rng.next(400));
        // most registrations arrive within a week; one in five a month or more late
        let late = if rng.next(5) == 0 {
            30 + rng.next(60)
        } else {
            rng.next(7)
        };
        let received = plus(since, late);
        let aanbod = (rng.next(2) == 0).then(|| {
            let from = plus(since, 20 + rng.next(200));
            (from, plus(from, rng.next(3) * 20))
        });
        let vrijstelling = (rng.next(6) == 0).then(|| {
            let from = plus(base, rng.next(400));
            (from, plus(from, rng.next(2) * 45))
        });
        let municipality = ["0392", "0377", "0453"][i as usize % 3];
        let child = ChildRef {
            child_key: ChildKey::parse(&format!("{i:064x}")).unwrap(),
            birth_date: date(2012, 3, 1),
            birth_date_precision: DatePrecision::Day,
            residence_municipality: Some(municipality.into()),
        };
        let ev = |n: &str, data| {
            SourceEvent::new(
                format!("{n}-{i}"),
                "urn:test".into(),
                Timestamp::UNIX_EPOCH,
                child.clone(),
                data,
            )
        };
        let reg: LeerplichtEvent = ev(
            "t",
            LeerplichtData::ThuiszitterRegistered {
                since,
                school: None::<SchoolRef>,
            },
        );
        log.leerplicht(&reg, at(received));
        if let Some((from, got)) = aanbod {
            let e: LeerplichtEvent = ev(
                "a",
                LeerplichtData::ThuiszitterResolved {
                    date: from,
                    offer: "onderwijs".into(),
                },
            );
            log.leerplicht(&e, at(got));
        }
        if let Some((from, got)) = vrijstelling {
            let e: LeerplichtEvent = ev(
                "v",
                LeerplichtData::VrijstellingGranted {
                    kind: "5-onder-b".into(),
                    from,
                    until: None,
                },
            );
            log.leerplicht(&e, at(got));
        }
        kids.push(Kid {
            municipality,
            since,
            received,
            aanbod,
            vrijstelling,
        });
    }
    (kids, log)
}

/// Expected: thuiszitters on `p` by municipality and duration, known at `known` (None: all).
pub(super) fn expected(kids: &[Kid], p: Date, known: Option<Date>) -> Vec<(String, [u64; 3])> {
    let knows = |d: Date| known.is_none_or(|k| d <= k);
    let mut out: std::collections::BTreeMap<String, [u64; 3]> = Default::default();
    for k in kids {
        let row = out.entry(k.municipality.into()).or_default();
        if !knows(k.received) || k.since > p {
            continue;
        }
        let ended = k
            .aanbod
            .filter(|(_, got)| knows(*got))
            .map(|(from, _)| from)
            .filter(|f| *f >= k.since);
        if ended.is_some_and(|e| e <= p) {
            continue;
        }
        let out_days = (p - k.since).get_days();
        if out_days < 28 {
            continue;
        }
        let b = if p <= k.since.saturating_add(jiff::Span::new().months(3)) {
            0
        } else if p <= k.since.saturating_add(jiff::Span::new().months(6)) {
            1
        } else {
            2
        };
        row[b] += 1;
    }
    out.into_iter().collect()
}
