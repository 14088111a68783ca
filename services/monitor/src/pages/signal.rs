//! `GET /v1/signals/{id}`: the `dataref` of every notification. For a person (HTML, after a
//! login) and for a system (JSON, with a contact token). Only a contact who holds one of the
//! signal's roles at the institution it routes to sees it, with the child's name, BSN and
//! birth date and the facts behind it; the read is audited before anything is shown. Everyone
//! else gets 403 and sees nothing of the child.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use schakel_core::domain::wording::dutch_date;
use schakel_core::vault::Identity;
use serde::Serialize;

use super::detail::{detail, Detail};
use super::layout::{badge, button_form, esc, html, message, page, Who};
use super::{login_first, problem, wants_json, who};
use crate::audit;
use crate::auth::{viewer, Via, Viewer};
use crate::AppState;
use schakel_core::log::trace::TraceParent;
use schakel_core::runtime::ops::RequestTrace;
use schakel_core::runtime::telemetry::{self, Attr, Kind};

/// The child as the entitled see it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Child {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bsn: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub onderwijsnummer: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub birth_date: Option<jiff::civil::Date>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub residence_municipality: Option<String>,
    /// false when the identity was erased (retention) or never recorded
    pub identity_known: bool,
}

#[derive(Serialize)]
struct Answer<'a> {
    #[serde(flatten)]
    detail: &'a Detail,
    child: &'a Child,
}

fn today() -> jiff::civil::Date {
    jiff::Timestamp::now()
        .to_zoned(jiff::tz::TimeZone::get("Europe/Amsterdam").unwrap_or(jiff::tz::TimeZone::UTC))
        .date()
}

/// Refuses a viewer who may not see the signal: 403, nothing of the child.
pub fn forbidden(st: &AppState, v: &Viewer, json: bool) -> Response {
    st.health.metrics.inc(
        "schakel_monitor_pages_total",
        "page=\"signal\",outcome=\"forbidden\"",
    );
    if json {
        return problem(
            StatusCode::FORBIDDEN,
            "geen toegang",
            "this contact holds none of the signal's roles at the institution it routes to",
        );
    }
    let mut name = String::new();
    let w = who(st, v, &mut name);
    message(
        st.theme(),
        StatusCode::FORBIDDEN,
        "Geen toegang",
        "Dit signaal is niet gericht aan een rol die u vervult bij de instelling waar het naartoe gaat. \
         U kunt het daarom niet inzien.",
        Some(&w),
    )
}

pub async fn show(
    State(st): State<AppState>,
    Path(id): Path<String>,
    RequestTrace(request): RequestTrace,
    headers: HeaderMap,
) -> Response {
    let json = wants_json(&headers) || crate::auth::bearer(&headers).is_some();
    let Some(v) = viewer(&st.settings, &st.sessions, &headers) else {
        return login_first(&headers, &format!("/v1/signals/{id}"));
    };
    let today = today();
    let (roles, found) = st
        .view
        .read(|s| {
            let roles = s.entitled_roles(&v.contact, &id);
            let found = if roles.is_empty() {
                None
            } else {
                let d = detail(s, &id, &v.contact, roles.clone(), today)?;
                let first = s.signals.get(&id)?.first()?.clone();
                let contact = s.contact(&v.contact)?.clone();
                let identity = s.identities.get(first.child_key.as_str()).cloned();
                let child = s.children.get(first.child_key.as_str()).cloned();
                Some((d, first, contact, identity, child))
            };
            Some((roles, found))
        })
        .unwrap_or_default();
    let exists = st.view.read(|s| s.signals.contains_key(&id));
    let Some((d, first, contact, sealed, child_ref)) = found else {
        if !exists {
            return if json {
                problem(
                    StatusCode::NOT_FOUND,
                    "onbekend signaal",
                    "no signal with this id",
                )
            } else {
                let mut name = String::new();
                let w = who(&st, &v, &mut name);
                message(
                    st.theme(),
                    StatusCode::NOT_FOUND,
                    "Signaal niet gevonden",
                    "Schakel kent geen signaal met dit nummer.",
                    Some(&w),
                )
            };
        }
        return forbidden(&st, &v, json);
    };
    // the read joins the trace of the signal it shows, linked to the request
    let signal_trace = st
        .view
        .read(|s| s.signals.get(&id).and_then(|v| v.trace))
        .map(TraceParent::from);
    let span = match &signal_trace {
        Some(t) => telemetry::span(Kind::Internal, Some(t)).link(&request),
        None => telemetry::span(Kind::Internal, Some(&request)),
    }
    .start(|| {
        (
            "show signal".into(),
            vec![Attr::new(
                "schakel.channel",
                if json { "json" } else { "signaalpagina" },
            )],
        )
    });
    let trace = span.context().clone();
    let mut categories = vec!["identity".to_owned()];
    for f in &d.facts {
        if !categories.iter().any(|c| c == f.category) {
            categories.push(f.category.to_owned());
        }
    }
    let read = audit::Read {
        actor: &v.contact,
        role: &roles[0],
        organisation: &contact.institution,
        child: &first.child_key,
        signal_id: Some(&id),
        categories,
        channel: if json { "json" } else { "signaalpagina" },
    };
    if let Err(e) = audit::record(&st, read, &trace).await {
        tracing::warn!(error = %e, trace_id = %trace.trace_id(), "audit record not written; the child is not shown");
        return if json {
            problem(
                StatusCode::SERVICE_UNAVAILABLE,
                "inzage niet vastgelegd",
                "the read could not be recorded in the audit log; nothing is shown",
            )
        } else {
            message(
                st.theme(),
                StatusCode::SERVICE_UNAVAILABLE,
                "Nu niet beschikbaar",
                "Uw inzage kan nu niet worden vastgelegd, en zonder vastlegging toont Schakel geen gegevens van een kind. Probeer het over enkele minuten opnieuw.",
                None,
            )
        };
    }
    let identity: Option<Identity> = sealed.and_then(|r| st.vault.open_record(&r).ok());
    let child = Child {
        name: identity.as_ref().and_then(|i| {
            let n = [i.given.as_deref(), i.family.as_deref()]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" ");
            (!n.is_empty()).then_some(n)
        }),
        bsn: identity.as_ref().and_then(|i| i.bsn.clone()),
        onderwijsnummer: identity.as_ref().and_then(|i| i.onderwijsnummer.clone()),
        birth_date: child_ref.as_ref().map(|c| c.birth_date),
        residence_municipality: child_ref.and_then(|c| c.residence_municipality),
        identity_known: identity.is_some(),
    };
    st.health.metrics.inc(
        "schakel_monitor_pages_total",
        "page=\"signal\",outcome=\"shown\"",
    );
    if json {
        let mut r = Json(Answer {
            detail: &d,
            child: &child,
        })
        .into_response();
        super::layout::secure_headers(r.headers_mut());
        return r;
    }
    let mut name = String::new();
    let w = who(&st, &v, &mut name);
    let csrf = match &v.via {
        Via::Session(s) => s.csrf.clone(),
        Via::Token => String::new(),
    };
    html(StatusCode::OK, render(st.theme(), &d, &child, &csrf, &w))
}

fn row(label: &str, value: &str) -> String {
    format!("<dt>{}</dt><dd>{}</dd>", esc(label), esc(value))
}

/// The reasons a task is moot, as a contact picks them.
pub const CANCEL_REASONS: &[(&str, &str)] = &[
    ("verhuisd", "Het kind of de jongere is verhuisd"),
    (
        "inschrijving-vervallen",
        "De inschrijving of aanmelding is vervallen",
    ),
    (
        "elders-geregeld",
        "De overdracht is buiten Schakel al geregeld",
    ),
    ("anders", "Een andere reden (zonder zorginformatie)"),
];

/// The signal page of `d` for the entitled viewer `w`, with the child.
pub fn render(theme: &str, d: &Detail, child: &Child, csrf: &str, w: &Who<'_>) -> String {
    let kind = match d.state {
        "completed" | "resolved" => "success",
        "cancelled" => "neutral",
        "overdue" | "escalated" => "danger",
        _ => "warning",
    };
    let mut main = format!(
        r#"<h1 class="utrecht-heading-1">{}</h1>
<p class="utrecht-paragraph">{} {}</p>
<p class="utrecht-paragraph utrecht-paragraph--lead">{}</p>"#,
        esc(&d.title),
        badge(kind, d.state_label),
        if d.task {
            "Warme overdracht"
        } else {
            "Signaal"
        },
        esc(&d.explanation),
    );
    main.push_str(&format!(
        r#"<h2 class="utrecht-heading-2">Wat moet u doen?</h2><p class="utrecht-paragraph">{}</p>"#,
        esc(&d.next)
    ));
    if !d.actions.is_empty() && !csrf.is_empty() {
        let path = format!("/v1/signals/{}", d.signal_id);
        let mut forms = String::new();
        for a in &d.actions {
            match *a {
                "acknowledge" => forms.push_str(&button_form(
                    &format!("{path}/acknowledge"),
                    csrf,
                    "Ontvangst bevestigen",
                    true,
                    &[],
                )),
                "complete" => forms.push_str(&button_form(
                    &format!("{path}/complete"),
                    csrf,
                    "Overdracht afgerond",
                    true,
                    &[],
                )),
                _ => {}
            }
        }
        main.push_str(&format!(
            r#"<div class="utrecht-button-group">{forms}</div>"#
        ));
        if d.actions.contains(&"cancel") {
            let options: String = CANCEL_REASONS
                .iter()
                .map(|(k, t)| format!(r#"<option value="{k}">{}</option>"#, esc(t)))
                .collect();
            main.push_str(&format!(
                r#"<form method="post" action="{path}/cancel">
<input type="hidden" name="csrf" value="{}">
<div class="utrecht-form-field schakel-form-row">
<div class="utrecht-form-field__label"><label class="utrecht-form-label" for="reden">Reden waarom de taak vervalt</label></div>
<div class="utrecht-form-field__input"><select class="utrecht-select utrecht-select--html-select" id="reden" name="reden">{options}</select></div>
</div>
<button class="utrecht-button utrecht-button--secondary-action" type="submit">Taak laten vervallen</button>
</form>"#,
                esc(csrf)
            ));
        }
    }

    main.push_str(r#"<h2 class="utrecht-heading-2">Het kind</h2><dl class="schakel-facts">"#);
    if child.identity_known {
        if let Some(n) = &child.name {
            main.push_str(&row("Naam", n));
        }
        if let Some(b) = &child.bsn {
            main.push_str(&row("BSN", b));
        }
        if let Some(o) = &child.onderwijsnummer {
            main.push_str(&row("Onderwijsnummer", o));
        }
    } else {
        main.push_str(&row(
            "Identiteit",
            "niet (meer) beschikbaar: gewist na de bewaartermijn of nooit vastgelegd",
        ));
    }
    if let Some(b) = child.birth_date {
        let note = if d.birth_date_uncertain {
            " (niet volledig bekend)"
        } else {
            ""
        };
        main.push_str(&row("Geboortedatum", &format!("{}{note}", dutch_date(b))));
    }
    if let Some(m) = &child.residence_municipality {
        main.push_str(&row("Woongemeente (CBS-code)", m));
    }
    main.push_str("</dl>");
    if let Some(o) = &d.out_of_school {
        main.push_str(&format!(
            r#"<div class="utrecht-alert utrecht-alert--warning" role="status"><div class="utrecht-alert__content"><div class="utrecht-alert__message"><p class="utrecht-paragraph">Thuis sinds {}: {} dagen. De grens van drie maanden ligt op {}.</p></div></div></div>"#,
            dutch_date(o.since),
            o.days,
            dutch_date(o.three_month_mark)
        ));
    }
    if !d.facts.is_empty() {
        main.push_str(r#"<h3 class="utrecht-heading-3">Waarop het signaal berust</h3><dl class="schakel-facts">"#);
        for f in &d.facts {
            main.push_str(&row(f.heading, &f.text));
        }
        main.push_str("</dl>");
    }

    main.push_str(r#"<h2 class="utrecht-heading-2">Gegevens</h2><dl class="schakel-facts">"#);
    main.push_str(&row("Regel", &d.rule));
    main.push_str(&row("Gesignaleerd op", &dutch_date(d.fired_on)));
    if let Some(due) = d.due_date {
        main.push_str(&row("Uiterlijk", &dutch_date(due)));
    }
    if let Some(i) = &d.institution {
        main.push_str(&row("Instelling", i));
    }
    if let Some(m) = &d.municipality {
        main.push_str(&row("Gemeente (CBS-code)", m));
    }
    main.push_str(&row("Uw rol", &d.your_roles.join(", ")));
    main.push_str("</dl>");

    main.push_str(
        r#"<h2 class="utrecht-heading-2">Verloop</h2><table class="utrecht-table utrecht-table--html-table"><caption class="utrecht-table__caption">Elke stap van het signaal, met wanneer en door wie</caption><thead class="utrecht-table__header"><tr class="utrecht-table__row"><th class="utrecht-table__header-cell" scope="col">Wanneer</th><th class="utrecht-table__header-cell" scope="col">Wat</th><th class="utrecht-table__header-cell" scope="col">Wie</th></tr></thead><tbody class="utrecht-table__body">"#,
    );
    for l in &d.history {
        main.push_str(&format!(
            r#"<tr class="utrecht-table__row"><td class="utrecht-table__cell">{}</td><td class="utrecht-table__cell">{}</td><td class="utrecht-table__cell">{}</td></tr>"#,
            esc(&l.when),
            esc(&l.what),
            esc(l.who.as_deref().unwrap_or("Schakel"))
        ));
    }
    main.push_str("</tbody></table>");

    main.push_str(r#"<h2 class="utrecht-heading-2">Contactpersonen</h2>"#);
    if d.contacts.is_empty() {
        main.push_str(r#"<p class="utrecht-paragraph">Er zijn geen andere contactpersonen voor dit signaal.</p>"#);
    } else {
        main.push_str(r#"<ul class="utrecht-unordered-list">"#);
        for c in &d.contacts {
            let org = c
                .organisation
                .as_deref()
                .map_or(String::new(), |o| format!(", {}", esc(o)));
            let mail = c.email.as_deref().map_or(String::new(), |m| {
                format!(
                    r#" · <a class="utrecht-link utrecht-link--html-a" href="mailto:{}">{}</a>"#,
                    esc(m),
                    esc(m)
                )
            });
            main.push_str(&format!(
                r#"<li class="utrecht-unordered-list__item">{}{org} ({}; {}){mail}</li>"#,
                esc(&c.name),
                esc(&c.roles.join(", ")),
                esc(&c.institution)
            ));
        }
        main.push_str("</ul>");
    }
    page(theme, &d.title, Some(w), &main)
}
