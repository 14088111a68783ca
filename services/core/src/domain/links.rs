//! Action links: the acknowledge, complete and cancel links in a notification carry a token
//! that binds them to one signal, one contact and one action until a moment, signed with the
//! region's link secret (HMAC-SHA256). Notify signs them; the monitor checks them. A token says
//! nothing of the child.
//!
//! Form: `v1.<payload>.<signature>`, both base64url without padding; the payload is
//! `signal|contact|action|expires` (Unix seconds).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use jiff::Timestamp;
use sha2::Sha256;

/// What a link does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    Acknowledge,
    Complete,
    Cancel,
}

impl Action {
    /// The word in the link's path (`/v1/signals/{id}/acknowledge`).
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Acknowledge => "acknowledge",
            Action::Complete => "complete",
            Action::Cancel => "cancel",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "acknowledge" => Some(Action::Acknowledge),
            "complete" => Some(Action::Complete),
            "cancel" => Some(Action::Cancel),
            _ => None,
        }
    }
}

/// What a valid token grants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    pub signal_id: String,
    pub contact: String,
    pub action: Action,
    pub expires: Timestamp,
}

/// Why a token is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum LinkError {
    #[error("the link is not one Schakel made")]
    Forged,
    #[error("the link has expired")]
    Expired,
    #[error("the link is for another signal or action")]
    Mismatch,
}

/// Signs and checks action links with the region's secret.
#[derive(Clone)]
pub struct Links {
    mac: Hmac<Sha256>,
}

impl std::fmt::Debug for Links {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Links(..)")
    }
}

impl Links {
    pub fn new(secret: &[u8]) -> Self {
        Self {
            mac: <Hmac<Sha256> as Mac>::new_from_slice(secret).expect("hmac accepts any key"),
        }
    }

    fn sign(&self, payload: &str) -> Vec<u8> {
        let mut m = self.mac.clone();
        m.update(b"schakel-link-v1|");
        m.update(payload.as_bytes());
        m.finalize().into_bytes().to_vec()
    }

    /// The token of a grant.
    pub fn token(&self, g: &Grant) -> String {
        let payload = format!(
            "{}|{}|{}|{}",
            g.signal_id,
            g.contact,
            g.action.as_str(),
            g.expires.as_second()
        );
        format!(
            "v1.{}.{}",
            URL_SAFE_NO_PAD.encode(payload.as_bytes()),
            URL_SAFE_NO_PAD.encode(self.sign(&payload))
        )
    }

    /// Checks a token taken from the link of `signal_id`/`action` at `now`.
    pub fn check(
        &self,
        token: &str,
        signal_id: &str,
        action: Action,
        now: Timestamp,
    ) -> Result<Grant, LinkError> {
        let g = self.open(token)?;
        if g.signal_id != signal_id || g.action != action {
            return Err(LinkError::Mismatch);
        }
        if now >= g.expires {
            return Err(LinkError::Expired);
        }
        Ok(g)
    }

    /// The grant of a token whose signature holds, whatever its time and path.
    fn open(&self, token: &str) -> Result<Grant, LinkError> {
        let mut parts = token.split('.');
        let (Some("v1"), Some(p), Some(s), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(LinkError::Forged);
        };
        let payload = URL_SAFE_NO_PAD.decode(p).map_err(|_| LinkError::Forged)?;
        let sig = URL_SAFE_NO_PAD.decode(s).map_err(|_| LinkError::Forged)?;
        let mut m = self.mac.clone();
        m.update(b"schakel-link-v1|");
        m.update(&payload);
        m.verify_slice(&sig).map_err(|_| LinkError::Forged)?;
        let payload = String::from_utf8(payload).map_err(|_| LinkError::Forged)?;
        let f: Vec<&str> = payload.split('|').collect();
        let [signal_id, contact, action, expires] = f[..] else {
            return Err(LinkError::Forged);
        };
        Ok(Grant {
            signal_id: signal_id.to_owned(),
            contact: contact.to_owned(),
            action: Action::parse(action).ok_or(LinkError::Forged)?,
            expires: expires
                .parse::<i64>()
                .ok()
                .and_then(|s| Timestamp::from_second(s).ok())
                .ok_or(LinkError::Forged)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grant() -> Grant {
        Grant {
            signal_id: "s1".into(),
            contact: "jeugdteam-haarlem".into(),
            action: Action::Acknowledge,
            expires: Timestamp::from_second(2_000_000_000).unwrap(),
        }
    }

    #[test]
    fn a_token_opens_for_its_signal_and_action_until_it_expires() {
        let l = Links::new(b"secret");
        let t = l.token(&grant());
        let now = Timestamp::from_second(1_900_000_000).unwrap();
        assert_eq!(l.check(&t, "s1", Action::Acknowledge, now), Ok(grant()));
        assert_eq!(
            l.check(&t, "s2", Action::Acknowledge, now),
            Err(LinkError::Mismatch)
        );
        assert_eq!(
            l.check(&t, "s1", Action::Complete, now),
            Err(LinkError::Mismatch)
        );
        let later = Timestamp::from_second(2_000_000_000).unwrap();
        assert_eq!(
            l.check(&t, "s1", Action::Acknowledge, later),
            Err(LinkError::Expired)
        );
    }

    #[test]
    fn another_secret_or_a_changed_byte_is_forged() {
        let t = Links::new(b"secret").token(&grant());
        let now = Timestamp::from_second(1_900_000_000).unwrap();
        assert_eq!(
            Links::new(b"other").check(&t, "s1", Action::Acknowledge, now),
            Err(LinkError::Forged)
        );
        // a payload for another contact with the old signature
        let forged_payload = URL_SAFE_NO_PAD.encode("s1|someone-else|acknowledge|2000000000");
        let sig = t.rsplit('.').next().unwrap();
        let forged = format!("v1.{forged_payload}.{sig}");
        let l = Links::new(b"secret");
        assert_eq!(
            l.check(&forged, "s1", Action::Acknowledge, now),
            Err(LinkError::Forged)
        );
        for bad in ["", "v1", "v1..", "v2.a.b", &format!("{t}.x")] {
            assert_eq!(
                l.check(bad, "s1", Action::Acknowledge, now),
                Err(LinkError::Forged),
                "{bad}"
            );
        }
    }
}
