//! The Notificaties API channel (VNG standard, as Open Notificaties implements it): a signal
//! step goes to the region's notificatierouteringscomponent as a notificatie on the kanaal
//! `schakel-signalen`, once per role it is for; the API fans it out to its abonnementen, which
//! filter on the `kenmerken`. The kanaal is registered once, before the first notificatie,
//! when the API does not know it yet. Requests carry a ZGW JWT (HS256, client id and secret)
//! and the attempt's `traceparent`.
//!
//! A notificatie says what a webhook says without the contact cards: rule, step, municipality,
//! institution, role and whether it is a task, and where the signal is (`hoofdObject`). No
//! name, BSN, product or reason.

use std::collections::BTreeMap;
use std::time::Duration;

use base64::Engine as _;
use hmac::{Hmac, Mac};
use schakel_core::domain::events::SignalEvent;
use schakel_core::log::trace::TraceParent;
use serde::Serialize;
use sha2::Sha256;

use crate::config::NotificatiesConfig;
use crate::directory::Directory;
use crate::webhook::SendError;

/// The channel's name in the ledger and the metrics.
pub const CHANNEL: &str = "notificaties";

/// The `kenmerken` a subscriber can filter on, as registered with the kanaal.
pub const KENMERKEN: [&str; 5] = ["regel", "gemeente", "instelling", "rol", "taak"];

/// A notificatie as the API takes it (`POST /notificaties`).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Notificatie {
    pub kanaal: String,
    pub hoofd_object: String,
    pub resource: &'static str,
    pub resource_url: String,
    pub actie: String,
    pub aanmaakdatum: String,
    pub kenmerken: BTreeMap<&'static str, String>,
}

/// The ledger's "contact" of a role's notificaties: what `schakel deliveries list --contact`
/// shows and whose endpoint health counts.
pub fn contact_of(role: &str) -> String {
    format!("{CHANNEL}:{role}")
}

/// The notificatie of a signal step for one of its roles.
pub fn notificatie(
    cfg: &NotificatiesConfig,
    signal: &SignalEvent,
    role: &str,
    api_base_url: &str,
    now: jiff::Timestamp,
) -> Notificatie {
    let url = format!(
        "{}/v1/signals/{}",
        api_base_url.trim_end_matches('/'),
        signal.signal_id
    );
    let mut kenmerken = BTreeMap::new();
    kenmerken.insert("regel", signal.rule.clone());
    if let Some(m) = &signal.municipality {
        kenmerken.insert("gemeente", m.clone());
    }
    if let Some(i) = Directory::institution_for(signal, role) {
        kenmerken.insert("instelling", i);
    }
    kenmerken.insert("rol", role.to_owned());
    kenmerken.insert("taak", if signal.task { "ja" } else { "nee" }.to_owned());
    Notificatie {
        kanaal: cfg.kanaal.clone(),
        hoofd_object: url.clone(),
        resource: "signaal",
        resource_url: url,
        actie: signal.step.clone(),
        aanmaakdatum: now.to_string(),
        kenmerken,
    }
}

/// A ZGW JWT: HS256 over `{iss, iat, client_id, user_id, user_representation}`.
pub fn jwt(client_id: &str, secret: &str, now: jiff::Timestamp) -> String {
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let header = b64.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
    let claims = serde_json::json!({
        "iss": client_id,
        "iat": now.as_second(),
        "client_id": client_id,
        "user_id": "schakel-notify",
        "user_representation": "Schakel",
    });
    let payload = b64.encode(claims.to_string());
    let mut mac =
        <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key");
    mac.update(format!("{header}.{payload}").as_bytes());
    let signature = b64.encode(mac.finalize().into_bytes());
    format!("{header}.{payload}.{signature}")
}

/// One call to the API.
pub struct Call<'a> {
    pub client: &'a reqwest::Client,
    pub cfg: &'a NotificatiesConfig,
    pub timeout: Duration,
    pub trace: &'a TraceParent,
    /// the region's `api_base_url`: its `/openapi.json` is the kanaal's documentation link
    /// unless one is configured
    pub api_base_url: &'a str,
}

impl Call<'_> {
    fn url(&self, path: &str) -> String {
        format!("{}/{path}", self.cfg.url.trim_end_matches('/'))
    }

    fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        let token = jwt(
            &self.cfg.client_id,
            self.cfg.secret.expose(),
            jiff::Timestamp::now(),
        );
        let mut req = self
            .client
            .request(method, self.url(path))
            .timeout(self.timeout)
            .bearer_auth(token)
            .header("accept", "application/json")
            .header("traceparent", self.trace.to_string());
        if let Some(state) = self.trace.tracestate() {
            req = req.header("tracestate", state);
        }
        req
    }

    /// Registers the kanaal unless the API knows it already.
    pub async fn ensure_kanaal(&self) -> Result<(), SendError> {
        let res = self
            .request(reqwest::Method::GET, "kanaal")
            .query(&[("naam", self.cfg.kanaal.as_str())])
            .send()
            .await
            .map_err(transport)?;
        if !res.status().is_success() {
            return Err(SendError::Status(res.status().as_u16()));
        }
        let known: Vec<serde_json::Value> = res
            .json()
            .await
            .map_err(|e| SendError::Transport(format!("kanaal list: {}", e.without_url())))?;
        if known
            .iter()
            .any(|k| k["naam"].as_str() == Some(self.cfg.kanaal.as_str()))
        {
            return Ok(());
        }
        let body = serde_json::json!({
            "naam": self.cfg.kanaal,
            "documentatieLink": self.cfg.documentatie_link.clone().unwrap_or_else(|| {
                format!("{}/openapi.json", self.api_base_url.trim_end_matches('/'))
            }),
            "filters": KENMERKEN,
        });
        let res = self
            .request(reqwest::Method::POST, "kanaal")
            .json(&body)
            .send()
            .await
            .map_err(transport)?;
        if res.status().is_success() {
            tracing::info!(kanaal = %self.cfg.kanaal, "kanaal registered with the Notificaties API");
            Ok(())
        } else {
            Err(SendError::Status(res.status().as_u16()))
        }
    }

    /// Posts a notificatie; any 2xx counts as delivered.
    pub async fn post(&self, body: &[u8]) -> Result<u16, SendError> {
        let res = self
            .request(reqwest::Method::POST, "notificaties")
            .header("content-type", "application/json")
            .body(body.to_vec())
            .send()
            .await
            .map_err(transport)?;
        let status = res.status().as_u16();
        if res.status().is_success() {
            Ok(status)
        } else {
            Err(SendError::Status(status))
        }
    }
}

fn transport(e: reqwest::Error) -> SendError {
    SendError::Transport(e.without_url().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_jwt_is_hs256_over_the_zgw_claims() {
        let now = jiff::Timestamp::from_second(1_572_863_906).unwrap();
        let t = jwt("schakel", "geheim", now);
        let parts: Vec<&str> = t.split('.').collect();
        assert_eq!(parts.len(), 3);
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let claims: serde_json::Value =
            serde_json::from_slice(&b64.decode(parts[1]).unwrap()).unwrap();
        assert_eq!(claims["iss"], "schakel");
        assert_eq!(claims["client_id"], "schakel");
        assert_eq!(claims["iat"], 1_572_863_906);
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(b"geheim").unwrap();
        mac.update(format!("{}.{}", parts[0], parts[1]).as_bytes());
        assert_eq!(
            b64.decode(parts[2]).unwrap(),
            mac.finalize().into_bytes().to_vec()
        );
    }
}
