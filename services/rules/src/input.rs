//! What the fold consumes: source facts and clock ticks.

use jiff::civil::Date;
use schakel_core::domain::events::{
    JeugdhulpEvent, LeerplichtEvent, ResponseEvent, SchoolEvent, VoorschoolEvent,
};

/// One input to the rules fold, in log order.
#[derive(Debug, Clone, PartialEq)]
pub enum Input {
    Jeugdhulp(JeugdhulpEvent),
    School(SchoolEvent),
    Voorschool(VoorschoolEvent),
    Leerplicht(LeerplichtEvent),
    /// A contact's answer to a handoff task.
    Response(ResponseEvent),
    /// A day has begun.
    Tick(Date),
}

impl Input {
    /// (source, id) of a fact; ticks have none.
    pub fn fact_id(&self) -> Option<(&str, &str)> {
        match self {
            Input::Jeugdhulp(e) => Some((&e.source, &e.id)),
            Input::School(e) => Some((&e.source, &e.id)),
            Input::Voorschool(e) => Some((&e.source, &e.id)),
            Input::Leerplicht(e) => Some((&e.source, &e.id)),
            Input::Response(e) => Some((&e.source, &e.id)),
            Input::Tick(_) => None,
        }
    }
}
