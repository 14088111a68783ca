//! The roles of DOMAIN.md that contacts hold and signals address.

/// Every role a contact may hold.
pub const ROLES: &[&str] = &[
    "ib",
    "zorgcoordinator",
    "kernteam",
    "vve-mentor",
    "locatie",
    "leerplicht",
    "jeugdteam",
    "vve-coordinator",
    "volwassenen",
    "rmc",
    "doorbraak",
    "swv-consulent",
    "beheer",
];

/// Roles held at a municipality; every other role belongs to the signal's institution.
pub const MUNICIPALITY_ROLES: &[&str] = &[
    "leerplicht",
    "jeugdteam",
    "vve-coordinator",
    "volwassenen",
    "rmc",
    "doorbraak",
    "beheer",
];

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
