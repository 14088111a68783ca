//! What a signal page says, assembled from the monitor's state for one viewer (pure: the page
//! and the JSON render it). The child's identity is added only after the read is audited.

use jiff::civil::Date;
use schakel_core::domain::handoff::{task_sides, Answer, Progress, Sides};
use schakel_core::domain::wording::{dutch_date, explain, title};
use serde::Serialize;

use crate::facts::Category;
use crate::view::{SignalView, State};

/// One line of a signal's history.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Line {
    /// RFC 3339 (an answer, a delivery) or a date (a step of rules)
    pub at: String,
    /// how a reader says the moment
    pub when: String,
    pub what: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub who: Option<String>,
}

/// A contact of the other side (or of one's own), to reach.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Card {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub organisation: Option<String>,
    pub institution: String,
    pub roles: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

/// A fact behind the signal, for the entitled.
#[derive(Debug, Clone, Serialize)]
pub struct FactLine {
    pub category: &'static str,
    #[serde(skip)]
    pub heading: &'static str,
    pub text: String,
}

/// How long a thuiszitter has been out of school (R4).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OutOfSchool {
    pub since: Date,
    pub days: i64,
    pub three_month_mark: Date,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Detail {
    pub signal_id: String,
    pub rule: String,
    pub title: String,
    pub explanation: String,
    pub task: bool,
    /// `open`, `acknowledged`, `completed`, `cancelled`, `overdue`, `escalated`, `resolved`
    pub state: &'static str,
    pub state_label: &'static str,
    pub fired_on: Date,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub due_date: Option<Date>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub institution: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub municipality: Option<String>,
    pub your_roles: Vec<String>,
    pub next: String,
    /// the answers the viewer may give now: `acknowledge`, `complete`, `cancel`
    pub actions: Vec<&'static str>,
    pub history: Vec<Line>,
    pub contacts: Vec<Card>,
    pub facts: Vec<FactLine>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub out_of_school: Option<OutOfSchool>,
    pub birth_date_uncertain: bool,
}

fn step_word(step: &str) -> &'static str {
    match step {
        "opened" => "Signaal geopend",
        "reminded" => "Herinnering verstuurd",
        "overdue" => "Termijn verstreken",
        "escalated" => "Geëscaleerd",
        "resolved" => "Opgelost: de situatie is niet meer aan de orde",
        "acknowledged" => "Ontvangst bevestigd",
        "completed" => "Warme overdracht afgerond",
        "cancelled" => "Vervallen",
        _ => "Stap",
    }
}

fn answer_word(kind: schakel_core::domain::catalogue::EventType) -> &'static str {
    match Answer::from_type(kind) {
        Some(Answer::Acknowledge) => "Ontvangst bevestigd",
        Some(Answer::Complete) => "Overdrachtsgesprek bevestigd",
        Some(Answer::Cancel) => "Vervallen verklaard",
        None => "Antwoord",
    }
}

fn status_word(s: schakel_core::domain::events::DeliveryStatus) -> &'static str {
    use schakel_core::domain::events::DeliveryStatus as D;
    match s {
        D::Succeeded => "bezorgd",
        D::Failed => "mislukt, wordt opnieuw geprobeerd",
        D::DeadLettered => "niet bezorgd",
        D::DigestScheduled => "in het dagoverzicht opgenomen",
        D::Queued | D::InFlight | D::RetryRequested => "onderweg",
        D::Unroutable => "niet te bezorgen",
        D::Rerouted => "doorgestuurd",
        D::EndpointDisabled | D::EndpointEnabled => "adres gewijzigd",
    }
}

/// Where a task or notice stands.
pub fn state_of(v: &SignalView, progress: Option<Progress>) -> (&'static str, &'static str) {
    let has = |s: &str| v.steps.iter().any(|x| x.step == s);
    match progress {
        Some(p) if p.completed => ("completed", "Afgerond"),
        Some(p) if p.cancelled => ("cancelled", "Vervallen"),
        _ if has("resolved") => ("resolved", "Opgelost"),
        _ if has("escalated") => ("escalated", "Geëscaleerd"),
        _ if has("overdue") => ("overdue", "Termijn verstreken"),
        Some(p) if p.acknowledged => ("acknowledged", "Ontvangst bevestigd"),
        _ => ("open", "Open"),
    }
}

/// The answers a contact with `sides` may give to a task at `p`.
pub fn possible(p: Progress, sides: Sides) -> Vec<&'static str> {
    let mut out = Vec::new();
    for (a, w) in [
        (Answer::Acknowledge, "acknowledge"),
        (Answer::Complete, "complete"),
        (Answer::Cancel, "cancel"),
    ] {
        let mut q = p;
        if q.answer(a, sides).is_ok() {
            out.push(w);
        }
    }
    out
}

fn next_for(task: bool, closed: bool, p: Option<Progress>, sides: Sides) -> String {
    if closed {
        return "Er is niets meer te doen.".into();
    }
    if !task {
        return "Neem contact op met de betrokken partijen en leg de afspraken vast in uw eigen dossier. \
                Schakel vraagt hier geen bevestiging."
            .into();
    }
    let p = p.unwrap_or_default();
    if !p.acknowledged {
        return if sides.receiver {
            "Bevestig dat u de overdracht hebt ontvangen en maak een afspraak voor het overdrachtsgesprek met de andere partij."
        } else {
            "Wacht op de bevestiging van de ontvangende partij; neem zelf contact op als die uitblijft."
        }
        .into();
    }
    let done = (sides.sender && p.sender_confirmed) || (sides.receiver && p.receiver_confirmed);
    if done {
        "U hebt het gesprek bevestigd; de overdracht is afgerond zodra de andere partij dat ook doet."
            .into()
    } else {
        "Bevestig, na het overdrachtsgesprek, dat de warme overdracht heeft plaatsgevonden.".into()
    }
}

/// The page of signal `id` for `contact`, who holds `roles` of it; None when it is unknown.
pub fn detail(
    s: &State,
    id: &str,
    contact: &str,
    roles: Vec<String>,
    today: Date,
) -> Option<Detail> {
    let v = s.signals.get(id)?;
    let first = v.first()?;
    let last = v.last()?;
    let task = s.tasks.tasks.get(id);
    let progress = task.map(|t| t.progress);
    let sides = match task_sides(&first.rule) {
        Some((snd, rcv)) => Sides::of(&roles, snd, rcv),
        None => Sides::default(),
    };
    let (state, state_label) = state_of(v, progress);
    let closed = v.is_closed() || progress.is_some_and(|p| p.is_closed());
    let name_of = |c: &str| {
        s.contact(c)
            .map_or_else(|| c.to_owned(), |x| x.name.clone())
    };

    let mut history: Vec<(String, Line)> = Vec::new();
    for st in &v.steps {
        let what = if st.step == "escalated" {
            format!("{} naar {}", step_word(&st.step), st.recipients.join(", "))
        } else {
            step_word(&st.step).to_owned()
        };
        history.push((
            format!("{}T00:00:00Z", st.fired_on),
            Line {
                at: st.fired_on.to_string(),
                when: dutch_date(st.fired_on),
                what,
                who: None,
            },
        ));
    }
    for a in &v.answers {
        let applied = s.tasks.is_repeat(a.child_key.as_str(), &a.source, &a.id);
        if !applied {
            continue;
        }
        let reason = a
            .note
            .as_deref()
            .map_or(String::new(), |n| format!(" ({n})"));
        history.push((
            a.at.to_string(),
            Line {
                at: a.at.to_string(),
                when: when(a.at),
                what: format!("{}{reason}", answer_word(a.kind)),
                who: Some(name_of(&a.contact)),
            },
        ));
    }
    for d in v.deliveries.values() {
        history.push((
            d.at.to_string(),
            Line {
                at: d.at.to_string(),
                when: when(d.at),
                what: format!(
                    "Bericht ({}) via {}: {}",
                    title(&first.rule, &d.step).to_lowercase(),
                    if d.channel == "email" {
                        "e-mail"
                    } else {
                        "webhook"
                    },
                    status_word(d.status)
                ),
                who: Some(name_of(&d.contact)),
            },
        ));
    }
    history.sort_by(|a, b| a.0.cmp(&b.0));

    let (recipients, _) = s.tasks.directory.recipients(last);
    let contacts = recipients
        .iter()
        .filter(|(c, _)| c.id != contact)
        .map(|(c, r)| Card {
            name: c.name.clone(),
            organisation: c.organisation.clone(),
            institution: s
                .tasks
                .directory
                .institution_name(&c.institution)
                .unwrap_or(&c.institution)
                .to_owned(),
            roles: r.clone(),
            email: c.email.clone(),
        })
        .collect();

    let mut facts: Vec<(Category, String)> = first
        .facts
        .iter()
        .filter_map(|f| s.facts.get(f))
        .filter(|f| f.child == first.child_key)
        .map(|f| (f.category, f.text.clone()))
        .collect();
    facts.sort();
    facts.dedup();

    let out_of_school = (first.rule == "R4").then(|| {
        let months = first
            .policy
            .get("thuiszitter.escalation_months")
            .and_then(|m| m.parse::<i64>().ok())
            .unwrap_or(3);
        first.due_date.map(|mark| {
            let since = mark
                .checked_sub(jiff::Span::new().months(months))
                .unwrap_or(mark);
            OutOfSchool {
                since,
                days: (today - since).get_days().into(),
                three_month_mark: mark,
            }
        })
    });

    Some(Detail {
        signal_id: id.to_owned(),
        rule: first.rule.clone(),
        title: title(&first.rule, "opened"),
        explanation: explain(&first.rule, false).unwrap_or("").to_owned(),
        task: first.task,
        state,
        state_label,
        fired_on: first.fired_on,
        due_date: last.due_date.or(first.due_date),
        institution: first.institution.as_ref().map(|i| {
            s.tasks
                .directory
                .institution_name(i)
                .unwrap_or(i)
                .to_owned()
        }),
        municipality: last.municipality.clone(),
        next: next_for(first.task, closed, progress, sides),
        actions: match (first.task, progress, closed) {
            (true, Some(p), false) => possible(p, sides),
            _ => Vec::new(),
        },
        your_roles: roles,
        history: history.into_iter().map(|(_, l)| l).collect(),
        contacts,
        facts: facts
            .into_iter()
            .map(|(c, text)| FactLine {
                category: c.as_str(),
                heading: c.dutch(),
                text,
            })
            .collect(),
        out_of_school: out_of_school.flatten(),
        birth_date_uncertain: first.birth_date_uncertain,
    })
}

/// A moment as a Dutch reader says it, in Europe/Amsterdam.
pub fn when(t: jiff::Timestamp) -> String {
    let z =
        t.to_zoned(jiff::tz::TimeZone::get("Europe/Amsterdam").unwrap_or(jiff::tz::TimeZone::UTC));
    format!(
        "{} om {:02}:{:02}",
        dutch_date(z.date()),
        z.hour(),
        z.minute()
    )
}
