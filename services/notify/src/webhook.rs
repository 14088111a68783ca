//! Webhook delivery signed per Standard Webhooks.

use std::time::Duration;

use base64::Engine;
use hmac::{Hmac, Mac};
use schakel_core::log::trace::TraceParent;
use sha2::Sha256;

/// Why a webhook was not delivered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendError {
    /// The receiver answered with a non-2xx status.
    Status(u16),
    /// No answer: connection refused, reset or timed out.
    Transport(String),
    /// The configured secret is not a `whsec_` base64 key.
    BadSecret,
}

impl std::fmt::Display for SendError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SendError::Status(s) => write!(f, "receiver answered {s}"),
            SendError::Transport(e) => write!(f, "no answer: {e}"),
            SendError::BadSecret => f.write_str("webhook secret is not a whsec_ base64 key"),
        }
    }
}

/// The `webhook-signature` value for a message: `v1,<base64 HMAC-SHA256(id.timestamp.body)>`.
pub fn sign(secret: &str, id: &str, timestamp: i64, body: &[u8]) -> Result<String, SendError> {
    let b64 = base64::engine::general_purpose::STANDARD;
    let key = b64
        .decode(secret.strip_prefix("whsec_").unwrap_or(secret))
        .map_err(|_| SendError::BadSecret)?;
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&key).map_err(|_| SendError::BadSecret)?;
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    Ok(format!("v1,{}", b64.encode(mac.finalize().into_bytes())))
}

/// One webhook request.
pub struct Request<'a> {
    pub url: &'a str,
    pub secret: &'a str,
    /// the delivery id (`webhook-id`)
    pub id: &'a str,
    pub body: Vec<u8>,
    pub timeout: Duration,
    /// the attempt's span: the receiver can join the trace
    pub trace: &'a TraceParent,
}

/// Posts a signed webhook; any 2xx within the timeout counts as delivered.
pub async fn post(client: &reqwest::Client, r: Request<'_>) -> Result<u16, SendError> {
    let ts = jiff::Timestamp::now().as_second();
    let signature = sign(r.secret, r.id, ts, &r.body)?;
    let mut req = client
        .post(r.url)
        .timeout(r.timeout)
        .header("content-type", "application/cloudevents+json")
        .header("webhook-id", r.id)
        .header("webhook-timestamp", ts.to_string())
        .header("webhook-signature", signature)
        .header("traceparent", r.trace.to_string());
    if let Some(state) = r.trace.tracestate() {
        req = req.header("tracestate", state);
    }
    let resp = req
        .body(r.body)
        .send()
        .await
        .map_err(|e| SendError::Transport(e.without_url().to_string()))?;
    let status = resp.status().as_u16();
    if resp.status().is_success() {
        Ok(status)
    } else {
        Err(SendError::Status(status))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_matches_the_standard_webhooks_example() {
        // the example of the Standard Webhooks specification
        let sig = sign(
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            br#"{"test": 2432232314}"#,
        )
        .unwrap();
        assert_eq!(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
        assert_eq!(sign("whsec_%%%", "a", 1, b""), Err(SendError::BadSecret));
    }
}
