//! Logging in with OpenID Connect (NL GOV profile): the authorization code flow with PKCE
//! (S256), `state` and `nonce`, client authentication by `client_secret_basic` or
//! `private_key_jwt` (ES256), and the ID token's signature (RS256 or ES256, from the provider's
//! JWKS), issuer, audience, expiry and nonce checked before the user's claim is matched to a
//! contact of the directory.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use ring::rand::SystemRandom;
use ring::signature::{self, EcdsaKeyPair, KeyPair, RsaPublicKeyComponents, UnparsedPublicKey};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::config::OidcConfig;

/// What the provider's discovery document says.
#[derive(Debug, Clone, Deserialize)]
pub struct Discovery {
    pub issuer: String,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    pub jwks_uri: String,
    #[serde(default)]
    pub end_session_endpoint: Option<String>,
}

/// A login under way: what the callback must match.
#[derive(Debug, Clone)]
struct Pending {
    verifier: String,
    nonce: String,
    back: String,
    started: Instant,
}

/// Why a login failed (said to the user in general terms, logged in these).
#[derive(Debug, thiserror::Error)]
pub enum OidcError {
    #[error("the identity provider cannot be reached: {0}")]
    Unreachable(String),
    #[error("the login is unknown or took too long")]
    UnknownState,
    #[error("the identity provider refused: {0}")]
    Refused(String),
    #[error("the ID token is not valid: {0}")]
    InvalidToken(String),
}

/// The relying party.
pub struct Oidc {
    cfg: OidcConfig,
    redirect_uri: String,
    http: reqwest::Client,
    discovery: tokio::sync::OnceCell<Discovery>,
    pending: Mutex<HashMap<String, Pending>>,
    key: Option<EcdsaKeyPair>,
}

const PENDING_FOR: Duration = Duration::from_secs(600);

fn random_b64(n: usize) -> String {
    let mut b = vec![0u8; n];
    getrandom::fill(&mut b).expect("the OS has randomness");
    URL_SAFE_NO_PAD.encode(b)
}

/// The S256 code challenge of a PKCE verifier.
pub fn challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// The DER inside a PEM file's first block.
fn pem_der(pem: &str) -> anyhow::Result<Vec<u8>> {
    let body: String = pem
        .lines()
        .skip_while(|l| !l.starts_with("-----BEGIN"))
        .skip(1)
        .take_while(|l| !l.starts_with("-----END"))
        .collect();
    Ok(STANDARD.decode(body.trim())?)
}

fn form_encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

impl Oidc {
    /// A relying party for `cfg`, called back at `redirect_uri`.
    pub fn new(cfg: OidcConfig, redirect_uri: String) -> anyhow::Result<Self> {
        let key = match &cfg.private_key_file {
            Some(f) => {
                let pem = std::fs::read_to_string(f)
                    .map_err(|e| anyhow::anyhow!("monitor.oidc.private_key_file {f}: {e}"))?;
                let der = pem_der(&pem)?;
                Some(
                    EcdsaKeyPair::from_pkcs8(
                        &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
                        &der,
                        &SystemRandom::new(),
                    )
                    .map_err(|e| {
                        anyhow::anyhow!(
                            "monitor.oidc.private_key_file {f}: not a P-256 PKCS#8 key: {e}"
                        )
                    })?,
                )
            }
            None => None,
        };
        Ok(Self {
            cfg,
            redirect_uri,
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .timeout(Duration::from_secs(10))
                .build()?,
            discovery: tokio::sync::OnceCell::new(),
            pending: Mutex::default(),
            key,
        })
    }

    /// The provider's discovery document, read once (again after a failure).
    pub async fn discovery(&self) -> Result<&Discovery, OidcError> {
        self.discovery
            .get_or_try_init(|| async {
                let url = format!(
                    "{}/.well-known/openid-configuration",
                    self.cfg.issuer.trim_end_matches('/')
                );
                let d: Discovery = self
                    .http
                    .get(&url)
                    .send()
                    .await
                    .and_then(|r| r.error_for_status())
                    .map_err(|e| OidcError::Unreachable(e.to_string()))?
                    .json()
                    .await
                    .map_err(|e| OidcError::Unreachable(e.to_string()))?;
                if d.issuer.trim_end_matches('/') != self.cfg.issuer.trim_end_matches('/') {
                    return Err(OidcError::Refused(format!(
                        "the discovery document names issuer {}",
                        d.issuer
                    )));
                }
                Ok(d)
            })
            .await
    }

    /// Starts a login: the provider's authorization URL, to which the browser goes.
    pub async fn start(&self, back: String) -> Result<String, OidcError> {
        let d = self.discovery().await?;
        let (state, nonce, verifier) = (random_b64(24), random_b64(24), random_b64(48));
        let url = format!(
            "{}?response_type=code&client_id={}&redirect_uri={}&scope={}&state={state}&nonce={nonce}&code_challenge={}&code_challenge_method=S256",
            d.authorization_endpoint,
            form_encode(&self.cfg.client_id),
            form_encode(&self.redirect_uri),
            form_encode("openid email profile"),
            challenge(&verifier),
        );
        let mut p = self.pending.lock().expect("pending lock");
        p.retain(|_, x| x.started.elapsed() < PENDING_FOR);
        p.insert(
            state,
            Pending {
                verifier,
                nonce,
                back,
                started: Instant::now(),
            },
        );
        Ok(url)
    }

    /// Finishes a login: exchanges the code and checks the ID token. The user's claim (the
    /// configured one) and where to go next.
    pub async fn finish(
        &self,
        code: &str,
        state: &str,
        iss: Option<&str>,
    ) -> Result<(String, String), OidcError> {
        let p = self
            .pending
            .lock()
            .expect("pending lock")
            .remove(state)
            .filter(|p| p.started.elapsed() < PENDING_FOR)
            .ok_or(OidcError::UnknownState)?;
        let d = self.discovery().await?;
        if let Some(i) = iss {
            if i != d.issuer {
                return Err(OidcError::Refused(format!("a callback from issuer {i}")));
            }
        }
        let mut form = vec![
            ("grant_type", "authorization_code".to_owned()),
            ("code", code.to_owned()),
            ("redirect_uri", self.redirect_uri.clone()),
            ("code_verifier", p.verifier.clone()),
        ];
        let mut req = self.http.post(&d.token_endpoint);
        match (&self.key, &self.cfg.client_secret) {
            (Some(key), _) => {
                form.push(("client_id", self.cfg.client_id.clone()));
                form.push((
                    "client_assertion_type",
                    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer".to_owned(),
                ));
                form.push(("client_assertion", self.assertion(key, &d.token_endpoint)?));
            }
            (None, Some(secret)) => {
                let basic = STANDARD.encode(format!(
                    "{}:{}",
                    form_encode(&self.cfg.client_id),
                    form_encode(secret.expose())
                ));
                req = req.header("authorization", format!("Basic {basic}"));
            }
            (None, None) => return Err(OidcError::Refused("no client credentials".into())),
        }
        let r = req
            .form(&form)
            .send()
            .await
            .map_err(|e| OidcError::Unreachable(e.to_string()))?;
        let status = r.status();
        let body: serde_json::Value = r
            .json()
            .await
            .map_err(|e| OidcError::Refused(e.to_string()))?;
        if !status.is_success() {
            return Err(OidcError::Refused(format!(
                "token endpoint answered {status}: {}",
                body["error"].as_str().unwrap_or("")
            )));
        }
        let id_token = body["id_token"]
            .as_str()
            .ok_or_else(|| OidcError::Refused("no id_token".into()))?;
        let claims = self.verify(d, id_token).await?;
        if claims["nonce"].as_str() != Some(p.nonce.as_str()) {
            return Err(OidcError::InvalidToken("nonce".into()));
        }
        let who = claims[&self.cfg.claim]
            .as_str()
            .ok_or_else(|| OidcError::InvalidToken(format!("no {} claim", self.cfg.claim)))?
            .to_owned();
        Ok((who, p.back))
    }

    /// A `private_key_jwt` client assertion for one token request.
    fn assertion(&self, key: &EcdsaKeyPair, audience: &str) -> Result<String, OidcError> {
        let now = jiff::Timestamp::now().as_second();
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"ES256","typ":"JWT"}"#);
        let claims = URL_SAFE_NO_PAD.encode(
            serde_json::json!({
                "iss": self.cfg.client_id, "sub": self.cfg.client_id, "aud": audience,
                "jti": random_b64(16), "iat": now, "exp": now + 60,
            })
            .to_string(),
        );
        let input = format!("{header}.{claims}");
        let sig = key
            .sign(&SystemRandom::new(), input.as_bytes())
            .map_err(|_| OidcError::Refused("signing the client assertion".into()))?;
        Ok(format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig.as_ref())))
    }

    /// Checks an ID token's signature against the provider's keys, and its issuer, audience
    /// and expiry; its claims.
    async fn verify(&self, d: &Discovery, token: &str) -> Result<serde_json::Value, OidcError> {
        let bad = |m: &str| OidcError::InvalidToken(m.to_owned());
        let mut parts = token.split('.');
        let (Some(h), Some(c), Some(s), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(bad("not a JWS"));
        };
        let header: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(h).map_err(|_| bad("header"))?)
                .map_err(|_| bad("header"))?;
        let sig = URL_SAFE_NO_PAD.decode(s).map_err(|_| bad("signature"))?;
        let alg = header["alg"].as_str().unwrap_or("");
        let kid = header["kid"].as_str();
        let jwks: serde_json::Value = self
            .http
            .get(&d.jwks_uri)
            .send()
            .await
            .map_err(|e| OidcError::Unreachable(e.to_string()))?
            .json()
            .await
            .map_err(|e| OidcError::Unreachable(e.to_string()))?;
        let key = jwks["keys"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|k| {
                kid.is_none_or(|id| k["kid"].as_str() == Some(id))
                    && k["alg"].as_str().is_none_or(|a| a == alg)
            })
            .ok_or_else(|| bad("no key of the provider matches"))?;
        let b64 = |f: &str| {
            key[f]
                .as_str()
                .and_then(|v| URL_SAFE_NO_PAD.decode(v).ok())
                .ok_or_else(|| bad("key"))
        };
        let input = format!("{h}.{c}");
        let ok = match (alg, key["kty"].as_str()) {
            ("RS256", Some("RSA")) => RsaPublicKeyComponents {
                n: b64("n")?,
                e: b64("e")?,
            }
            .verify(
                &signature::RSA_PKCS1_2048_8192_SHA256,
                input.as_bytes(),
                &sig,
            )
            .is_ok(),
            ("ES256", Some("EC")) => {
                let mut point = vec![4u8];
                point.extend(b64("x")?);
                point.extend(b64("y")?);
                UnparsedPublicKey::new(&signature::ECDSA_P256_SHA256_FIXED, point)
                    .verify(input.as_bytes(), &sig)
                    .is_ok()
            }
            _ => return Err(bad("only RS256 and ES256 are accepted")),
        };
        if !ok {
            return Err(bad("signature"));
        }
        let claims: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(c).map_err(|_| bad("claims"))?)
                .map_err(|_| bad("claims"))?;
        if claims["iss"].as_str() != Some(d.issuer.as_str()) {
            return Err(bad("issuer"));
        }
        let aud_ok = match &claims["aud"] {
            serde_json::Value::String(a) => *a == self.cfg.client_id,
            serde_json::Value::Array(a) => a.iter().any(|x| x == self.cfg.client_id.as_str()),
            _ => false,
        };
        if !aud_ok {
            return Err(bad("audience"));
        }
        let now = jiff::Timestamp::now().as_second();
        if claims["exp"].as_i64().is_none_or(|e| e + 60 < now) {
            return Err(bad("expired"));
        }
        Ok(claims)
    }

    /// The public key of `private_key_jwt` as a JWK (to register the client).
    pub fn public_jwk(&self) -> Option<serde_json::Value> {
        let k = self.key.as_ref()?.public_key().as_ref();
        Some(serde_json::json!({
            "kty": "EC", "crv": "P-256", "alg": "ES256", "use": "sig",
            "x": URL_SAFE_NO_PAD.encode(&k[1..33]), "y": URL_SAFE_NO_PAD.encode(&k[33..65]),
        }))
    }

    /// Where the browser goes to log out at the provider too, if it says.
    pub async fn end_session(&self) -> Option<String> {
        self.discovery().await.ok()?.end_session_endpoint.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pkce_challenge_is_rfc_7636s() {
        // the example of RFC 7636, appendix B
        assert_eq!(
            challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
        assert_eq!(form_encode("a b/c"), "a%20b%2Fc");
    }
}
