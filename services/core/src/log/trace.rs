//! W3C trace context for records and requests.

use std::fmt;

/// Random lower-case hex of `bytes` random bytes.
pub fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).expect("the OS has randomness");
    crate::domain::ids::hex(&buf)
}

/// A `traceparent` value: version 00, trace id, parent span id, flags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceParent {
    trace_id: String,
    span_id: String,
}

impl TraceParent {
    /// A new trace.
    /// The trace of a request that carried `traceparent` (a child span of it), or a new one.
    pub fn continue_from(header: Option<&str>) -> Self {
        header
            .and_then(Self::parse)
            .map(|t| t.child())
            .unwrap_or_else(Self::new_root)
    }

    pub fn new_root() -> Self {
        Self {
            trace_id: random_hex(16),
            span_id: random_hex(8),
        }
    }

    /// A trace whose ids follow from `seed`: a record written again (a replay, a restart)
    /// carries the same `traceparent` as the first time.
    pub fn derived(seed: &str) -> Self {
        use sha2::Digest;
        let h = sha2::Sha256::digest(seed.as_bytes());
        let hex = crate::domain::ids::hex(&h);
        Self {
            trace_id: hex[..32].to_owned(),
            span_id: hex[32..48].to_owned(),
        }
    }

    /// Parses an incoming `traceparent`, or None when it is malformed.
    pub fn parse(s: &str) -> Option<Self> {
        let parts: Vec<&str> = s.trim().split('-').collect();
        let hex = |p: &str, n: usize| p.len() == n && p.bytes().all(|b| b.is_ascii_hexdigit());
        if parts.len() == 4
            && hex(parts[0], 2)
            && hex(parts[1], 32)
            && hex(parts[2], 16)
            && hex(parts[3], 2)
        {
            if parts[1].bytes().all(|b| b == b'0') {
                return None;
            }
            return Some(Self {
                trace_id: parts[1].to_ascii_lowercase(),
                span_id: parts[2].to_ascii_lowercase(),
            });
        }
        None
    }

    /// A child span in the same trace.
    pub fn child(&self) -> Self {
        Self {
            trace_id: self.trace_id.clone(),
            span_id: random_hex(8),
        }
    }

    pub fn trace_id(&self) -> &str {
        &self.trace_id
    }
}

impl fmt::Display for TraceParent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "00-{}-{}-01", self.trace_id, self.span_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traceparent_roundtrip() {
        let t = TraceParent::new_root();
        let s = t.to_string();
        assert_eq!(TraceParent::parse(&s), Some(t.clone()));
        assert_eq!(t.child().trace_id(), t.trace_id());
        assert!(TraceParent::parse("00-0000-11-01").is_none());
    }
}
