//! The monitor: where contact persons open, answer and follow what Schakel tells them. The
//! `dataref` of every notification is a page here; its acknowledge and complete links land
//! here; the inbox lists what is addressed to the roles a contact holds. Its state is a fold of
//! the log ([`view`]); it writes answers to `hub.responses.v1` and an audit record to
//! `hub.audit.v1` before it shows a child.

pub mod answer;
pub mod assets;
pub mod audit;
pub mod auth;
pub mod config;
pub mod facts;
pub mod pages;
pub mod stats;
pub mod view;

use std::sync::Arc;

use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;
use schakel_core::log::kafka::Producer;
use schakel_core::runtime::ops::{self, Health};
use schakel_core::vault::Vault;
use schakel_core::{Config, Shutdown};
use tokio::net::TcpListener;

use crate::auth::Sessions;
use crate::config::Settings;
use crate::view::View;

/// What the request handlers share.
#[derive(Clone)]
pub struct AppState {
    pub settings: Arc<Settings>,
    pub view: View,
    pub sessions: Arc<Sessions>,
    pub producer: Producer,
    pub vault: Arc<Vault>,
    pub assets: Arc<assets::Assets>,
    pub health: Health,
    /// one answer at a time: judged with every answer before it, then written
    pub turn: Arc<tokio::sync::Mutex<()>>,
    /// the OpenID provider, when the region logs in with one
    pub oidc: Option<Arc<auth::oidc::Oidc>>,
}

impl AppState {
    pub fn theme(&self) -> &str {
        &self.settings.monitor.theme
    }
}

/// Whether the monitor is reached on loopback only (then cookies may go without `Secure`).
fn loopback(api_base_url: &str) -> bool {
    let rest = api_base_url
        .strip_prefix("http://")
        .or_else(|| api_base_url.strip_prefix("https://"))
        .unwrap_or(api_base_url);
    let host = rest.split(['/', ':']).next().unwrap_or("");
    matches!(host, "127.0.0.1" | "localhost" | "[" | "::1")
        || rest.starts_with("[::1]")
        || host.starts_with("127.")
}

/// A path with a leading `~/` taken from `$HOME`.
pub(crate) fn home(p: &str) -> std::path::PathBuf {
    match (p.strip_prefix("~/"), std::env::var_os("HOME")) {
        (Some(rest), Some(h)) => std::path::Path::new(&h).join(rest),
        _ => std::path::PathBuf::from(p),
    }
}

/// Runs the monitor on `listener` until shutdown.
pub async fn run(cfg: Config, listener: TcpListener, shutdown: Shutdown) -> anyhow::Result<()> {
    let settings = Settings::from_config(cfg.clone())?;
    let base = &cfg.region.api_base_url;
    let on_loopback = loopback(base);
    if !on_loopback && !base.starts_with("https://") {
        anyhow::bail!(
            "region.api_base_url {base} is neither https nor loopback: sessions need https"
        );
    }
    let health = Health::new();
    let st = AppState {
        view: View::default(),
        sessions: Arc::new(Sessions::new(settings.monitor.session_idle, !on_loopback)),
        producer: Producer::new(&cfg)?,
        vault: Arc::new(Vault::from_config(&cfg)?),
        assets: Arc::new(assets::Assets::load(
            settings.monitor.assets_dir.as_deref().map(home).as_deref(),
        )),
        health: health.clone(),
        turn: Arc::default(),
        oidc: match settings.monitor.oidc.clone() {
            Some(o) => Some(Arc::new(auth::oidc::Oidc::new(
                o,
                format!("{}/auth/callback", base.trim_end_matches('/')),
            )?)),
            None => None,
        },
        settings: Arc::new(settings),
    };
    ops::watch_broker(&cfg, &health, &shutdown);
    tokio::spawn(view::follow(cfg.clone(), st.view.clone(), shutdown.clone()));
    tokio::spawn(become_ready(
        st.view.clone(),
        health.clone(),
        shutdown.clone(),
    ));
    let app = router(st).merge(ops::router(health));
    tracing::info!(addr = %listener.local_addr()?, "monitor listening");
    ops::serve(listener, app, shutdown).await?;
    Ok(())
}

async fn become_ready(view: View, health: Health, shutdown: Shutdown) {
    loop {
        if view.is_ready() {
            health.set_ready(true);
            return;
        }
        tokio::select! {
            _ = shutdown.wait() => return,
            _ = tokio::time::sleep(std::time::Duration::from_millis(50)) => {}
        }
    }
}

/// The OpenAPI 3.1 document of the monitor's JSON answers and pages (`GET /openapi.json`).
pub const OPENAPI: &str = include_str!("../openapi.json");

pub fn router(st: AppState) -> Router {
    Router::new()
        .route("/", get(start_page))
        .route("/static/schakel.css", get(css))
        .route(
            "/openapi.json",
            schakel_core::runtime::ops::openapi(OPENAPI),
        )
        .merge(pages::routes())
        .route_layer(axum::middleware::from_fn_with_state(
            st.health.metrics.clone(),
            schakel_core::runtime::ops::track,
        ))
        .with_state(st)
}

/// `/`: the region's figures for those who monitor it, the inbox for everyone else.
async fn start_page(State(st): State<AppState>, headers: axum::http::HeaderMap) -> Response {
    let to = match auth::viewer(&st.settings, &st.sessions, &headers) {
        Some(v)
            if st.view.read(|s| {
                s.contact(&v.contact).is_some_and(|c| {
                    c.roles
                        .iter()
                        .any(|r| pages::dashboard::ROLES.contains(&r.as_str()))
                })
            }) =>
        {
            "/dashboard"
        }
        _ => "/inbox",
    };
    Redirect::to(to).into_response()
}

async fn css(State(st): State<AppState>) -> Response {
    st.assets.response().into_response()
}

#[cfg(test)]
mod tests {
    #[test]
    fn loopback_is_known_by_its_host() {
        for b in [
            "http://127.0.0.1:8083",
            "http://localhost:8083/",
            "http://[::1]:8083",
        ] {
            assert!(super::loopback(b), "{b}");
        }
        for b in ["https://schakel.haarlem.nl", "http://schakel.test"] {
            assert!(!super::loopback(b), "{b}");
        }
    }
}
