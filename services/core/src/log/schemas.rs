//! The Avro schemas of every topic, compiled into the binary.

use crate::log::codec::Registry;

/// (topic, schema text) for every topic's current value schema.
pub const CURRENT: &[(&str, &str)] = &[
    (
        "source.school.v1",
        include_str!("../../../../schemas/source.school.v1.avsc"),
    ),
    (
        "source.voorschool.v1",
        include_str!("../../../../schemas/source.voorschool.v1.avsc"),
    ),
    (
        "source.leerplicht.v1",
        include_str!("../../../../schemas/source.leerplicht.v1.avsc"),
    ),
    (
        "source.jeugdhulp.v1",
        include_str!("../../../../schemas/source.jeugdhulp.v1.avsc"),
    ),
    (
        "hub.responses.v1",
        include_str!("../../../../schemas/hub.responses.v1.avsc"),
    ),
    (
        "hub.clock.v1",
        include_str!("../../../../schemas/hub.clock.v1.avsc"),
    ),
    (
        "hub.signals.v1",
        include_str!("../../../../schemas/hub.signals.v1.avsc"),
    ),
    (
        "hub.directory.v1",
        include_str!("../../../../schemas/hub.directory.v1.avsc"),
    ),
    (
        "hub.deliveries.v1",
        include_str!("../../../../schemas/hub.deliveries.v1.avsc"),
    ),
    (
        "hub.deadletter.v1",
        include_str!("../../../../schemas/hub.deadletter.v1.avsc"),
    ),
    (
        "hub.identities.v1",
        include_str!("../../../../schemas/hub.identities.v1.avsc"),
    ),
    (
        "hub.audit.v1",
        include_str!("../../../../schemas/hub.audit.v1.avsc"),
    ),
    (
        "hub.imports.v1",
        include_str!("../../../../schemas/hub.imports.v1.avsc"),
    ),
];

/// Older schema versions that may still be in the log. Add a file here whenever a topic's
/// schema changes; the compatibility test reads each one with the current schema.
pub const HISTORY: &[(&str, &str)] = &[
    (
        "source.school.v1",
        include_str!("../../../../schemas/history/source.school.v1-1.avsc"),
    ),
    (
        "hub.signals.v1",
        include_str!("../../../../schemas/history/hub.signals.v1-1.avsc"),
    ),
    (
        "hub.signals.v1",
        include_str!("../../../../schemas/history/hub.signals.v1-2.avsc"),
    ),
    (
        "hub.responses.v1",
        include_str!("../../../../schemas/history/hub.responses.v1-1.avsc"),
    ),
    (
        "source.jeugdhulp.v1",
        include_str!("../../../../schemas/history/source.jeugdhulp.v1-1.avsc"),
    ),
    (
        "hub.directory.v1",
        include_str!("../../../../schemas/history/hub.directory.v1-1.avsc"),
    ),
    (
        "hub.deliveries.v1",
        include_str!("../../../../schemas/history/hub.deliveries.v1-1.avsc"),
    ),
];

/// The topics.toml shipped with this binary.
pub const TOPICS_TOML: &str = include_str!("../../../../schemas/topics.toml");

/// A registry with every current and historical schema.
pub fn registry() -> Registry {
    let mut r = Registry::default();
    for (topic, text) in CURRENT {
        r.add_current(topic, text)
            .unwrap_or_else(|e| panic!("schema of {topic}: {e}"));
    }
    for (topic, text) in HISTORY {
        r.add_history(text)
            .unwrap_or_else(|e| panic!("old schema of {topic}: {e}"));
    }
    r
}

/// The CloudEvents `dataschema` of a topic's current schema.
pub fn dataschema(topic: &str, fingerprint: u64) -> String {
    format!("urn:nl:schakel:schema:{topic}:{fingerprint:016x}")
}

#[cfg(test)]
mod tests {
    #[test]
    fn all_schemas_parse() {
        let r = super::registry();
        for (topic, _) in super::CURRENT {
            assert!(r.current(topic).is_ok());
        }
    }
}
