//! The DUO verzuim vocabulary: the kinds of a melding and the lifecycle of its status.
//!
//! A melding is `geregistreerd` when it is reported. From there the leerplichtambtenaar takes it
//! `in-behandeling`, notes it without further action (`ter-kennisgeving-aangenomen`) or closes it
//! (`afgesloten`); the school may withdraw it (`ingetrokken`) until it is closed. A melding in
//! behandeling can only be closed or withdrawn. `afgesloten`, `ingetrokken` and
//! `ter-kennisgeving-aangenomen` are final: new verzuim is a new melding with a new number.
//!
//! Ingest checks each status change against the melding as it knows it (a quick, clear refusal
//! for the source system); rules applies the same function to its own state and has the last
//! word. Repeating the current status is not a change and is always allowed.

use serde::{Deserialize, Serialize};

/// The kinds of verzuim DUO distinguishes, as EVENTS.md spells them.
pub const KINDS: &[&str] = &["16-uur", "lrv", "luxe", "18-plus", "overig"];

/// The statuses of a melding, as EVENTS.md spells them (in the order of [`Status::ALL`]).
pub const STATUSES: &[&str] = &[
    "geregistreerd",
    "in-behandeling",
    "afgesloten",
    "ingetrokken",
    "ter-kennisgeving-aangenomen",
];

/// The status of a verzuim melding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Status {
    Geregistreerd,
    InBehandeling,
    Afgesloten,
    Ingetrokken,
    TerKennisgevingAangenomen,
}

impl Status {
    pub const ALL: [Status; 5] = [
        Status::Geregistreerd,
        Status::InBehandeling,
        Status::Afgesloten,
        Status::Ingetrokken,
        Status::TerKennisgevingAangenomen,
    ];

    /// The status spelled as in EVENTS.md (`in-behandeling`), or None.
    pub fn parse(s: &str) -> Option<Self> {
        let i = STATUSES.iter().position(|x| *x == s)?;
        Some(Self::ALL[i])
    }

    pub fn as_str(self) -> &'static str {
        STATUSES[self as usize]
    }

    /// The statuses a melding in this status may move to.
    pub fn next(self) -> &'static [Status] {
        match self {
            Status::Geregistreerd => &[
                Status::InBehandeling,
                Status::Afgesloten,
                Status::Ingetrokken,
                Status::TerKennisgevingAangenomen,
            ],
            Status::InBehandeling => &[Status::Afgesloten, Status::Ingetrokken],
            Status::Afgesloten | Status::Ingetrokken | Status::TerKennisgevingAangenomen => &[],
        }
    }

    pub fn is_final(self) -> bool {
        self.next().is_empty()
    }
}

/// Why a status change is impossible, in words a source system's developer can act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Impossible(pub String);

/// Whether a melding in status `from` (None: no melding with this number was reported) may
/// change to `to`.
pub fn check(from: Option<Status>, to: Status) -> Result<(), Impossible> {
    let Some(from) = from else {
        return Err(Impossible(
            "no verzuim melding with this meldingsnummer was reported for this child; \
             post nl.schakel.leerplicht.verzuim-reported.v1 first"
                .into(),
        ));
    };
    if from == to || from.next().contains(&to) {
        return Ok(());
    }
    let message = if from.is_final() {
        format!(
            "the melding is {}, a final status; it cannot become {} (new verzuim is a new melding)",
            from.as_str(),
            to.as_str()
        )
    } else {
        let allowed: Vec<&str> = from.next().iter().map(|s| s.as_str()).collect();
        format!(
            "a melding that is {} cannot become {}; it can become {}",
            from.as_str(),
            to.as_str(),
            allowed.join(", ")
        )
    };
    Err(Impossible(message))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_round_trips_through_its_spelling() {
        for s in Status::ALL {
            assert_eq!(Status::parse(s.as_str()), Some(s));
        }
        assert_eq!(Status::parse("In behandeling"), None);
    }

    #[test]
    fn the_lifecycle_allows_exactly_the_documented_changes() {
        use Status::*;
        let allowed = [
            (Geregistreerd, InBehandeling),
            (Geregistreerd, Afgesloten),
            (Geregistreerd, Ingetrokken),
            (Geregistreerd, TerKennisgevingAangenomen),
            (InBehandeling, Afgesloten),
            (InBehandeling, Ingetrokken),
        ];
        for from in Status::ALL {
            for to in Status::ALL {
                let ok = from == to || allowed.contains(&(from, to));
                assert_eq!(check(Some(from), to).is_ok(), ok, "{from:?} → {to:?}");
            }
        }
    }

    #[test]
    fn refusals_say_why_and_what_is_possible() {
        let e = check(Some(Status::InBehandeling), Status::Geregistreerd).unwrap_err();
        assert!(
            e.0.contains("it can become afgesloten, ingetrokken"),
            "{}",
            e.0
        );
        let e = check(Some(Status::Afgesloten), Status::InBehandeling).unwrap_err();
        assert!(e.0.contains("final status"), "{}", e.0);
        let e = check(None, Status::InBehandeling).unwrap_err();
        assert!(e.0.contains("verzuim-reported"), "{}", e.0);
    }
}
