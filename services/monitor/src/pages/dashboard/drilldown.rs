//! `GET /dashboard/lijst`: the children behind a cell of the thuiszitters table, for the
//! leerplicht of their municipality only, each audited before the list is shown.

use super::*;

#[derive(Debug, Clone, Default, Deserialize)]
pub struct ListQuery {
    #[serde(flatten)]
    filters: Filters,
    /// the duration bucket (column) of the thuiszitters table
    kolom: Option<usize>,
}

/// `GET /dashboard/lijst`: the children behind a cell of the thuiszitters table, for the
/// leerplicht of their municipality only; every child on it is recorded in the audit log
/// before the list is shown.
pub async fn list(
    State(st): State<AppState>,
    schakel_core::runtime::ops::RequestTrace(trace): schakel_core::runtime::ops::RequestTrace,
    headers: HeaderMap,
    uri: axum::http::Uri,
    Query(q): Query<ListQuery>,
) -> Response {
    let Some(v) = viewer(&st.settings, &st.sessions, &headers) else {
        return login_first(&headers, &back_to(&uri));
    };
    let today = today();
    let mut c = q.filters.chosen(&st.settings.peildata, today);
    let found = st.view.read(|s| {
        let a = access(s, &v.contact)?;
        if q.filters.gemeente.is_none() {
            c.scope.municipality = a.own.clone();
        }
        if !a.exact(&c.scope) {
            return Some(None);
        }
        let as_of = c.as_of(c.now_known);
        let col = q.kolom.unwrap_or(0).min(figures::DURATIONS.len() - 1);
        let contact = s.contact(&v.contact)?.clone();
        let rows: Vec<(
            String,
            Option<schakel_core::domain::events::IdentityRecord>,
            Date,
            Date,
        )> = figures::thuiszitters_in_bucket(&s.stats, &c.scope, as_of, col)
            .into_iter()
            .map(|(key, birth, since)| {
                let sealed = s.identities.get(&key).cloned();
                (key, sealed, birth, since)
            })
            .collect();
        Some(Some((rows, col, contact)))
    });
    let Some(found) = found else {
        return forbidden(&st, &v);
    };
    let Some((rows, col, contact)) = found else {
        return forbidden(&st, &v);
    };
    let role = if contact.roles.iter().any(|r| r == "leerplicht") {
        "leerplicht"
    } else {
        "rmc"
    };
    for (key, _, _, _) in &rows {
        let Ok(child) = schakel_core::domain::ids::ChildKey::parse(key) else {
            continue;
        };
        let read = crate::audit::Read {
            actor: &v.contact,
            role,
            organisation: &contact.institution,
            child: &child,
            signal_id: None,
            categories: vec!["identity".into(), "verzuim".into()],
            channel: "lijst thuiszitters",
        };
        if crate::audit::record(&st, read, &trace).await.is_err() {
            return message(
                st.theme(),
                StatusCode::SERVICE_UNAVAILABLE,
                "Nu niet beschikbaar",
                "Uw inzage kan nu niet worden vastgelegd, en zonder vastlegging toont Schakel geen gegevens van een kind. Probeer het over enkele minuten opnieuw.",
                None,
            );
        }
    }
    let mut main = format!(
        r#"<h1 class="utrecht-heading-1">Thuiszitters: {}</h1><p class="utrecht-paragraph">Op peildatum {}, woongemeente {}. Uw inzage is vastgelegd.</p><table class="utrecht-table utrecht-table--html-table"><caption class="utrecht-table__caption">{} kinderen</caption><thead class="utrecht-table__header"><tr class="utrecht-table__row"><th class="utrecht-table__header-cell" scope="col">Naam</th><th class="utrecht-table__header-cell" scope="col">BSN</th><th class="utrecht-table__header-cell" scope="col">Geboortedatum</th><th class="utrecht-table__header-cell" scope="col">Thuis sinds</th></tr></thead><tbody class="utrecht-table__body">"#,
        esc(figures::DURATIONS[col]),
        dutch_date(c.peildatum),
        esc(c.scope.municipality.as_deref().unwrap_or("")),
        rows.len()
    );
    for (_, sealed, birth, since) in &rows {
        let id = sealed.as_ref().and_then(|r| st.vault.open_record(r).ok());
        let name = id
            .as_ref()
            .map(|i| {
                [i.given.as_deref(), i.family.as_deref()]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .unwrap_or_else(|| "(niet beschikbaar)".into());
        let bsn = id
            .as_ref()
            .and_then(|i| i.bsn.clone().or(i.onderwijsnummer.clone()))
            .unwrap_or_default();
        main.push_str(&format!(
            r#"<tr class="utrecht-table__row"><td class="utrecht-table__cell">{}</td><td class="utrecht-table__cell">{}</td><td class="utrecht-table__cell">{}</td><td class="utrecht-table__cell">{}</td></tr>"#,
            esc(&name),
            esc(&bsn),
            dutch_date(*birth),
            dutch_date(*since)
        ));
    }
    main.push_str("</tbody></table>");
    let mut name = String::new();
    let w = who(&st, &v, &mut name);
    html(
        StatusCode::OK,
        page(st.theme(), "Thuiszitters", Some(&w), &main),
    )
}
