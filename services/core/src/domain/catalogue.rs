//! The event catalogue: every topic of the log, every CloudEvents type that travels on it, the
//! topic each type lives on and, for the types source systems post, their source kind. This
//! is the one place the vocabulary of EVENTS.md is spelt out; everything else names a type
//! or a topic through these values.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A topic of the log by its logical name (a region's `topic_prefix` comes in front of it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Topic(&'static str);

impl Topic {
    pub const SCHOOL: Topic = Topic("source.school.v1");
    pub const VOORSCHOOL: Topic = Topic("source.voorschool.v1");
    pub const LEERPLICHT: Topic = Topic("source.leerplicht.v1");
    pub const JEUGDHULP: Topic = Topic("source.jeugdhulp.v1");
    pub const RESPONSES: Topic = Topic("hub.responses.v1");
    pub const CLOCK: Topic = Topic("hub.clock.v1");
    pub const SIGNALS: Topic = Topic("hub.signals.v1");
    pub const DIRECTORY: Topic = Topic("hub.directory.v1");
    pub const DELIVERIES: Topic = Topic("hub.deliveries.v1");
    pub const DEADLETTER: Topic = Topic("hub.deadletter.v1");
    pub const IDENTITIES: Topic = Topic("hub.identities.v1");
    pub const AUDIT: Topic = Topic("hub.audit.v1");
    pub const IMPORTS: Topic = Topic("hub.imports.v1");
    /// rules' state snapshots: raw chunks, no schema, no CloudEvents
    pub const SNAPSHOTS: Topic = Topic("hub.snapshots.v1");

    /// Every topic, in the order of `schemas/topics.toml`.
    pub const ALL: [Topic; 14] = [
        Topic::SCHOOL,
        Topic::VOORSCHOOL,
        Topic::LEERPLICHT,
        Topic::JEUGDHULP,
        Topic::RESPONSES,
        Topic::CLOCK,
        Topic::SIGNALS,
        Topic::DIRECTORY,
        Topic::DELIVERIES,
        Topic::DEADLETTER,
        Topic::IDENTITIES,
        Topic::AUDIT,
        Topic::IMPORTS,
        Topic::SNAPSHOTS,
    ];

    /// The logical name, e.g. `hub.signals.v1`.
    pub const fn name(self) -> &'static str {
        self.0
    }

    /// The topic of a logical name, if Schakel has one by that name.
    pub fn parse(name: &str) -> Option<Topic> {
        Topic::ALL.into_iter().find(|t| t.0 == name)
    }
}

impl std::fmt::Display for Topic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.0)
    }
}

/// The kind of source system that publishes a type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SourceKind {
    /// a LAS (student administration)
    School,
    Voorschool,
    Leerplicht,
    /// a jeugdhulp toegang (iJw)
    Jeugdhulp,
}

impl SourceKind {
    pub const ALL: [SourceKind; 4] = [
        SourceKind::School,
        SourceKind::Voorschool,
        SourceKind::Leerplicht,
        SourceKind::Jeugdhulp,
    ];

    /// The word in type names, token scopes and import kinds: `school`, `voorschool`, …
    pub const fn name(self) -> &'static str {
        match self {
            SourceKind::School => "school",
            SourceKind::Voorschool => "voorschool",
            SourceKind::Leerplicht => "leerplicht",
            SourceKind::Jeugdhulp => "jeugdhulp",
        }
    }

    pub fn parse(name: &str) -> Option<SourceKind> {
        SourceKind::ALL.into_iter().find(|k| k.name() == name)
    }

    /// The topic every type of this kind is written to.
    pub const fn topic(self) -> Topic {
        match self {
            SourceKind::School => Topic::SCHOOL,
            SourceKind::Voorschool => Topic::VOORSCHOOL,
            SourceKind::Leerplicht => Topic::LEERPLICHT,
            SourceKind::Jeugdhulp => Topic::JEUGDHULP,
        }
    }
}

impl std::fmt::Display for SourceKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.name())
    }
}

macro_rules! catalogue {
    ($( $(#[$doc:meta])* $variant:ident = $name:literal on $topic:ident $(from $source:ident)?; )*) => {
        /// A CloudEvents type of EVENTS.md. On the wire it is its name; a name not in the
        /// catalogue does not decode.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum EventType {
            $( $(#[$doc])* $variant, )*
        }

        impl EventType {
            /// Every type, source types first, in the order of EVENTS.md.
            pub const ALL: &'static [EventType] = &[ $( EventType::$variant, )* ];

            /// The CloudEvents `type`, e.g. `nl.schakel.school.enrolment-registered.v1`.
            pub const fn name(self) -> &'static str {
                match self { $( EventType::$variant => $name, )* }
            }

            /// The topic records of this type are written to.
            pub const fn topic(self) -> Topic {
                match self { $( EventType::$variant => Topic::$topic, )* }
            }

            /// The source kind that may post this type; None for the hub's own types.
            pub const fn source(self) -> Option<SourceKind> {
                match self { $( EventType::$variant => catalogue!(@source $($source)?), )* }
            }

            /// The type of a CloudEvents `type`, if the catalogue has it.
            pub fn parse(name: &str) -> Option<EventType> {
                match name { $( $name => Some(EventType::$variant), )* _ => None }
            }
        }
    };
    (@source) => { None };
    (@source $source:ident) => { Some(SourceKind::$source) };
}

catalogue! {
    EnrolmentRegistered = "nl.schakel.school.enrolment-registered.v1" on SCHOOL from School;
    EnrolmentEnded = "nl.schakel.school.enrolment-ended.v1" on SCHOOL from School;
    ApplicationRegistered = "nl.schakel.school.application-registered.v1" on SCHOOL from School;
    AdmissionDecided = "nl.schakel.school.admission-decided.v1" on SCHOOL from School;
    AdviceGiven = "nl.schakel.school.advice-given.v1" on SCHOOL from School;
    SupportStarted = "nl.schakel.school.support-started.v1" on SCHOOL from School;
    SupportEnded = "nl.schakel.school.support-ended.v1" on SCHOOL from School;
    PlacementStarted = "nl.schakel.voorschool.placement-started.v1" on VOORSCHOOL from Voorschool;
    PlacementEnded = "nl.schakel.voorschool.placement-ended.v1" on VOORSCHOOL from Voorschool;
    VerzuimReported = "nl.schakel.leerplicht.verzuim-reported.v1" on LEERPLICHT from Leerplicht;
    VerzuimStatusChanged = "nl.schakel.leerplicht.verzuim-status-changed.v1" on LEERPLICHT from Leerplicht;
    VrijstellingGranted = "nl.schakel.leerplicht.vrijstelling-granted.v1" on LEERPLICHT from Leerplicht;
    VrijstellingEnded = "nl.schakel.leerplicht.vrijstelling-ended.v1" on LEERPLICHT from Leerplicht;
    ThuiszitterRegistered = "nl.schakel.leerplicht.thuiszitter-registered.v1" on LEERPLICHT from Leerplicht;
    ThuiszitterResolved = "nl.schakel.leerplicht.thuiszitter-resolved.v1" on LEERPLICHT from Leerplicht;
    AssignmentIssued = "nl.schakel.jeugdhulp.assignment-issued.v1" on JEUGDHULP from Jeugdhulp;
    AssignmentWithdrawn = "nl.schakel.jeugdhulp.assignment-withdrawn.v1" on JEUGDHULP from Jeugdhulp;
    CareStarted = "nl.schakel.jeugdhulp.care-started.v1" on JEUGDHULP from Jeugdhulp;
    CareStopped = "nl.schakel.jeugdhulp.care-stopped.v1" on JEUGDHULP from Jeugdhulp;
    CareWithdrawn = "nl.schakel.jeugdhulp.care-withdrawn.v1" on JEUGDHULP from Jeugdhulp;
    AssignmentRequested = "nl.schakel.jeugdhulp.assignment-requested.v1" on JEUGDHULP from Jeugdhulp;

    ClockTicked = "nl.schakel.hub.clock-ticked.v1" on CLOCK;
    HandoffAcknowledged = "nl.schakel.hub.handoff-acknowledged.v1" on RESPONSES;
    HandoffCompleted = "nl.schakel.hub.handoff-completed.v1" on RESPONSES;
    HandoffCancelled = "nl.schakel.hub.handoff-cancelled.v1" on RESPONSES;

    SignalOpened = "nl.schakel.signal.opened.v1" on SIGNALS;
    SignalReminded = "nl.schakel.signal.reminded.v1" on SIGNALS;
    SignalOverdue = "nl.schakel.signal.overdue.v1" on SIGNALS;
    SignalEscalated = "nl.schakel.signal.escalated.v1" on SIGNALS;
    SignalResolved = "nl.schakel.signal.resolved.v1" on SIGNALS;
    SignalAcknowledged = "nl.schakel.signal.acknowledged.v1" on SIGNALS;
    SignalCompleted = "nl.schakel.signal.completed.v1" on SIGNALS;
    SignalCancelled = "nl.schakel.signal.cancelled.v1" on SIGNALS;

    DeliveryQueued = "nl.schakel.delivery.queued.v1" on DELIVERIES;
    DeliveryInFlight = "nl.schakel.delivery.in-flight.v1" on DELIVERIES;
    DeliverySucceeded = "nl.schakel.delivery.succeeded.v1" on DELIVERIES;
    DeliveryFailed = "nl.schakel.delivery.failed.v1" on DELIVERIES;
    DeliveryDeadLettered = "nl.schakel.delivery.dead-lettered.v1" on DELIVERIES;
    DeliveryRetryRequested = "nl.schakel.delivery.retry-requested.v1" on DELIVERIES;
    DeliveryDigestScheduled = "nl.schakel.delivery.digest-scheduled.v1" on DELIVERIES;
    DeliveryUnroutable = "nl.schakel.delivery.unroutable.v1" on DELIVERIES;
    DeliveryRerouted = "nl.schakel.delivery.rerouted.v1" on DELIVERIES;
    EndpointDisabled = "nl.schakel.delivery.endpoint-disabled.v1" on DELIVERIES;
    EndpointEnabled = "nl.schakel.delivery.endpoint-enabled.v1" on DELIVERIES;

    DirectoryEntry = "nl.schakel.hub.directory-entry.v1" on DIRECTORY;
    /// a record rules could not process, set aside
    DeadLettered = "nl.schakel.hub.dead-lettered.v1" on DEADLETTER;
    IdentityRecorded = "nl.schakel.hub.identity-recorded.v1" on IDENTITIES;
    ImportProgressed = "nl.schakel.hub.import-progressed.v1" on IMPORTS;
    IdentityRevealed = "nl.schakel.audit.identity-revealed.v1" on AUDIT;
    IdentityErased = "nl.schakel.audit.identity-erased.v1" on AUDIT;
    IdentityExpired = "nl.schakel.audit.identity-expired.v1" on AUDIT;
    /// a contact person saw a child's identity and facts on a signal page
    ChildViewed = "nl.schakel.audit.child-viewed.v1" on AUDIT;
}

impl EventType {
    /// The types source systems may post (`POST /v1/events`, CSV, iJw).
    pub fn sourced() -> impl Iterator<Item = EventType> {
        EventType::ALL
            .iter()
            .copied()
            .filter(|t| t.source().is_some())
    }

    /// The name without `nl.schakel.` and `.v1`, e.g. `school.enrolment-registered`.
    pub fn short(self) -> &'static str {
        let n = self.name();
        &n["nl.schakel.".len()..n.len() - ".v1".len()]
    }

    /// The source type of a short name (`school.enrolment-registered`).
    pub fn sourced_by_short(short: &str) -> Option<EventType> {
        EventType::sourced().find(|t| t.short() == short)
    }
}

impl std::fmt::Display for EventType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.name())
    }
}

impl PartialEq<&str> for EventType {
    fn eq(&self, other: &&str) -> bool {
        self.name() == *other
    }
}

impl Serialize for EventType {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

impl<'de> Deserialize<'de> for EventType {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = std::borrow::Cow::<'de, str>::deserialize(d)?;
        EventType::parse(&s)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown event type {s:?}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_is_unique_parses_back_and_has_the_house_form() {
        let mut seen = std::collections::HashSet::new();
        for t in EventType::ALL {
            assert!(seen.insert(t.name()), "{t} twice");
            assert_eq!(EventType::parse(t.name()), Some(*t));
            assert!(t.name().starts_with("nl.schakel.") && t.name().ends_with(".v1"));
            let json = serde_json::to_string(t).unwrap();
            assert_eq!(serde_json::from_str::<EventType>(&json).unwrap(), *t);
        }
        assert!(serde_json::from_str::<EventType>("\"nl.schakel.school.guessed.v1\"").is_err());
    }

    #[test]
    fn a_source_type_is_named_after_its_kind_and_lives_on_its_topic() {
        assert_eq!(EventType::sourced().count(), 21);
        for t in EventType::sourced() {
            let kind = t.source().unwrap();
            assert_eq!(t.short().split('.').next(), Some(kind.name()), "{t}");
            assert_eq!(t.topic(), kind.topic(), "{t}");
            assert_eq!(EventType::sourced_by_short(t.short()), Some(t));
        }
        for t in EventType::ALL.iter().filter(|t| t.source().is_none()) {
            assert!(!t.topic().name().starts_with("source."), "{t}");
        }
    }

    #[test]
    fn topics_parse_back() {
        for t in Topic::ALL {
            assert_eq!(Topic::parse(t.name()), Some(t));
        }
        assert_eq!(Topic::parse("hub.guessed.v1"), None);
    }
}
