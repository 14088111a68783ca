//! What the fold consumes: source facts and clock ticks.

use jiff::civil::Date;
use schakel_core::domain::catalogue::Topic;
use schakel_core::domain::events::{
    ClockTick, JeugdhulpEvent, LeerplichtEvent, ResponseEvent, SchoolEvent, VoorschoolEvent,
};
use schakel_core::log::codec::Registry;

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

impl Input {
    /// Decodes a record of one of the topics rules folds (the service and `schakel whatif`
    /// read the log alike).
    pub fn decode(reg: &Registry, topic: Topic, bytes: &[u8]) -> Result<Self, String> {
        let r = match topic {
            Topic::JEUGDHULP => reg.decode(topic, bytes).map(Input::Jeugdhulp),
            Topic::SCHOOL => reg.decode(topic, bytes).map(Input::School),
            Topic::VOORSCHOOL => reg.decode(topic, bytes).map(Input::Voorschool),
            Topic::LEERPLICHT => reg.decode(topic, bytes).map(Input::Leerplicht),
            Topic::RESPONSES => reg.decode(topic, bytes).map(Input::Response),
            Topic::CLOCK => reg
                .decode::<ClockTick>(topic, bytes)
                .map(|t| Input::Tick(t.date)),
            other => return Err(format!("unexpected topic {other}")),
        };
        r.map_err(|e| e.to_string())
    }
}
