//! W3C trace context for records and requests: `traceparent` and `tracestate`.
//!
//! A record's `traceparent` names the span that wrote it. Its span id follows from its trace
//! id and its CloudEvents id ([`TraceParent::record_child`]), so a record written again (a
//! replay, a restart) carries the same header as the first time.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Random lower-case hex of `bytes` random bytes.
pub fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).expect("the OS has randomness");
    crate::domain::ids::hex(&buf)
}

fn random<const N: usize>() -> [u8; N] {
    let mut buf = [0u8; N];
    loop {
        getrandom::fill(&mut buf).expect("the OS has randomness");
        if id_ok(&buf) {
            return buf;
        }
    }
}

/// Whether an id may go into a header: not all zeros, and its hex has no run of nine decimal
/// digits (a run that happened to be a valid BSN would look like one to any scan of the log).
pub fn id_ok(id: &[u8]) -> bool {
    let mut run = 0;
    for nibble in id.iter().flat_map(|b| [b >> 4, b & 0x0f]) {
        run = if nibble < 10 { run + 1 } else { 0 };
        if run >= 9 {
            return false;
        }
    }
    id.iter().any(|b| *b != 0)
}

/// The first `N` bytes of SHA-256 over `parts` and a counter that is usable as an id.
fn hashed<const N: usize>(parts: &[&[u8]]) -> [u8; N] {
    use sha2::Digest;
    let mut out = [0u8; N];
    for counter in 0u32.. {
        let mut h = sha2::Sha256::new();
        for p in parts {
            h.update(p);
        }
        if counter > 0 {
            h.update(counter.to_be_bytes());
        }
        out.copy_from_slice(&h.finalize()[..N]);
        if id_ok(&out) {
            break;
        }
    }
    out
}

/// One span: its trace id and span id, 24 bytes (what a child's state keeps of the fact that
/// last changed it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SpanRef {
    pub trace: [u8; 16],
    pub span: [u8; 8],
}

impl SpanRef {
    /// The span id, derived from the trace id and `seed`, of a child in the same trace.
    fn derived_child(&self, seed: &str) -> Self {
        Self {
            trace: self.trace,
            span: hashed(&[&self.trace, seed.as_bytes()]),
        }
    }
}

/// A `traceparent` value (version 00, trace id, span id, sampled) and the caller's
/// `tracestate`, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceParent {
    ids: SpanRef,
    state: Option<String>,
}

impl From<SpanRef> for TraceParent {
    fn from(ids: SpanRef) -> Self {
        Self { ids, state: None }
    }
}

impl TraceParent {
    /// The trace of a request that carried `traceparent` (a child span of it), or a new one.
    pub fn continue_from(header: Option<&str>) -> Self {
        header
            .and_then(|h| Self::parse(h, None))
            .map(|t| t.child())
            .unwrap_or_else(Self::new_root)
    }

    /// A new trace.
    pub fn new_root() -> Self {
        SpanRef {
            trace: random(),
            span: random(),
        }
        .into()
    }

    /// A trace whose ids follow from `seed`: a record written again (a replay, a restart)
    /// carries the same `traceparent` as the first time.
    pub fn derived(seed: &str) -> Self {
        SpanRef {
            trace: hashed(&[b"trace", seed.as_bytes()]),
            span: hashed(&[b"span", seed.as_bytes()]),
        }
        .into()
    }

    /// Parses an incoming `traceparent` (and `tracestate`), or None when it is malformed.
    pub fn parse(traceparent: &str, tracestate: Option<&str>) -> Option<Self> {
        let s = traceparent.trim();
        let parts: Vec<&str> = s.split('-').collect();
        if parts.len() < 4 || parts[0].len() != 2 || parts[0] == "ff" || parts[3].len() != 2 {
            return None;
        }
        // version 00 has exactly four parts; a later version may add some
        if parts[0] == "00" && parts.len() != 4 {
            return None;
        }
        let _version = u8::from_str_radix(parts[0], 16).ok()?;
        let _flags = u8::from_str_radix(parts[3], 16).ok()?;
        let trace: [u8; 16] = unhex(parts[1])?;
        let span: [u8; 8] = unhex(parts[2])?;
        if trace == [0; 16] || span == [0; 8] {
            return None;
        }
        Some(Self {
            ids: SpanRef { trace, span },
            state: tracestate.and_then(clean_tracestate),
        })
    }

    /// A child span in the same trace, with a random span id.
    pub fn child(&self) -> Self {
        Self {
            ids: SpanRef {
                trace: self.ids.trace,
                span: random(),
            },
            state: self.state.clone(),
        }
    }

    /// The span of a record written under this one: same trace, its span id derived from
    /// the trace id and the record's CloudEvents id.
    pub fn record_child(&self, ce_id: &str) -> Self {
        Self {
            ids: self.ids.derived_child(ce_id),
            state: self.state.clone(),
        }
    }

    /// A span with these ids and this one's `tracestate`.
    pub fn with_ids(&self, ids: SpanRef) -> Self {
        Self {
            ids,
            state: self.state.clone(),
        }
    }

    pub fn ids(&self) -> SpanRef {
        self.ids
    }

    /// The trace id, 32 lower-case hex digits.
    pub fn trace_id(&self) -> String {
        crate::domain::ids::hex(&self.ids.trace)
    }

    /// The span id, 16 lower-case hex digits.
    pub fn span_id(&self) -> String {
        crate::domain::ids::hex(&self.ids.span)
    }

    /// The `tracestate` to pass on, if the caller sent one.
    pub fn tracestate(&self) -> Option<&str> {
        self.state.as_deref()
    }
}

impl fmt::Display for TraceParent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "00-{}-{}-01", self.trace_id(), self.span_id())
    }
}

fn unhex<const N: usize>(s: &str) -> Option<[u8; N]> {
    if s.len() != 2 * N || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let mut out = [0u8; N];
    for (i, o) in out.iter_mut().enumerate() {
        *o = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(out)
}

/// A `tracestate` as W3C trace context allows it (at most 32 `key=value` members, 512
/// characters), without the members whose value holds nine digits or more in a row: a
/// caller's vendor data is passed on, but nothing that could be a BSN goes into a header.
fn clean_tracestate(s: &str) -> Option<String> {
    if s.len() > 512 {
        return None;
    }
    let key_ok = |k: &str| {
        !k.is_empty()
            && k.len() <= 256
            && k.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"_-*/@".contains(&b))
    };
    let value_ok = |v: &str| {
        !v.is_empty()
            && v.len() <= 256
            && v.bytes()
                .all(|b| (0x20..=0x7e).contains(&b) && b != b',' && b != b'=')
            && !v.ends_with(' ')
    };
    let mut kept = Vec::new();
    for member in s.split(',').map(str::trim).filter(|m| !m.is_empty()) {
        let (k, v) = member.split_once('=')?;
        if !key_ok(k) || !value_ok(v) {
            return None;
        }
        if !has_nine_digits(v) {
            kept.push(member);
        }
    }
    if kept.is_empty() || kept.len() > 32 {
        return None;
    }
    Some(kept.join(","))
}

fn has_nine_digits(v: &str) -> bool {
    let mut run = 0;
    for b in v.bytes() {
        run = if b.is_ascii_digit() { run + 1 } else { 0 };
        if run >= 9 {
            return true;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traceparent_roundtrip() {
        let t = TraceParent::new_root();
        let s = t.to_string();
        assert_eq!(TraceParent::parse(&s, None), Some(t.clone()));
        assert_eq!(t.child().trace_id(), t.trace_id());
        assert_ne!(t.child().span_id(), t.span_id());
        assert!(TraceParent::parse("00-0000-11-01", None).is_none());
        assert!(TraceParent::parse(
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            None
        )
        .is_none());
        assert!(TraceParent::parse(
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            None
        )
        .is_none());
    }

    #[test]
    fn a_record_written_again_has_the_same_span() {
        let parent = TraceParent::parse(
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            None,
        )
        .unwrap();
        let a = parent.record_child("signal-1");
        assert_eq!(a, parent.record_child("signal-1"));
        assert_eq!(a.trace_id(), parent.trace_id());
        assert_ne!(a.span_id(), parent.span_id());
        assert_ne!(a, parent.record_child("signal-2"));
    }

    #[test]
    fn no_id_we_make_holds_nine_digits_in_a_row() {
        assert!(!id_ok(&[0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0]));
        assert!(!id_ok(&[0x98, 0x8b, 0xcd, 0xe9, 0x60, 0x55, 0x46, 0x71]));
        assert!(id_ok(&[0x98, 0x8b, 0xcd, 0xe9, 0x60, 0x5a, 0x46, 0x71]));
        assert!(!id_ok(&[0; 8]));
        let parent = TraceParent::new_root();
        for i in 0..20_000 {
            let t = parent.record_child(&format!("e{i}"));
            let s = t.to_string();
            let mut run = 0;
            for c in s.chars() {
                run = if c.is_ascii_digit() { run + 1 } else { 0 };
                assert!(run < 9, "{s}");
            }
            assert!(id_ok(&TraceParent::new_root().ids().trace));
        }
    }

    #[test]
    fn tracestate_passes_on_but_never_a_number_that_could_be_a_bsn() {
        let tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        let t = TraceParent::parse(tp, Some("congo=t61rcWkgMzE, rojo=00f067aa0ba902b7")).unwrap();
        assert_eq!(
            t.tracestate(),
            Some("congo=t61rcWkgMzE,rojo=00f067aa0ba902b7")
        );
        let t = TraceParent::parse(tp, Some("lab=bsn123456782,ok=1")).unwrap();
        assert_eq!(t.tracestate(), Some("ok=1"));
        let t = TraceParent::parse(tp, Some("Bad Key=1")).unwrap();
        assert_eq!(t.tracestate(), None, "a malformed tracestate is dropped");
        assert_eq!(t.child().tracestate(), None);
    }
}
