//! Logging in with a local account, and out. The form carries the CSRF token of an anonymous
//! session; a good login starts a new session for the contact.

use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;

use super::layout::{esc, html, page};
use super::safe_back;
use crate::auth::{accounts, session};
use crate::AppState;

#[derive(Deserialize)]
pub struct Back {
    terug: Option<String>,
}

fn form_page(st: &AppState, csrf: &str, back: &str, error: Option<&str>, login: &str) -> String {
    let error_block = error.map_or(String::new(), |e| {
        format!(
            r#"<div class="utrecht-alert utrecht-alert--error" role="alert" id="login-fout"><div class="utrecht-alert__content"><div class="utrecht-alert__message"><p class="utrecht-paragraph">{}</p></div></div></div>"#,
            esc(e)
        )
    });
    let described = if error.is_some() {
        r#" aria-describedby="login-fout" aria-invalid="true""#
    } else {
        ""
    };
    let oidc = if st.oidc.is_some() {
        format!(
            r#"<p class="utrecht-paragraph"><a class="utrecht-button-link utrecht-button-link--html-a utrecht-button-link--primary-action" id="inloggen-organisatie" href="/auth/start?terug={}">Inloggen met het account van uw organisatie</a></p>"#,
            esc(&super::encode(back))
        )
    } else {
        String::new()
    };
    let local = if st.settings.monitor.accounts_file.is_none() {
        String::new()
    } else {
        format!(
            r#"<form method="post" action="/login">
<input type="hidden" name="csrf" value="{csrf}">
<input type="hidden" name="terug" value="{back}">
<div class="utrecht-form-field utrecht-form-field--text schakel-form-row">
<div class="utrecht-form-field__label"><label class="utrecht-form-label" for="gebruikersnaam">Gebruikersnaam</label></div>
<div class="utrecht-form-field__input"><input class="utrecht-textbox utrecht-textbox--html-input" id="gebruikersnaam" name="gebruikersnaam" type="text" autocomplete="username" required value="{login}"{described}></div>
</div>
<div class="utrecht-form-field utrecht-form-field--text schakel-form-row">
<div class="utrecht-form-field__label"><label class="utrecht-form-label" for="wachtwoord">Wachtwoord</label></div>
<div class="utrecht-form-field__input"><input class="utrecht-textbox utrecht-textbox--html-input" id="wachtwoord" name="wachtwoord" type="password" autocomplete="current-password" required{described}></div>
</div>
<button class="utrecht-button utrecht-button--primary-action" type="submit" id="inloggen">Inloggen</button>
</form>"#,
            csrf = esc(csrf),
            back = esc(back),
            login = esc(login),
        )
    };
    let main = format!(
        r#"<h1 class="utrecht-heading-1">Inloggen</h1>
<p class="utrecht-paragraph">Log in als contactpersoon om signalen te openen, te beantwoorden en te volgen.</p>
{error_block}
{oidc}
{local}"#
    );
    page(st.theme(), "Inloggen", None, &main)
}

/// `GET /login`: the form, in an anonymous session of its own.
pub async fn form(
    State(st): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<Back>,
) -> Response {
    let back = safe_back(q.terug.as_deref());
    let s = match st.sessions.of(&headers) {
        Some(s) if s.contact.is_some() => return Redirect::to(&back).into_response(),
        Some(s) => s,
        None => st.sessions.start(None),
    };
    let r = html(StatusCode::OK, form_page(&st, &s.csrf, &back, None, ""));
    with_session(&st, &s, r)
}

/// Hands the session `s` to the browser with the response `r`.
pub fn with_session(st: &AppState, s: &session::Session, mut r: Response) -> Response {
    r.headers_mut().insert(
        header::SET_COOKIE,
        st.sessions.set_cookie(s).parse().expect("cookie"),
    );
    r
}

#[derive(Deserialize)]
pub struct LoginForm {
    csrf: String,
    terug: Option<String>,
    gebruikersnaam: String,
    wachtwoord: String,
}

/// `POST /login`.
pub async fn submit(
    State(st): State<AppState>,
    headers: HeaderMap,
    Form(f): Form<LoginForm>,
) -> Response {
    let back = safe_back(f.terug.as_deref());
    let Some(anon) = st
        .sessions
        .of(&headers)
        .filter(|s| session::same(&s.csrf, &f.csrf))
    else {
        return super::layout::message(
            st.theme(),
            StatusCode::FORBIDDEN,
            "Formulier verlopen",
            "Dit formulier is verlopen of niet van deze site. Open de inlogpagina opnieuw.",
            None,
        );
    };
    let Some(path) = st.settings.monitor.accounts_file.as_deref() else {
        return super::layout::message(
            st.theme(),
            StatusCode::NOT_FOUND,
            "Geen lokale accounts",
            "In deze regio logt u in via de identiteitsvoorziening van uw organisatie.",
            None,
        );
    };
    let login = f.gebruikersnaam.trim().to_owned();
    let (file, pw) = (std::path::PathBuf::from(path), f.wachtwoord.clone());
    let who = login.clone();
    let ok = tokio::task::spawn_blocking(move || accounts::check(&file, &who, &pw))
        .await
        .ok()
        .and_then(Result::ok)
        .unwrap_or(false);
    let known = ok && st.view.read(|s| s.contact(&login).is_some());
    if !known {
        st.health
            .metrics
            .inc("schakel_monitor_logins_total", "outcome=\"refused\"");
        return html(
            StatusCode::UNAUTHORIZED,
            form_page(
                &st,
                &anon.csrf,
                &back,
                Some("De gebruikersnaam of het wachtwoord klopt niet."),
                &login,
            ),
        );
    }
    st.sessions.end(&anon.id);
    let s = st.sessions.start(Some(login));
    st.health
        .metrics
        .inc("schakel_monitor_logins_total", "outcome=\"ok\"");
    with_session(&st, &s, Redirect::to(&back).into_response())
}

#[derive(Deserialize)]
pub struct CsrfForm {
    csrf: String,
}

/// `POST /logout`: ends the session.
pub async fn logout(
    State(st): State<AppState>,
    headers: HeaderMap,
    Form(f): Form<CsrfForm>,
) -> Response {
    if let Some(s) = st.sessions.of(&headers) {
        if !session::same(&s.csrf, &f.csrf) {
            return super::layout::message(
                st.theme(),
                StatusCode::FORBIDDEN,
                "Formulier verlopen",
                "Dit formulier is verlopen of niet van deze site.",
                None,
            );
        }
        st.sessions.end(&s.id);
    }
    let mut r = super::layout::message(
        st.theme(),
        StatusCode::OK,
        "Uitgelogd",
        "U bent uitgelogd.",
        None,
    );
    r.headers_mut().insert(
        header::SET_COOKIE,
        st.sessions.clear_cookie().parse().expect("cookie"),
    );
    r
}

/// `GET /auth/start`: off to the identity provider (no state of ours changes but the login
/// under way).
pub async fn oidc_start(State(st): State<AppState>, Query(q): Query<Back>) -> Response {
    let Some(oidc) = st.oidc.clone() else {
        return Redirect::to("/login").into_response();
    };
    match oidc.start(safe_back(q.terug.as_deref())).await {
        Ok(url) => Redirect::to(&url).into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "login at the identity provider cannot start");
            super::layout::message(
                st.theme(),
                StatusCode::SERVICE_UNAVAILABLE,
                "Inloggen lukt nu niet",
                "De identiteitsvoorziening van uw organisatie is niet bereikbaar. Probeer het over enkele minuten opnieuw.",
                None,
            )
        }
    }
}

#[derive(Deserialize)]
pub struct Callback {
    code: Option<String>,
    state: Option<String>,
    iss: Option<String>,
    error: Option<String>,
}

/// `GET /auth/callback`: the provider sends the browser back with a code.
pub async fn oidc_callback(State(st): State<AppState>, Query(q): Query<Callback>) -> Response {
    let Some(oidc) = st.oidc.clone() else {
        return Redirect::to("/login").into_response();
    };
    let refused = |text: &str| {
        st.health
            .metrics
            .inc("schakel_monitor_logins_total", "outcome=\"refused\"");
        super::layout::message(
            st.theme(),
            StatusCode::FORBIDDEN,
            "Inloggen mislukt",
            text,
            None,
        )
    };
    let (Some(code), Some(state)) = (q.code.as_deref(), q.state.as_deref()) else {
        tracing::info!(
            error = q.error.as_deref().unwrap_or("none"),
            "login ended at the identity provider"
        );
        return refused("Het inloggen is afgebroken. Probeer het opnieuw.");
    };
    let (who, back) = match oidc.finish(code, state, q.iss.as_deref()).await {
        Ok(x) => x,
        Err(e) => {
            tracing::warn!(error = %e, "login refused");
            return refused("Het inloggen kon niet worden afgerond. Probeer het opnieuw.");
        }
    };
    let claim = &st
        .settings
        .monitor
        .oidc
        .as_ref()
        .map_or("email", |o| o.claim.as_str())
        .to_owned();
    let Some(contact) = st
        .view
        .read(|s| s.contact_for_claim(claim, &who).map(|c| c.id.clone()))
    else {
        return refused("U bent ingelogd, maar u staat niet als contactpersoon in het adresboek van Schakel. Vraag uw functioneel beheerder om u toe te voegen.");
    };
    let s = st.sessions.start(Some(contact));
    st.health
        .metrics
        .inc("schakel_monitor_logins_total", "outcome=\"ok\"");
    with_session(&st, &s, Redirect::to(&back).into_response())
}
