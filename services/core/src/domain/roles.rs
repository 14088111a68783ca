//! The roles of DOMAIN.md that contacts hold and signals address.

/// Every role a contact may hold, with whether it is held at a municipality (true) or at the
/// signal's own institution (false).
const HELD: &[(&str, bool)] = &[
    ("ib", false),
    ("zorgcoordinator", false),
    ("kernteam", false),
    ("vve-mentor", false),
    ("locatie", false),
    ("leerplicht", true),
    ("jeugdteam", true),
    ("vve-coordinator", true),
    ("volwassenen", true),
    ("rmc", true),
    ("doorbraak", true),
    ("swv-consulent", false),
    ("beheer", true),
    ("beleid", true),
];

/// Every role a contact may hold.
pub fn roles() -> impl Iterator<Item = &'static str> {
    HELD.iter().map(|(r, _)| *r)
}

/// Whether `role` is one of DOMAIN.md's roles.
pub fn is_role(role: &str) -> bool {
    roles().any(|r| r == role)
}

/// Whether `role` is held at a municipality; every other role belongs to the signal's
/// institution.
pub fn held_at_municipality(role: &str) -> bool {
    HELD.iter().any(|(r, m)| *r == role && *m)
}

/// The rules of DOMAIN.md, as signals name them.
pub const RULES: &[&str] = &[
    "R1a", "R1b", "R1c", "R2a", "R2b", "R2c", "R3a", "R3b", "R3c", "R3d", "R4", "R5", "R6",
];

/// The configuration signal: a role of a signal that no contact in the directory holds. It is
/// addressed to the municipality's `beheer` (functioneel beheer) contacts.
pub const CONFIG_RULE: &str = "C1";

/// Whether a rule is a configuration signal (C1: a role nobody holds, C2: an endpoint
/// disabled); those never raise configuration signals themselves.
pub fn is_config_rule(rule: &str) -> bool {
    rule.starts_with('C')
}
