//! The answers to a task: `GET /v1/signals/{id}/{action}?t=…` (the link in an e-mail or
//! webhook) shows what the contact is about to confirm, without any data of the child;
//! `POST` to the same path confirms, by the link's token, by a logged-in contact's button (with
//! the session's CSRF token) or by a system's contact token. Nothing changes on a GET.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Form, Json};
use schakel_core::domain::handoff::Answer;
use schakel_core::domain::links::{Action, Grant, LinkError};
use serde::Deserialize;

use super::layout::{esc, html, message, page, Who};
use super::signal::CANCEL_REASONS;
use super::{login_first, problem, who};
use crate::answer::{self, Answered, NotAnswered};
use crate::auth::{self, session, viewer, Via};
use crate::AppState;
use schakel_core::runtime::ops::RequestTrace;

#[derive(Deserialize)]
pub struct Token {
    t: Option<String>,
}

fn not_found(st: &AppState) -> Response {
    message(
        st.theme(),
        StatusCode::NOT_FOUND,
        "Pagina niet gevonden",
        "Deze pagina bestaat niet.",
        None,
    )
}

fn answer_of(a: Action) -> Answer {
    match a {
        Action::Acknowledge => Answer::Acknowledge,
        Action::Complete => Answer::Complete,
        Action::Cancel => Answer::Cancel,
    }
}

/// What the contact confirms, in words.
fn confirms(a: Action) -> &'static str {
    match a {
        Action::Acknowledge => {
            "dat u de warme overdracht hebt ontvangen en contact opneemt met de andere partij"
        }
        Action::Complete => {
            "dat het overdrachtsgesprek heeft plaatsgevonden en de warme overdracht is afgerond"
        }
        Action::Cancel => "dat de taak vervalt",
    }
}

fn button(a: Action) -> &'static str {
    match a {
        Action::Acknowledge => "Ontvangst bevestigen",
        Action::Complete => "Overdracht afgerond",
        Action::Cancel => "Taak laten vervallen",
    }
}

/// The page for a link that cannot be used, and its status.
fn link_refused(st: &AppState, e: LinkError) -> Response {
    st.health.metrics.inc(
        "schakel_monitor_links_total",
        &format!(
            "outcome=\"{}\"",
            match e {
                LinkError::Forged => "forged",
                LinkError::Expired => "expired",
                LinkError::Mismatch => "mismatch",
            }
        ),
    );
    let (status, title, text) = match e {
        LinkError::Forged | LinkError::Mismatch => (
            StatusCode::FORBIDDEN,
            "Deze link is niet geldig",
            "Deze link komt niet van Schakel of is onvolledig gekopieerd. Er is niets gewijzigd. Open de link uit het bericht opnieuw, of log in en beantwoord de taak in uw inbox.",
        ),
        LinkError::Expired => (
            StatusCode::GONE,
            "Deze link is verlopen",
            "De termijn van deze link is voorbij. Er is niets gewijzigd. Log in en beantwoord de taak in uw inbox.",
        ),
    };
    message(st.theme(), status, title, text, None)
}

fn check(st: &AppState, token: &str, id: &str, a: Action) -> Result<Grant, LinkError> {
    match &st.settings.links {
        Some(l) => l.check(token, id, a, jiff::Timestamp::now()),
        None => Err(LinkError::Forged),
    }
}

/// `GET /v1/signals/{id}/{action}`.
pub async fn confirm(
    State(st): State<AppState>,
    Path((id, action)): Path<(String, String)>,
    Query(q): Query<Token>,
    headers: HeaderMap,
) -> Response {
    let Some(a) = Action::parse(&action) else {
        return not_found(&st);
    };
    let Some(token) = q.t else {
        // a plain link (no secret in the region): the buttons are on the signal page
        return match viewer(&st.settings, &st.sessions, &headers) {
            Some(_) => Redirect::to(&format!("/v1/signals/{}", super::encode(&id))).into_response(),
            None => login_first(&headers, &format!("/v1/signals/{id}")),
        };
    };
    let g = match check(&st, &token, &id, a) {
        Ok(g) => g,
        Err(e) => return link_refused(&st, e),
    };
    let (title, used) = st.view.read(|s| {
        let t = s.signals.get(&id).map(|v| v.title());
        let used = s.tasks.tasks.get(&id).is_some_and(|t| {
            s.tasks.is_repeat(
                t.signal.child_key.as_str(),
                answer::SOURCE,
                &answer::answer_id(&id, &g.contact, answer_of(a)),
            )
        });
        (t, used)
    });
    let Some(title) = title else {
        return message(
            st.theme(),
            StatusCode::NOT_FOUND,
            "Signaal niet gevonden",
            "Schakel kent deze taak (nog) niet.",
            None,
        );
    };
    if used {
        return used_page(&st);
    }
    let name = st
        .view
        .read(|s| s.contact(&g.contact).map(|c| c.name.clone()))
        .unwrap_or_else(|| g.contact.clone());
    // an anonymous session carries the form's CSRF token (or the contact's own session)
    let s = st
        .sessions
        .of(&headers)
        .unwrap_or_else(|| st.sessions.start(None));
    let reasons = if a == Action::Cancel {
        reason_field()
    } else {
        String::new()
    };
    let main = format!(
        r#"<h1 class="utrecht-heading-1">{button}?</h1>
<p class="utrecht-paragraph">Taak: <strong>{title}</strong></p>
<p class="utrecht-paragraph">U bevestigt namens <strong>{name}</strong> {what}.</p>
<form method="post" action="/v1/signals/{id}/{action}">
<input type="hidden" name="csrf" value="{csrf}">
<input type="hidden" name="t" value="{token}">
{reasons}
<button class="utrecht-button utrecht-button--primary-action" type="submit" id="bevestigen">{button}</button>
</form>
<p class="utrecht-paragraph utrecht-paragraph--small">Gegevens van het kind ziet u na inloggen op de pagina van het signaal.</p>"#,
        button = esc(button(a)),
        title = esc(&title),
        name = esc(&name),
        what = esc(confirms(a)),
        id = esc(&id),
        action = a.as_str(),
        csrf = esc(&s.csrf),
        token = esc(&token),
    );
    let r = html(StatusCode::OK, page(st.theme(), button(a), None, &main));
    super::login::with_session(&st, &s, r)
}

fn reason_field() -> String {
    let options: String = CANCEL_REASONS
        .iter()
        .map(|(k, t)| format!(r#"<option value="{k}">{}</option>"#, esc(t)))
        .collect();
    format!(
        r#"<div class="utrecht-form-field schakel-form-row"><div class="utrecht-form-field__label"><label class="utrecht-form-label" for="reden">Reden waarom de taak vervalt</label></div><div class="utrecht-form-field__input"><select class="utrecht-select utrecht-select--html-select" id="reden" name="reden">{options}</select></div></div>"#
    )
}

fn used_page(st: &AppState) -> Response {
    st.health
        .metrics
        .inc("schakel_monitor_links_total", "outcome=\"used\"");
    message(
        st.theme(),
        StatusCode::CONFLICT,
        "Deze link is al gebruikt",
        "Dit antwoord is al gegeven; er is niets opnieuw vastgelegd.",
        None,
    )
}

#[derive(Deserialize, Default)]
pub struct ActForm {
    csrf: Option<String>,
    t: Option<String>,
    reden: Option<String>,
    /// where a button sends the contact after the answer (the inbox); the signal by default
    terug: Option<String>,
}

/// A refusal in Dutch, from the lifecycle's reason.
fn conflict_text(m: &str) -> &'static str {
    if m.contains("already completed") {
        "De warme overdracht is al afgerond."
    } else if m.contains("already cancelled") {
        "De taak is al vervallen."
    } else if m.contains("already acknowledged") {
        "De ontvangst is al bevestigd."
    } else if m.contains("before it is completed") {
        "Eerst bevestigt de ontvangende partij de ontvangst; daarna bevestigen beide partijen het gesprek."
    } else if m.contains("only the receiving side") {
        "Alleen de ontvangende partij bevestigt de ontvangst."
    } else if m.contains("already confirmed") {
        "U hebt het gesprek al bevestigd; de andere partij bevestigt nog."
    } else {
        "Dit antwoord past niet bij de stand van de taak."
    }
}

/// `POST /v1/signals/{id}/{action}`.
pub async fn act(
    State(st): State<AppState>,
    Path((id, action)): Path<(String, String)>,
    RequestTrace(trace): RequestTrace,
    headers: HeaderMap,
    form: Result<Form<ActForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let Some(a) = Action::parse(&action) else {
        return not_found(&st);
    };
    let f = form.map(|Form(f)| f).unwrap_or_default();
    // a system with a contact token: JSON in and out
    if auth::bearer(&headers).is_some() {
        let Some(v) = viewer(&st.settings, &st.sessions, &headers) else {
            return login_first(&headers, "/");
        };
        // a reason is one of the categories, never free text (no care data in the log)
        if a == Action::Cancel
            && f.reden
                .as_deref()
                .is_some_and(|r| !CANCEL_REASONS.iter().any(|(k, _)| *k == r))
        {
            let known: Vec<&str> = CANCEL_REASONS.iter().map(|(k, _)| *k).collect();
            return problem(
                StatusCode::UNPROCESSABLE_ENTITY,
                "onbekende reden",
                &format!("reden: must be one of {}", known.join(", ")),
            );
        }
        let note = if a == Action::Cancel {
            Some(reason(&f))
        } else {
            None
        };
        return match answer::answer(&st, &v.contact, &id, answer_of(a), note, &trace).await {
            Ok(done) => (
                StatusCode::ACCEPTED,
                Json(serde_json::json!({"signalId": id, "answer": a.as_str(), "repeat": done == Answered::Repeat})),
            )
                .into_response(),
            Err(e) => json_refusal(e),
        };
    }
    let session = st.sessions.of(&headers);
    let csrf_ok = match (&session, &f.csrf) {
        (Some(s), Some(c)) => session::same(&s.csrf, c),
        _ => false,
    };
    if !csrf_ok {
        return message(
            st.theme(),
            StatusCode::FORBIDDEN,
            "Formulier verlopen",
            "Dit formulier is verlopen of niet van deze site. Er is niets gewijzigd. Open de link of de pagina opnieuw.",
            None,
        );
    }
    let by_link = f.t.is_some();
    let contact = match (&f.t, &session) {
        (Some(t), _) => match check(&st, t, &id, a) {
            Ok(g) => g.contact,
            Err(e) => return link_refused(&st, e),
        },
        (None, Some(s)) if s.contact.is_some() => s.contact.clone().unwrap_or_default(),
        _ => return login_first(&headers, &format!("/v1/signals/{id}")),
    };
    if a == Action::Cancel
        && !f
            .reden
            .as_deref()
            .is_some_and(|r| CANCEL_REASONS.iter().any(|(k, _)| *k == r))
    {
        return message(
            st.theme(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "Kies een reden",
            "Kies waarom de taak vervalt; er is niets gewijzigd.",
            None,
        );
    }
    let note = (a == Action::Cancel).then(|| reason(&f));
    let viewer_who = session.as_ref().and_then(|s| {
        s.contact.as_ref().map(|c| auth::Viewer {
            contact: c.clone(),
            via: Via::Session(s.clone()),
        })
    });
    let mut name = String::new();
    let w: Option<Who<'_>> = viewer_who.as_ref().map(|v| who(&st, v, &mut name));
    match answer::answer(&st, &contact, &id, answer_of(a), note, &trace).await {
        Ok(Answered::Written) if !by_link => Redirect::to(&after(&f, &id)).into_response(),
        Ok(Answered::Written) => {
            st.health.metrics.inc("schakel_monitor_links_total", "outcome=\"answered\"");
            let main = format!(
                r#"<h1 class="utrecht-heading-1">Vastgelegd</h1>
<p class="utrecht-paragraph">Uw antwoord is vastgelegd: {}.</p>
<p class="utrecht-paragraph"><a class="utrecht-link utrecht-link--html-a" href="/v1/signals/{}">Bekijk het signaal</a> (na inloggen).</p>"#,
                esc(confirms(a)),
                esc(&id)
            );
            html(StatusCode::OK, page(st.theme(), "Vastgelegd", w.as_ref(), &main))
        }
        Ok(Answered::Repeat) if by_link => used_page(&st),
        Ok(Answered::Repeat) => Redirect::to(&after(&f, &id)).into_response(),
        Err(NotAnswered::Unknown) => message(st.theme(), StatusCode::NOT_FOUND, "Taak niet gevonden", "Schakel kent deze taak (nog) niet. Er is niets gewijzigd.", w.as_ref()),
        Err(NotAnswered::NotYours) => message(st.theme(), StatusCode::FORBIDDEN, "Geen toegang", "Deze taak is niet gericht aan een rol die u vervult. Er is niets gewijzigd.", w.as_ref()),
        Err(NotAnswered::Conflict(m)) => message(st.theme(), StatusCode::CONFLICT, "Past niet bij de stand van de taak", &format!("{} Er is niets gewijzigd.", conflict_text(m)), w.as_ref()),
        Err(NotAnswered::Unavailable) => message(st.theme(), StatusCode::SERVICE_UNAVAILABLE, "Nu niet beschikbaar", "Schakel kan uw antwoord nu niet vastleggen. Er is niets gewijzigd; probeer het over enkele minuten opnieuw.", w.as_ref()),
    }
}

/// Where a button's answer leads: the page it names (our own only), else the signal.
fn after(f: &ActForm, id: &str) -> String {
    match f.terug.as_deref() {
        Some(_) => super::safe_back(f.terug.as_deref()),
        None => format!("/v1/signals/{id}"),
    }
}

fn reason(f: &ActForm) -> String {
    f.reden.clone().unwrap_or_else(|| "anders".into())
}

fn json_refusal(e: NotAnswered) -> Response {
    match e {
        NotAnswered::Unknown => problem(
            StatusCode::NOT_FOUND,
            "onbekende taak",
            "no handoff task with this signal id is known",
        ),
        NotAnswered::NotYours => problem(
            StatusCode::FORBIDDEN,
            "geen toegang",
            "the contact holds none of the task's roles at its institutions",
        ),
        NotAnswered::Conflict(m) => problem(StatusCode::CONFLICT, "past niet bij de taak", m),
        NotAnswered::Unavailable => problem(
            StatusCode::SERVICE_UNAVAILABLE,
            "nu niet beschikbaar",
            "the log cannot be read or written now; retry later",
        ),
    }
}
