//! The frame of every page: Dutch, the NL Design System's components and the region's
//! theme, one stylesheet from our own origin, no script. And the few building blocks pages
//! share.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

pub use schakel_core::domain::wording::escape_html as esc;

/// Who the page is shown to, for its header.
pub struct Who<'a> {
    /// the contact's name
    pub name: &'a str,
    pub csrf: &'a str,
    /// whether the contact sees the region's figures (a menu item)
    pub dashboard: bool,
}

/// A whole page.
pub fn page(theme: &str, title: &str, who: Option<&Who<'_>>, main: &str) -> String {
    let nav = match who {
        Some(w) => format!(
            r#"<nav class="schakel-nav" aria-label="Hoofdmenu"><ul class="schakel-nav__list">
<li><a class="utrecht-link utrecht-link--html-a" href="/inbox">Inbox</a></li>{figures}
<li><span class="schakel-nav__who">Ingelogd als {name}</span></li>
<li><form method="post" action="/logout"><input type="hidden" name="csrf" value="{csrf}">
<button class="utrecht-button utrecht-button--subtle" type="submit">Uitloggen</button></form></li>
</ul></nav>"#,
            name = esc(w.name),
            csrf = esc(w.csrf),
            figures = if w.dashboard {
                r#"<li><a class="utrecht-link utrecht-link--html-a" href="/dashboard">Cijfers</a></li>
<li><a class="utrecht-link utrecht-link--html-a" href="/whatif">Wat als</a></li>"#
            } else {
                ""
            },
        ),
        None => String::new(),
    };
    format!(
        r##"<!DOCTYPE html>
<html lang="nl" class="utrecht-root {theme}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} · Schakel</title>
<link rel="stylesheet" href="/static/schakel.css">
</head>
<body class="utrecht-body utrecht-document utrecht-surface">
<div class="utrecht-page-layout">
<a class="utrecht-skip-link utrecht-skip-link--visible-on-focus" href="#inhoud">Naar de inhoud</a>
<header class="utrecht-page-header"><div class="utrecht-page-header__content schakel-header">
<p class="schakel-brand"><a class="utrecht-link utrecht-link--html-a" href="/">Schakel</a></p>
{nav}
</div></header>
<div class="utrecht-page-body"><div class="utrecht-page-body__content">
<main id="inhoud" class="utrecht-page-content__main schakel-main">
{main}
</main>
</div></div>
<footer class="utrecht-page-footer"><div class="utrecht-page-footer__content">
<p class="utrecht-paragraph utrecht-paragraph--small">Schakel verbindt onderwijs, leerplicht en jeugdhulp in de regio. Elke inzage in de gegevens van een kind wordt vastgelegd.</p>
</div></footer>
</div>
</body>
</html>"##,
        theme = esc(theme),
        title = esc(title),
    )
}

/// An HTML answer: never cached (pages may show a child), never framed, no referrer (a link
/// token in the address stays here), only our own resources.
pub fn html(status: StatusCode, body: String) -> Response {
    let mut r = (status, body).into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    secure_headers(h);
    r
}

/// The headers every answer of the monitor carries.
pub fn secure_headers(h: &mut axum::http::HeaderMap) {
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
}

/// A page that only says something (an error, a refusal, a result).
pub fn message(
    theme: &str,
    status: StatusCode,
    title: &str,
    text: &str,
    who: Option<&Who<'_>>,
) -> Response {
    let main = format!(
        r#"<h1 class="utrecht-heading-1">{}</h1>
<p class="utrecht-paragraph">{}</p>
<p class="utrecht-paragraph"><a class="utrecht-link utrecht-link--html-a" href="/inbox">Naar uw inbox</a></p>"#,
        esc(title),
        esc(text)
    );
    html(status, page(theme, title, who, &main))
}

/// A status badge.
pub fn badge(kind: &str, text: &str) -> String {
    format!(
        r#"<span class="utrecht-status-badge utrecht-status-badge--{kind}">{}</span>"#,
        esc(text)
    )
}

/// A form with one button that posts to `action` with the CSRF token (and extra fields).
pub fn button_form(
    action: &str,
    csrf: &str,
    label: &str,
    primary: bool,
    extra: &[(&str, &str)],
) -> String {
    let fields: String = extra
        .iter()
        .map(|(k, v)| {
            format!(
                r#"<input type="hidden" name="{}" value="{}">"#,
                esc(k),
                esc(v)
            )
        })
        .collect();
    format!(
        r#"<form class="schakel-inline-form" method="post" action="{}"><input type="hidden" name="csrf" value="{}">{fields}<button class="utrecht-button utrecht-button--{}" type="submit">{}</button></form>"#,
        esc(action),
        esc(csrf),
        if primary {
            "primary-action"
        } else {
            "secondary-action"
        },
        esc(label)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped_and_the_page_is_dutch_with_one_stylesheet() {
        assert_eq!(
            esc(r#"<a href="x">&'"#),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
        let p = page("voorbeeld-theme", "Titel <b>", None, "<p>x</p>");
        assert!(p.contains(r#"<html lang="nl""#));
        assert!(p.contains("Titel &lt;b&gt; · Schakel"));
        assert_eq!(p.matches("<link rel=\"stylesheet\"").count(), 1);
        assert!(!p.contains("<script"));
    }
}
