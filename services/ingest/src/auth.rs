//! Bearer tokens scoped to source kinds and institutions.

use crate::config::TokenConfig;
use sha2::{Digest, Sha256};

/// What one token may write.
#[derive(Debug, Clone)]
pub struct Scope {
    pub name: String,
    digest: [u8; 32],
    kinds: Vec<String>,
    institutions: Vec<String>,
    /// set for a contact token: the contact that answers handoff tasks
    pub contact: Option<String>,
}

impl Scope {
    pub fn allows_kind(&self, kind: &str) -> bool {
        self.kinds.iter().any(|k| k == kind)
    }

    pub fn allows_institution(&self, institution: &str) -> bool {
        self.institutions
            .iter()
            .any(|i| i == "*" || i == institution)
    }
}

/// The configured tokens, compared by digest so timing says nothing about a token's bytes.
#[derive(Debug, Clone, Default)]
pub struct Tokens {
    scopes: Vec<Scope>,
}

impl Tokens {
    pub fn new(cfg: &[TokenConfig]) -> Self {
        let scopes = cfg
            .iter()
            .map(|t| Scope {
                name: t.name.clone(),
                digest: Sha256::digest(t.token.expose().as_bytes()).into(),
                kinds: t.kinds.clone(),
                institutions: t.institutions.clone(),
                contact: t.contact.clone(),
            })
            .collect();
        Self { scopes }
    }

    /// The scope of an `Authorization` header value, if it carries a known bearer token.
    pub fn authenticate(&self, header: Option<&str>) -> Option<&Scope> {
        let token = header?.strip_prefix("Bearer ")?.trim();
        let digest: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        self.scopes.iter().find(|s| s.digest == digest)
    }
}
