//! Thuiszitter episodes: from a child's facts as known on a day, the spells out of school (by
//! kind), whether the child was leerplichtig, and the duration buckets.

use super::*;

/// A thuiszitter's kind of episode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    /// langdurig relatief verzuim: an LRV melding
    Lrv,
    /// leerplichtig and enrolled nowhere
    AbsoluutVerzuim,
    /// registered as thuiszitter by leerplicht
    Registratie,
}

impl Kind {
    pub const ALL: [Kind; 3] = [Kind::Lrv, Kind::AbsoluutVerzuim, Kind::Registratie];

    pub fn dutch(self) -> &'static str {
        match self {
            Kind::Lrv => "Langdurig relatief verzuim",
            Kind::AbsoluutVerzuim => "Absoluut verzuim",
            Kind::Registratie => "Registratie thuiszitter",
        }
    }
}

/// A stretch out of school.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Episode {
    pub kind: Kind,
    pub start: Date,
    /// the first day back (or with a passend aanbod), as known
    pub end: Option<Date>,
    /// the day a passend aanbod began, if one did
    pub aanbod: Option<Date>,
}

/// Whether the child is leerplichtig on `d` (from the month after its 5th birthday to the end
/// of the school year in which it turns 16).
pub(super) fn leerplichtig(birth: Date, d: Date) -> bool {
    let five = birth.saturating_add(jiff::Span::new().years(5));
    let start = five
        .first_of_month()
        .saturating_add(jiff::Span::new().months(1));
    let sixteen = birth.saturating_add(jiff::Span::new().years(16));
    let end_year = if sixteen.month() >= 8 {
        sixteen.year() + 1
    } else {
        sixteen.year()
    };
    d >= start && d <= jiff::civil::date(end_year, 7, 31)
}

/// The child's episodes out of school as known at `as_of`.
pub fn episodes(c: &ChildLog, as_of: AsOf) -> Vec<Episode> {
    // most children never leave school: nothing to gather for them
    if !c.facts.iter().any(|k| {
        matches!(
            k.fact,
            Fact::Thuiszitter { .. } | Fact::Verzuim { .. } | Fact::Unenrolled { .. }
        )
    }) {
        return Vec::new();
    }
    let known: Vec<&Fact> = c
        .facts
        .iter()
        .filter(|k| as_of.knows(k.at))
        .map(|k| &k.fact)
        .collect();
    let aanbod: Vec<Date> = known
        .iter()
        .filter_map(|f| match f {
            Fact::ThuiszitterResolved { date, .. } => Some(*date),
            _ => None,
        })
        .collect();
    let first_aanbod = |start: Date| aanbod.iter().copied().filter(|d| *d >= start).min();
    let mut out = Vec::new();
    for f in &known {
        match f {
            Fact::Thuiszitter { since } => {
                let a = first_aanbod(*since);
                out.push(Episode {
                    kind: Kind::Registratie,
                    start: *since,
                    end: a,
                    aanbod: a,
                });
            }
            Fact::Verzuim {
                nr,
                kind,
                first_absence,
                ..
            } if kind == "lrv" => {
                // closed on the day the melding was closed or withdrawn, as the log knew it
                let closed =
                    c.facts
                        .iter()
                        .filter(|k| as_of.knows(k.at))
                        .find_map(|k| match &k.fact {
                            Fact::VerzuimStatus { nr: n, status }
                                if n == nr
                                    && matches!(status.as_str(), "afgesloten" | "ingetrokken") =>
                            {
                                Some(day_of(k.at))
                            }
                            _ => None,
                        });
                let a = first_aanbod(*first_absence);
                out.push(Episode {
                    kind: Kind::Lrv,
                    start: *first_absence,
                    end: [closed, a].into_iter().flatten().min(),
                    aanbod: a,
                });
            }
            _ => {}
        }
    }
    // absoluut verzuim: from the day after an unenrolment, until an enrolment begins
    let mut spans: Vec<(Date, bool)> = known
        .iter()
        .filter_map(|f| match f {
            Fact::Enrolled { start, .. } => Some((*start, true)),
            Fact::Unenrolled { end, .. } => Some((end.tomorrow().unwrap_or(*end), false)),
            _ => None,
        })
        .collect();
    spans.sort();
    let mut open: Option<Date> = None;
    for (d, enrolled) in spans {
        match (enrolled, open) {
            (false, None) => open = Some(d),
            (true, Some(s)) => {
                out.push(Episode {
                    kind: Kind::AbsoluutVerzuim,
                    start: s,
                    end: Some(d),
                    aanbod: first_aanbod(s).filter(|a| *a <= d),
                });
                open = None;
            }
            _ => {}
        }
    }
    if let Some(s) = open {
        if leerplichtig(c.birth, s) || leerplichtig(c.birth, as_of.peildatum) {
            let a = first_aanbod(s);
            out.push(Episode {
                kind: Kind::AbsoluutVerzuim,
                start: s,
                end: a,
                aanbod: a,
            });
        }
    }
    out.retain(|e| e.kind != Kind::AbsoluutVerzuim || leerplichtig(c.birth, e.start));
    out
}

/// Out of school for at least four weeks on `d`.
pub(super) fn thuiszitter_on(e: &Episode, d: Date) -> bool {
    e.start <= d && e.end.is_none_or(|end| end > d) && days(e.start, d) >= 28
}

/// The duration buckets of a thuiszitter on the peildatum.
pub const DURATIONS: [&str; 3] = [
    "4 weken tot 3 maanden",
    "3 tot 6 maanden",
    "langer dan 6 maanden",
];

pub(super) fn bucket(start: Date, d: Date) -> usize {
    let three = start.saturating_add(jiff::Span::new().months(3));
    let six = start.saturating_add(jiff::Span::new().months(6));
    if d <= three {
        0
    } else if d <= six {
        1
    } else {
        2
    }
}
