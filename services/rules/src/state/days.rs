//! Day arithmetic of the rules, and the hash kept in snapshots and signal ids.

use jiff::civil::Date;

/// `d` plus `n` days.
pub fn plus_days(d: Date, n: i32) -> Date {
    match jiff::Span::new().try_days(i64::from(n)) {
        Ok(span) => d.saturating_add(span),
        Err(_) if n > 0 => Date::MAX,
        Err(_) => Date::MIN,
    }
}

/// `d` plus `n` school days (Monday to Friday; holidays are not known to the engine).
pub fn plus_school_days(d: Date, n: i32) -> Date {
    let mut out = d;
    let mut left = n;
    while left > 0 {
        out = plus_days(out, 1);
        if out.weekday().to_monday_one_offset() <= 5 {
            left -= 1;
        }
    }
    out
}

/// FNV-1a over parts separated by a zero byte: a hash that never changes between versions,
/// so it may be kept in snapshots and signal ids.
pub fn fnv64(parts: &[&[u8]]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for (i, p) in parts.iter().enumerate() {
        if i > 0 {
            h ^= 0;
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        for b in *p {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    h
}
