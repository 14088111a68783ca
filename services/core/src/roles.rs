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
];

/// Roles held at a municipality; every other role belongs to the signal's institution.
pub const MUNICIPALITY_ROLES: &[&str] = &[
    "leerplicht",
    "jeugdteam",
    "vve-coordinator",
    "volwassenen",
    "rmc",
    "doorbraak",
];
