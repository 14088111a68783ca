//! The Avro schemas of every topic, compiled into the binary.

use crate::domain::catalogue::Topic;
use crate::log::codec::Registry;

/// (topic, schema text) for every topic's current value schema.
pub const CURRENT: &[(Topic, &str)] = &[
    (
        Topic::SCHOOL,
        include_str!("../../../../schemas/source.school.v1.avsc"),
    ),
    (
        Topic::VOORSCHOOL,
        include_str!("../../../../schemas/source.voorschool.v1.avsc"),
    ),
    (
        Topic::LEERPLICHT,
        include_str!("../../../../schemas/source.leerplicht.v1.avsc"),
    ),
    (
        Topic::JEUGDHULP,
        include_str!("../../../../schemas/source.jeugdhulp.v1.avsc"),
    ),
    (
        Topic::RESPONSES,
        include_str!("../../../../schemas/hub.responses.v1.avsc"),
    ),
    (
        Topic::CLOCK,
        include_str!("../../../../schemas/hub.clock.v1.avsc"),
    ),
    (
        Topic::SIGNALS,
        include_str!("../../../../schemas/hub.signals.v1.avsc"),
    ),
    (
        Topic::DIRECTORY,
        include_str!("../../../../schemas/hub.directory.v1.avsc"),
    ),
    (
        Topic::DELIVERIES,
        include_str!("../../../../schemas/hub.deliveries.v1.avsc"),
    ),
    (
        Topic::DEADLETTER,
        include_str!("../../../../schemas/hub.deadletter.v1.avsc"),
    ),
    (
        Topic::IDENTITIES,
        include_str!("../../../../schemas/hub.identities.v1.avsc"),
    ),
    (
        Topic::AUDIT,
        include_str!("../../../../schemas/hub.audit.v1.avsc"),
    ),
    (
        Topic::IMPORTS,
        include_str!("../../../../schemas/hub.imports.v1.avsc"),
    ),
];

/// Older schema versions that may still be in the log. Add a file here whenever a topic's
/// schema changes; the compatibility test reads each one with the current schema.
pub const HISTORY: &[(Topic, &str)] = &[
    (
        Topic::SCHOOL,
        include_str!("../../../../schemas/history/source.school.v1-1.avsc"),
    ),
    (
        Topic::SIGNALS,
        include_str!("../../../../schemas/history/hub.signals.v1-1.avsc"),
    ),
    (
        Topic::SIGNALS,
        include_str!("../../../../schemas/history/hub.signals.v1-2.avsc"),
    ),
    (
        Topic::RESPONSES,
        include_str!("../../../../schemas/history/hub.responses.v1-1.avsc"),
    ),
    (
        Topic::JEUGDHULP,
        include_str!("../../../../schemas/history/source.jeugdhulp.v1-1.avsc"),
    ),
    (
        Topic::DIRECTORY,
        include_str!("../../../../schemas/history/hub.directory.v1-1.avsc"),
    ),
    (
        Topic::DELIVERIES,
        include_str!("../../../../schemas/history/hub.deliveries.v1-1.avsc"),
    ),
    (
        Topic::AUDIT,
        include_str!("../../../../schemas/history/hub.audit.v1-1.avsc"),
    ),
];

/// The topics.toml shipped with this binary.
pub const TOPICS_TOML: &str = include_str!("../../../../schemas/topics.toml");

/// A registry with every current and historical schema. The schemas are parsed once per
/// process (parsing is costly and a parsed schema lives as long as the process); each call
/// hands out a cheap copy of that registry.
pub fn registry() -> Registry {
    static PARSED: std::sync::LazyLock<Registry> = std::sync::LazyLock::new(|| {
        let mut r = Registry::default();
        for (topic, text) in CURRENT {
            r.add_current(*topic, text)
                .unwrap_or_else(|e| panic!("schema of {topic}: {e}"));
        }
        for (topic, text) in HISTORY {
            r.add_history(text)
                .unwrap_or_else(|e| panic!("old schema of {topic}: {e}"));
        }
        r
    });
    PARSED.clone()
}

/// The CloudEvents `dataschema` of a topic's current schema.
pub fn dataschema(topic: Topic, fingerprint: u64) -> String {
    format!("urn:nl:schakel:schema:{topic}:{fingerprint:016x}")
}

#[cfg(test)]
mod tests {
    #[test]
    fn all_schemas_parse() {
        let r = super::registry();
        for (topic, _) in super::CURRENT {
            assert!(r.current(*topic).is_ok());
        }
    }

    /// The catalogue's topics are those of topics.toml, in its order, and every one but the
    /// snapshots (raw chunks) has a current schema.
    #[test]
    fn the_catalogue_names_the_topics_of_topics_toml() {
        use crate::domain::catalogue::Topic;
        let toml: Vec<&str> = super::TOPICS_TOML
            .lines()
            .filter_map(|l| l.trim().strip_prefix("name = \""))
            .filter_map(|l| l.split('"').next())
            .collect();
        let names: Vec<&str> = Topic::ALL.iter().map(|t| t.name()).collect();
        assert_eq!(toml, names);
        let with_schema: Vec<Topic> = super::CURRENT.iter().map(|(t, _)| *t).collect();
        let expected: Vec<Topic> = Topic::ALL
            .into_iter()
            .filter(|t| *t != Topic::SNAPSHOTS)
            .collect();
        assert_eq!(with_schema, expected);
    }
    /// The fingerprints under which every schema, current and old, has been written to the
    /// log (they are in every record's header and every CloudEvent's `dataschema`). A change
    /// of codec must not move them, or records already in the log can no longer be read.
    #[test]
    fn fingerprints_stay_what_the_log_holds() {
        const WRITTEN: &[(&str, u64)] = &[
            ("source.school.v1", 0x04cd986b0aed24b7),
            ("source.voorschool.v1", 0x7c9ec758c4df0317),
            ("source.leerplicht.v1", 0xd9ae742f9d69274e),
            ("source.jeugdhulp.v1", 0x62cc94687d719a7c),
            ("hub.responses.v1", 0xb29a43934f6755b5),
            ("hub.clock.v1", 0xbfc71ddbbfddc076),
            ("hub.signals.v1", 0x3b3c4dee53a0cf9f),
            ("hub.directory.v1", 0x6123635004c5f9fd),
            ("hub.deliveries.v1", 0xb6aacd2c7d7c4ada),
            ("hub.deadletter.v1", 0xa0d2a235413c6f17),
            ("hub.identities.v1", 0x120a05614ffec90f),
            ("hub.audit.v1", 0xf459cad328c8e8a7),
            ("hub.imports.v1", 0xf8f13f43d789b9c8),
            ("source.school.v1", 0x0be6e9416b9bd217),
            ("hub.signals.v1", 0xfcdc43575470a17b),
            ("hub.signals.v1", 0xe218697b791ecbbd),
            ("hub.responses.v1", 0x4ed9cb83a8beb0b9),
            ("source.jeugdhulp.v1", 0xaad2df0ba83b203b),
            ("hub.directory.v1", 0x15893aade9458923),
            ("hub.deliveries.v1", 0x2a5489db52fa82a0),
            ("hub.audit.v1", 0xbe255e908e6c8b2e),
        ];
        let all = super::CURRENT.iter().chain(super::HISTORY);
        assert_eq!(
            all.clone().count(),
            WRITTEN.len(),
            "pin the fingerprint of a new schema here"
        );
        for ((topic, text), (pinned_topic, fingerprint)) in all.zip(WRITTEN) {
            assert_eq!(topic.name(), *pinned_topic);
            let schema = crate::log::codec::Schema::parse(text).unwrap();
            assert_eq!(
                schema.fingerprint(),
                *fingerprint,
                "fingerprint of a {topic} schema moved"
            );
        }
    }
}

/// Every topic's Rust type survives its schema.
#[cfg(test)]
mod roundtrip_tests {
    use crate::domain::catalogue::Topic;
    use crate::domain::dates::DatePrecision;
    use crate::domain::events::*;
    use crate::domain::ids::ChildKey;
    use crate::log::schemas;
    use jiff::Timestamp;

    fn child() -> ChildRef {
        ChildRef {
            child_key: ChildKey::parse(&"ab".repeat(32)).unwrap(),
            birth_date: jiff::civil::date(2009, 5, 1),
            birth_date_precision: DatePrecision::Month,
            residence_municipality: Some("0392".into()),
        }
    }

    #[test]
    fn every_topic_roundtrips_its_rust_type() {
        let reg = schemas::registry();
        let t: Timestamp = "2026-11-22T08:00:00Z".parse().unwrap();
        let jh = JeugdhulpEvent {
            id: "1".into(),
            source: "urn:nld:gemeente:0392:systeem:jeugd".into(),
            kind: crate::domain::catalogue::EventType::AssignmentIssued,
            time: t,
            child: child(),
            data: JeugdhulpData::AssignmentIssued {
                toewijzing_nummer: "T1".into(),
                product: Product {
                    categorie: "45".into(),
                    code: None,
                },
                ingangsdatum: jiff::civil::date(2026, 1, 1),
                einddatum: None,
                toewijzing_tijdstip: t,
                verlengde_jeugdhulp: Some(false),
                gemeente: "0392".into(),
            },
        };
        let b = reg.encode(Topic::JEUGDHULP, &jh).unwrap();
        assert_eq!(
            reg.decode::<JeugdhulpEvent>(Topic::JEUGDHULP, &b).unwrap(),
            jh
        );

        let sc = SchoolEvent {
            data: SchoolData::EnrolmentEnded {
                school: SchoolRef {
                    brin: "12AB".into(),
                    vestiging: "00".into(),
                },
                end_date: jiff::civil::date(2026, 7, 1),
                reason: "andere-school".into(),
                destination: Some(SchoolRef {
                    brin: "34CD".into(),
                    vestiging: "01".into(),
                }),
                startkwalificatie: Some(false),
            },
            id: "2".into(),
            source: "urn:nld:brin:12AB:systeem:parnassys".into(),
            kind: crate::domain::catalogue::EventType::EnrolmentEnded,
            time: t,
            child: child(),
        };
        let b = reg.encode(Topic::SCHOOL, &sc).unwrap();
        assert_eq!(reg.decode::<SchoolEvent>(Topic::SCHOOL, &b).unwrap(), sc);

        let d = DirectoryEntry {
            entry: DirectoryItem::Contact {
                id: "c1".into(),
                name: "Team Jeugd".into(),
                organisation: None,
                institution: "gemeente:0392".into(),
                roles: vec!["jeugdteam".into()],
                email: None,
                webhook: Some(Webhook {
                    url: "http://x".into(),
                    secret: "whsec_x".into(),
                }),
                preferences: Some(Preferences {
                    channels: Some(vec!["webhook".into()]),
                    digest_hour: Some(8),
                    rules: None,
                }),
            },
        };
        let b = reg.encode(Topic::DIRECTORY, &d).unwrap();
        assert_eq!(
            reg.decode::<DirectoryEntry>(Topic::DIRECTORY, &b).unwrap(),
            d
        );
    }
}
