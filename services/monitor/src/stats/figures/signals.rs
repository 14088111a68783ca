//! Figures of the signals: warm handoffs per transition, children out of view and the
//! doorbraak cases.

use super::*;

/// The transitions with a warm handoff.
pub const HANDOFFS: [(&str, &str); 4] = [
    ("R1a", "Voorschool → basisschool"),
    ("R2b", "Basisschool → voortgezet onderwijs"),
    ("R3b", "18-/18+: jeugdteam → volwassenenzorg"),
    ("R3d", "18+: leerplicht → RMC"),
];

/// The steps a handoff is counted by.
pub const HANDOFF_STEPS: [&str; 6] = [
    "Geopend",
    "Ontvangst bevestigd",
    "Afgerond",
    "Termijn verstreken",
    "Geëscaleerd",
    "Vervallen",
];

/// Counts one signal into the handoff table of its transition: how far it got by `d`; then
/// whether it was completed by its due date and whether it was due (two columns the figure
/// turns into a share); and the days to its acknowledgement.
pub(super) fn add_handoff(v: &SignalView, d: Date, row: &mut [u64], to_ack: &mut Vec<i64>) {
    use schakel_core::domain::catalogue::EventType as E;
    let Some(first) = v.first() else { return };
    let step = |w: &str| v.steps.iter().any(|x| x.step == w && x.fired_on <= d);
    let answered = |k: E| {
        v.answers
            .iter()
            .filter(|a| a.kind == k && day_of(a.at) <= d)
            .map(|a| day_of(a.at))
            .min()
    };
    let ack = answered(E::HandoffAcknowledged);
    let completed_on = v
        .steps
        .iter()
        .filter(|x| x.step == "completed" && x.fired_on <= d)
        .map(|x| x.fired_on)
        .min();
    row[0] += 1;
    row[1] += u64::from(ack.is_some() || step("acknowledged"));
    row[2] += u64::from(completed_on.is_some());
    row[3] += u64::from(step("overdue"));
    row[4] += u64::from(step("escalated"));
    row[5] += u64::from(step("cancelled") || answered(E::HandoffCancelled).is_some());
    if let Some(a) = ack {
        to_ack.push(days(first.fired_on, a));
    }
    if let (Some(c), Some(due)) = (completed_on, first.due_date) {
        row[6] += u64::from(c <= due);
    }
    if first.due_date.is_some_and(|due| due <= d) || completed_on.is_some() {
        row[7] += 1;
    }
}

pub(super) fn handoff_figure(
    rule: &str,
    rows: BTreeMap<String, Vec<u64>>,
    to_ack: BTreeMap<String, Vec<i64>>,
) -> Figure {
    let (names, mut counts) = by_municipality(rows, HANDOFF_STEPS.len() + 2);
    let (on_time, due) = counts
        .cells
        .iter_mut()
        .map(|r| {
            let due = r.pop().unwrap_or(0);
            (r.pop().unwrap_or(0), due)
        })
        .unzip();
    let days = names
        .iter()
        .map(|n| to_ack.get(n).cloned().unwrap_or_default())
        .collect();
    let title = HANDOFFS
        .iter()
        .find(|(r, _)| *r == rule)
        .map_or("Warme overdracht", |(_, t)| t);
    Figure {
        id: match rule {
            "R1a" => "overdracht-r1a",
            "R2b" => "overdracht-r2b",
            "R3b" => "overdracht-r3b",
            _ => "overdracht-r3d",
        },
        title,
        definition: "Warme overdrachten die in de periode werden geopend, met hoe ver ze op de peildatum waren gekomen; een taak telt in elke stap die ze bereikte. Tijdig afgerond: van de taken waarvan de termijn op de peildatum verstreken was of die afgerond waren, het deel dat uiterlijk op de termijn werd afgerond. Rijen: gemeente van het signaal.",
        rows: names,
        cols: HANDOFF_STEPS.iter().map(|s| s.to_string()).collect(),
        counts,
        care: false,
        measures: vec![
            Measure::Share {
                label: "Tijdig afgerond",
                part: on_time,
                of: due,
            },
            Measure::Median {
                label: "Mediaan aantal dagen tot ontvangstbevestiging",
                days,
            },
        ],
    }
}

/// The signals of children out of view at a transition.
pub const OUT_OF_VIEW: [(&str, &str); 5] = [
    ("R1b", "Peuter met VVE-indicatie niet aangemeld"),
    ("R1c", "Leerplichtig en nergens ingeschreven"),
    ("R2a", "Groep 8 zonder aanmelding VO"),
    ("R2c", "Oud-leerling groep 8 nergens ingeschreven"),
    ("R5", "Uitgeschreven zonder nieuwe inschrijving"),
];

pub(super) fn out_of_view_figure(rows: BTreeMap<String, Vec<u64>>, opened: bool) -> Figure {
    let (names, counts) = by_municipality(rows, OUT_OF_VIEW.len());
    Figure {
        id: if opened { "uit-beeld-nieuw" } else { "uit-beeld" },
        title: if opened {
            "Kinderen uit beeld: nieuw in de periode"
        } else {
            "Kinderen uit beeld op de peildatum"
        },
        definition: "Signalen van kinderen die bij een overgang uit beeld raken, naar regel. Rijen: gemeente van het signaal.",
        rows: names,
        cols: OUT_OF_VIEW.iter().map(|(_, t)| t.to_string()).collect(),
        counts,
        care: false,
        measures: Vec::new(),
    }
}

/// The columns of the doorbraak table.
pub const DOORBRAAK: [&str; 6] = [
    "Open op de peildatum",
    "Nieuw in de periode",
    "Gesloten in de periode",
    "Open korter dan 1 maand",
    "Open 1 tot 3 maanden",
    "Open 3 maanden of langer",
];

/// Counts one signal into the doorbraak table if it was escalated to the doorbraakaanpak by
/// `d`: open or closed, new in the period, and the age of an open case.
pub(super) fn add_doorbraak(v: &SignalView, from: Date, d: Date, row: &mut [u64]) {
    use schakel_core::domain::catalogue::EventType as E;
    let Some(since) = v
        .steps
        .iter()
        .filter(|x| {
            x.step == "escalated"
                && x.fired_on <= d
                && x.recipients.iter().any(|r| r == "doorbraak")
        })
        .map(|x| x.fired_on)
        .min()
    else {
        return;
    };
    let stepped = v
        .steps
        .iter()
        .filter(|x| matches!(x.step.as_str(), "resolved" | "completed" | "cancelled"))
        .map(|x| x.fired_on);
    let answered = v
        .answers
        .iter()
        .filter(|a| matches!(a.kind, E::HandoffCompleted | E::HandoffCancelled))
        .map(|a| day_of(a.at));
    let closed = stepped
        .chain(answered)
        .filter(|c| *c >= since && *c <= d)
        .min();
    row[1] += u64::from(since >= from);
    match closed {
        Some(c) => row[2] += u64::from(c >= from),
        None => {
            row[0] += 1;
            let one = since.saturating_add(jiff::Span::new().months(1));
            let three = since.saturating_add(jiff::Span::new().months(3));
            row[if d < one {
                3
            } else if d < three {
                4
            } else {
                5
            }] += 1;
        }
    }
}

pub(super) fn doorbraak_figure(rows: BTreeMap<String, Vec<u64>>) -> Figure {
    let (names, counts) = by_municipality(rows, DOORBRAAK.len());
    Figure {
        id: "doorbraak",
        title: "Casussen in de doorbraakaanpak",
        definition: "Signalen die naar de doorbraakaanpak zijn geëscaleerd (thuiszitters zonder passend aanbod, 18-/18+ zonder overdracht): open op de peildatum en hoe lang al, nieuw en gesloten in de periode. Raakt aan zorg: afgerond op vijftallen, kleine aantallen verborgen. Rijen: gemeente van het signaal.",
        rows: names,
        cols: DOORBRAAK.iter().map(|s| s.to_string()).collect(),
        counts,
        care: true,
        measures: Vec::new(),
    }
}

/// The figures counted per signal, in one pass over the signals: the warm handoffs of each
/// transition opened in the period (how far each got by the peildatum, and how timely), the
/// children out of view at a transition (open on the peildatum, new in the period), and the
/// cases in the doorbraakaanpak. Figures in the order of `HANDOFFS`, then out of view open,
/// new, then doorbraak.
pub fn signal_figures(s: &State, scope: &Scope, from: Date, as_of: AsOf) -> Vec<Figure> {
    let d = as_of.peildatum;
    let h = HANDOFFS.len();
    let mut widths = vec![HANDOFF_STEPS.len() + 2; h];
    widths.extend([OUT_OF_VIEW.len(), OUT_OF_VIEW.len(), DOORBRAAK.len()]);
    let mut rows = Rows::new(&widths, h);
    let at_school = |first: &schakel_core::domain::events::SignalEvent| {
        scope.school.as_deref().is_none_or(|sc| {
            first.institution.as_deref() == Some(sc) || first.routes.values().any(|i| i == sc)
        })
    };
    for v in s.signals.values() {
        let Some(first) = v.first() else { continue };
        if first.fired_on > d
            || first.municipality.is_none()
            || scope.municipality.is_some() && first.municipality != scope.municipality
        {
            continue;
        }
        let Some(m) = scope.row_of_signal(first) else {
            continue;
        };
        if let Some(k) = HANDOFFS.iter().position(|(r, _)| *r == first.rule) {
            if at_school(first) {
                let (row, lists) = rows.of(m);
                if first.fired_on >= from {
                    add_handoff(v, d, &mut row[k], &mut lists[k]);
                }
                add_doorbraak(v, from, d, &mut row[h + 2]);
            }
        } else if let Some(c) = OUT_OF_VIEW.iter().position(|(r, _)| *r == first.rule) {
            let closed = v
                .steps
                .iter()
                .any(|x| x.fired_on <= d && matches!(x.step.as_str(), "resolved" | "cancelled"));
            let (row, _) = rows.of(m);
            row[h][c] += u64::from(!closed);
            row[h + 1][c] += u64::from(first.fired_on >= from);
        } else if at_school(first) {
            add_doorbraak(v, from, d, &mut rows.of(m).0[h + 2]);
        }
    }
    let (tables, lists) = rows.into_tables();
    let mut tables = tables.into_iter();
    let mut figures: Vec<Figure> = HANDOFFS
        .iter()
        .zip(tables.by_ref())
        .zip(lists)
        .map(|(((rule, _), t), l)| handoff_figure(rule, t, l))
        .collect();
    figures.extend(
        tables
            .by_ref()
            .take(2)
            .zip([false, true])
            .map(|(t, opened)| out_of_view_figure(t, opened)),
    );
    figures.extend(tables.map(doorbraak_figure));
    figures
}

/// The warm handoffs of transition `rule` opened in the period, by municipality: how far each
/// got by the peildatum, with how timely they were as measures.
pub fn handoffs(s: &State, scope: &Scope, from: Date, as_of: AsOf, rule: &str) -> Figure {
    let i = HANDOFFS.iter().position(|(r, _)| *r == rule).unwrap_or(0);
    signal_figures(s, scope, from, as_of).swap_remove(i)
}

/// Children out of view at a transition, by municipality: signals open on the peildatum
/// (`opened`: false) or opened in the period (`opened`: true).
pub fn out_of_view(s: &State, scope: &Scope, from: Date, as_of: AsOf, opened: bool) -> Figure {
    signal_figures(s, scope, from, as_of).swap_remove(HANDOFFS.len() + usize::from(opened))
}

/// Cases escalated to the doorbraakaanpak, by municipality.
pub fn doorbraak(s: &State, scope: &Scope, from: Date, as_of: AsOf) -> Figure {
    signal_figures(s, scope, from, as_of).swap_remove(HANDOFFS.len() + 2)
}
