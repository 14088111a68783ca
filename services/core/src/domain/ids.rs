//! Identifiers that parse, not validate: once a value has its type, it is valid everywhere.

use std::fmt;

use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

/// Why an identifier was refused; the message is safe to show (it never echoes the input).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    #[error("must be exactly {0} digits")]
    Digits(usize),
    #[error("fails the 11-proef")]
    ElevenTest,
    #[error("an onderwijsnummer starts with 10")]
    OnderwijsnummerPrefix,
    #[error("must be 2 digits followed by 2 capital letters or digits, e.g. 12AB")]
    Brin,
    #[error("must be 2 digits, e.g. 00")]
    Vestiging,
    #[error("must be 4 digits, e.g. 0392")]
    Gemeentecode,
    #[error("must be 9 or 10 digits")]
    Lrk,
    #[error("must be 1 to 64 characters of a-z, 0-9, '-', '_' or '.'")]
    Slug,
    #[error("must be 64 hexadecimal characters")]
    ChildKey,
}

fn nine_digits(s: &str) -> Result<[u8; 9], IdError> {
    let bytes = s.as_bytes();
    if bytes.len() != 9 || !bytes.iter().all(u8::is_ascii_digit) {
        return Err(IdError::Digits(9));
    }
    let mut out = [0u8; 9];
    for (o, b) in out.iter_mut().zip(bytes) {
        *o = b - b'0';
    }
    Ok(out)
}

/// The weighted sum of the 11-proef: weights 9..2 and -1 for the last digit.
fn eleven_sum(d: &[u8; 9]) -> i64 {
    let mut sum = 0i64;
    for (i, digit) in d.iter().enumerate().take(8) {
        sum += i64::from(*digit) * (9 - i as i64);
    }
    sum - i64::from(d[8])
}

/// A burgerservicenummer. Never logged, never written to Kafka; `Debug` hides it.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Bsn(String);

impl Bsn {
    pub fn parse(s: &str) -> Result<Self, IdError> {
        let d = nine_digits(s)?;
        let sum = eleven_sum(&d);
        if sum <= 0 || sum % 11 != 0 {
            return Err(IdError::ElevenTest);
        }
        Ok(Self(s.to_owned()))
    }

    /// The digits, for the pseudonymiser and the identity vault only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Bsn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Bsn(***)")
    }
}

/// A pupil number used when no BSN is known: starts with 10, weighted sum ≡ 5 (mod 11).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Onderwijsnummer(String);

impl Onderwijsnummer {
    pub fn parse(s: &str) -> Result<Self, IdError> {
        let d = nine_digits(s)?;
        if d[0] != 1 || d[1] != 0 {
            return Err(IdError::OnderwijsnummerPrefix);
        }
        if eleven_sum(&d).rem_euclid(11) != 5 {
            return Err(IdError::ElevenTest);
        }
        Ok(Self(s.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Onderwijsnummer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Onderwijsnummer(***)")
    }
}

/// The personal id a source system sent: a BSN or, failing that, an onderwijsnummer.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ChildId {
    Bsn(Bsn),
    Onderwijsnummer(Onderwijsnummer),
}

impl ChildId {
    /// The normalised form that is pseudonymised: the kind is part of it, so a BSN and an
    /// onderwijsnummer with the same digits never collide.
    fn normalised(&self) -> String {
        match self {
            ChildId::Bsn(b) => format!("bsn:{}", b.expose()),
            ChildId::Onderwijsnummer(o) => format!("onderwijsnummer:{}", o.expose()),
        }
    }
}

/// The keyed pseudonym of a child: hex of HMAC-SHA256(secret, normalised id). The only child
/// identifier that ever reaches Kafka.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ChildKey(String);

impl ChildKey {
    pub fn parse(s: &str) -> Result<Self, IdError> {
        if s.len() == 64
            && s.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        {
            Ok(Self(s.to_owned()))
        } else {
            Err(IdError::ChildKey)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for ChildKey {
    type Error = IdError;
    fn try_from(s: String) -> Result<Self, IdError> {
        Self::parse(&s)
    }
}

impl From<ChildKey> for String {
    fn from(k: ChildKey) -> String {
        k.0
    }
}

impl fmt::Display for ChildKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Turns personal ids into `ChildKey`s with the region's secret.
#[derive(Clone)]
pub struct Pseudonymizer {
    mac: Hmac<Sha256>,
}

impl Pseudonymizer {
    pub fn new(secret: &[u8]) -> Self {
        let mac = <Hmac<Sha256> as Mac>::new_from_slice(secret).expect("hmac accepts any key");
        Self { mac }
    }

    /// A keyed hash of `parts` (hex, 32 characters): an id derived from content that holds
    /// a BSN, which nobody without the secret can trace back.
    pub fn keyed_id(&self, parts: &[&str]) -> String {
        let mut mac = self.mac.clone();
        for p in parts {
            mac.update(p.as_bytes());
            mac.update(&[0x1f]);
        }
        hex(&mac.finalize().into_bytes()[..16])
    }

    pub fn child_key(&self, id: &ChildId) -> ChildKey {
        let mut mac = self.mac.clone();
        mac.update(id.normalised().as_bytes());
        ChildKey(hex(&mac.finalize().into_bytes()))
    }
}

/// Lower-case hexadecimal of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 15) as usize] as char);
    }
    s
}

macro_rules! string_id {
    ($(#[$doc:meta])* $name:ident, $check:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            pub fn parse(s: &str) -> Result<Self, IdError> {
                let check: fn(&str) -> Result<(), IdError> = $check;
                check(s)?;
                Ok(Self(s.to_owned()))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = IdError;
            fn try_from(s: String) -> Result<Self, IdError> {
                Self::parse(&s)
            }
        }

        impl From<$name> for String {
            fn from(v: $name) -> String {
                v.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

fn all_digits(s: &str, n: usize) -> bool {
    s.len() == n && s.bytes().all(|b| b.is_ascii_digit())
}

fn check_slug(s: &str) -> Result<(), IdError> {
    let ok = !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"-_.".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(IdError::Slug)
    }
}

string_id!(
    /// A BRIN number: 2 digits and 2 capitals or digits (e.g. `12AB`).
    Brin,
    |s| {
        let b = s.as_bytes();
        let ok = b.len() == 4
            && b[..2].iter().all(u8::is_ascii_digit)
            && b[2..].iter().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit());
        if ok { Ok(()) } else { Err(IdError::Brin) }
    }
);
string_id!(
    /// A vestigingsnummer: 2 digits.
    Vestiging,
    |s| if all_digits(s, 2) { Ok(()) } else { Err(IdError::Vestiging) }
);
string_id!(
    /// A CBS municipality code: 4 digits (e.g. `0392`).
    Gemeentecode,
    |s| if all_digits(s, 4) { Ok(()) } else { Err(IdError::Gemeentecode) }
);
string_id!(
    /// A Landelijk Register Kinderopvang number.
    LrkNumber,
    |s| if all_digits(s, 9) || all_digits(s, 10) { Ok(()) } else { Err(IdError::Lrk) }
);
string_id!(
    /// A contact person's id in the directory.
    ContactId,
    check_slug
);

/// A school vestiging: BRIN plus vestigingsnummer, written `12AB00`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SchoolId {
    pub brin: Brin,
    pub vestiging: Vestiging,
}

impl fmt::Display for SchoolId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.brin, self.vestiging)
    }
}

/// An institution in the directory and in token scopes: `school:12AB`, `gemeente:0392`,
/// `lrk:123456789`, `swv:PO2701`, and the region's own office `regio:leerplein`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct InstitutionId(String);

impl InstitutionId {
    pub fn parse(s: &str) -> Result<Self, String> {
        let (kind, code) = s
            .split_once(':')
            .ok_or_else(|| "must be <kind>:<code>, e.g. gemeente:0392".to_owned())?;
        let check = match kind {
            "school" => Brin::parse(code).map(drop),
            "gemeente" => Gemeentecode::parse(code).map(drop),
            "lrk" => LrkNumber::parse(code).map(drop),
            "swv" | "regio" => {
                let ok = !code.is_empty()
                    && code.len() <= 16
                    && code.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.');
                if ok {
                    Ok(())
                } else {
                    Err(IdError::Slug)
                }
            }
            _ => return Err("kind must be school, gemeente, lrk, swv or regio".to_owned()),
        };
        check.map_err(|e| format!("{kind} code {e}"))?;
        Ok(Self(s.to_owned()))
    }

    pub fn school(brin: &Brin) -> Self {
        Self(format!("school:{brin}"))
    }

    pub fn gemeente(code: &Gemeentecode) -> Self {
        Self(format!("gemeente:{code}"))
    }

    pub fn lrk(lrk: &LrkNumber) -> Self {
        Self(format!("lrk:{lrk}"))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for InstitutionId {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        Self::parse(&s)
    }
}

impl From<InstitutionId> for String {
    fn from(v: InstitutionId) -> String {
        v.0
    }
}

impl fmt::Display for InstitutionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Builds a valid BSN from 8 leading digits, or None when no last digit makes it valid.
    fn complete_bsn(first: &[u8; 8]) -> Option<String> {
        (0..=9u8).find_map(|last| {
            let mut d = [0u8; 9];
            d[..8].copy_from_slice(first);
            d[8] = last;
            let s = eleven_sum(&d);
            (s > 0 && s % 11 == 0).then(|| d.iter().map(|x| char::from(b'0' + x)).collect())
        })
    }

    #[test]
    fn known_bsns() {
        assert!(Bsn::parse("111222333").is_ok());
        assert!(Bsn::parse("123456782").is_ok());
        assert_eq!(Bsn::parse("123456789"), Err(IdError::ElevenTest));
        assert_eq!(Bsn::parse("000000000"), Err(IdError::ElevenTest));
        assert_eq!(Bsn::parse("12345678"), Err(IdError::Digits(9)));
        assert_eq!(Bsn::parse("12345678a"), Err(IdError::Digits(9)));
        assert_eq!(
            format!("{:?}", Bsn::parse("111222333").unwrap()),
            "Bsn(***)"
        );
    }

    #[test]
    fn known_onderwijsnummers() {
        // 1,0,0,0,0,0,0,0,x: sum = 9 - x ≡ 5 → x = 4
        assert!(Onderwijsnummer::parse("100000004").is_ok());
        assert_eq!(
            Onderwijsnummer::parse("100000005"),
            Err(IdError::ElevenTest)
        );
        assert_eq!(
            Onderwijsnummer::parse("200000004"),
            Err(IdError::OnderwijsnummerPrefix)
        );
    }

    #[test]
    fn pseudonym_is_keyed_and_kind_aware() {
        let a = Pseudonymizer::new(b"secret-a");
        let b = Pseudonymizer::new(b"secret-b");
        let bsn = ChildId::Bsn(Bsn::parse("111222333").unwrap());
        assert_eq!(a.child_key(&bsn), a.child_key(&bsn));
        assert_ne!(a.child_key(&bsn), b.child_key(&bsn));
        assert!(!a.child_key(&bsn).as_str().contains("111222333"));
        assert!(ChildKey::parse(a.child_key(&bsn).as_str()).is_ok());
    }

    #[test]
    fn institutions() {
        assert!(InstitutionId::parse("school:12AB").is_ok());
        assert!(InstitutionId::parse("gemeente:0392").is_ok());
        assert!(InstitutionId::parse("gemeente:392").is_err());
        assert!(InstitutionId::parse("lrk:123456789").is_ok());
        assert!(InstitutionId::parse("bank:1").is_err());
        assert!(Brin::parse("12ab").is_err());
        assert!(Brin::parse("12AB").is_ok());
    }

    proptest! {
        #[test]
        fn every_generated_bsn_parses(first in proptest::array::uniform8(0u8..10)) {
            if let Some(s) = complete_bsn(&first) {
                prop_assert!(Bsn::parse(&s).is_ok());
            }
        }

        #[test]
        fn a_single_digit_change_breaks_a_bsn(
            first in proptest::array::uniform8(0u8..10),
            pos in 0usize..9,
            delta in 1u8..10,
        ) {
            if let Some(s) = complete_bsn(&first) {
                let mut b = s.into_bytes();
                b[pos] = b'0' + (b[pos] - b'0' + delta) % 10;
                let changed = String::from_utf8(b).unwrap();
                prop_assert!(Bsn::parse(&changed).is_err());
            }
        }

        #[test]
        fn parsers_never_panic(s in "\\PC{0,12}") {
            let _ = Bsn::parse(&s);
            let _ = Onderwijsnummer::parse(&s);
            let _ = Brin::parse(&s);
            let _ = Gemeentecode::parse(&s);
            let _ = InstitutionId::parse(&s);
            let _ = ChildKey::parse(&s);
        }

        #[test]
        fn bsn_and_onderwijsnummer_are_disjoint(s in "[0-9]{9}") {
            prop_assert!(!(Bsn::parse(&s).is_ok() && Onderwijsnummer::parse(&s).is_ok()));
        }

        #[test]
        fn brin_roundtrip(d in "[0-9]{2}", c in "[A-Z0-9]{2}") {
            let s = format!("{d}{c}");
            let b = Brin::parse(&s).unwrap();
            prop_assert_eq!(b.as_str(), s.as_str());
        }
    }
}
