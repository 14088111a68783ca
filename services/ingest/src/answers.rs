//! Answers of contact persons to handoff tasks (`nl.schakel.hub.handoff-*.v1`), posted with a
//! contact token to `POST /v1/events`.
//!
//! Each answer is checked against the task as ingest knows it: the task must exist (422), the
//! contact must hold one of its roles at the institution that role routes to (403), and the
//! step must fit the lifecycle (409: acknowledge before complete, only the receiver
//! acknowledges, nothing after completion or cancellation). The answer is logged on
//! `hub.responses.v1` under the child's key, with the roles the contact answered for.

use std::time::Duration;

use jiff::Timestamp;
use schakel_core::events::ResponseEvent;
use schakel_core::handoff::{task_sides, Answer, Progress, Sides};
use serde_json::Value;

use crate::fields::Fields;
use crate::problem::{ApiError, FieldError};
use crate::tasks::Tasks;

/// The answer types a contact token may post.
pub const TYPES: &[&str] = &[
    "nl.schakel.hub.handoff-acknowledged.v1",
    "nl.schakel.hub.handoff-completed.v1",
    "nl.schakel.hub.handoff-cancelled.v1",
];

struct Parsed {
    id: String,
    source: String,
    kind: String,
    time: Timestamp,
    signal_id: String,
    at: Timestamp,
    note: Option<String>,
}

fn parse(ev: &Value, contact: &str, f: &mut Fields<'_>) -> Option<Parsed> {
    let Some(obj) = ev.as_object() else {
        f.err("", "an event must be a JSON object");
        return None;
    };
    if obj.get("specversion").and_then(Value::as_str) != Some("1.0") {
        f.err("specversion", "must be \"1.0\"");
    }
    let id = f.parsed(obj, "", "id", true, |s| {
        (s.len() <= 256)
            .then(|| s.to_owned())
            .ok_or("must be at most 256 characters")
    });
    let source = f.parsed(obj, "", "source", true, |s| {
        s.starts_with("urn:")
            .then(|| s.to_owned())
            .ok_or("must be a URN, e.g. urn:nld:gemeente:0392:systeem:inbox")
    });
    let kind = f.parsed(obj, "", "type", true, |s| {
        TYPES
            .contains(&s)
            .then(|| s.to_owned())
            .ok_or("a contact token posts only nl.schakel.hub.handoff-acknowledged.v1, -completed.v1 or -cancelled.v1")
    });
    let time = f.timestamp(obj, "", "time");
    let data = f.object(obj, "", "data", true);
    let (mut signal_id, mut at, mut note) = (None, None, None);
    if let Some(d) = data {
        f.no_unknown(d, "data", &["signalId", "contact", "at", "note"]);
        signal_id = f.parsed(d, "data", "signalId", true, |s| {
            (s.len() == 32 && s.bytes().all(|b| b.is_ascii_hexdigit()))
                .then(|| s.to_ascii_lowercase())
                .ok_or("must be the signalId of the task (32 hex digits)")
        });
        if let Some(c) = f.string(d, "data", "contact", false) {
            if c != contact {
                f.err(
                    "data.contact",
                    format!("must be the token's contact {contact:?}"),
                );
            }
        }
        at = f.timestamp(d, "data", "at");
        note = f.parsed(d, "data", "note", false, |s| {
            (s.chars().count() <= 500)
                .then(|| s.to_owned())
                .ok_or("must be at most 500 characters (and never hold care data)")
        });
    }
    Some(Parsed {
        id: id?,
        source: source?,
        kind: kind?,
        time: time?,
        signal_id: signal_id?,
        at: at?,
        note,
    })
}

/// Checks a batch of answers by `contact`; the responses to log, or why not.
pub async fn check(
    tasks: &Tasks,
    cfg: &schakel_core::Config,
    contact: &str,
    events: &[Value],
) -> Result<Vec<ResponseEvent>, ApiError> {
    let mut errors = Vec::new();
    let mut parsed = Vec::new();
    for (index, ev) in events.iter().enumerate() {
        let mut f = Fields {
            index,
            errors: &mut errors,
        };
        parsed.push(parse(ev, contact, &mut f));
    }
    if !errors.is_empty() {
        return Err(ApiError::Invalid(errors));
    }
    let parsed: Vec<Parsed> = parsed.into_iter().flatten().collect();
    let ids: Vec<String> = parsed.iter().map(|p| p.signal_id.clone()).collect();
    tasks.await_known(&ids, Duration::from_secs(3)).await;
    match decide(tasks, contact, &parsed) {
        // the view may lag behind the log (a step logged a moment ago): refuse only what the
        // log up to now refuses
        Err(ApiError::Conflict(_) | ApiError::Invalid(_))
            if tasks.catch_up(cfg, Duration::from_secs(3)).await =>
        {
            decide(tasks, contact, &parsed)
        }
        outcome => outcome,
    }
}

fn decide(tasks: &Tasks, contact: &str, parsed: &[Parsed]) -> Result<Vec<ResponseEvent>, ApiError> {
    tasks.read(|ix| {
        let (mut unknown, mut forbidden, mut conflicts) = (Vec::new(), Vec::new(), Vec::new());
        let mut progress: std::collections::HashMap<&str, Progress> = Default::default();
        let mut out = Vec::new();
        for (index, p) in parsed.iter().enumerate() {
            let err = |message: String| FieldError {
                index,
                field: "data.signalId".into(),
                message,
            };
            let Some(task) = ix.tasks.get(&p.signal_id) else {
                unknown.push(err("no handoff task with this signalId is known".into()));
                continue;
            };
            let Some((sender, receiver)) = task_sides(&task.signal.rule) else {
                unknown.push(err("this signal is a notice, not a handoff task".into()));
                continue;
            };
            let all: Vec<&str> = sender.iter().chain(receiver).copied().collect();
            let roles = ix.directory.roles_of(contact, &task.signal, &all);
            if roles.is_empty() {
                forbidden.push(err(format!(
                    "contact {contact:?} holds none of the roles this task is addressed to ({}) at the task's institutions",
                    all.join(", ")
                )));
                continue;
            }
            let answer = Answer::from_type(&p.kind).expect("checked type");
            let state = progress.entry(&p.signal_id).or_insert(task.progress);
            if let Err(m) = state.answer(answer, Sides::of(&roles, sender, receiver)) {
                conflicts.push(FieldError {
                    index,
                    field: "type".into(),
                    message: m.into(),
                });
                continue;
            }
            out.push(ResponseEvent {
                id: p.id.clone(),
                source: p.source.clone(),
                kind: p.kind.clone(),
                time: p.time,
                child_key: task.signal.child_key.clone(),
                signal_id: p.signal_id.clone(),
                contact: contact.to_owned(),
                at: p.at,
                note: p.note.clone(),
                roles,
            });
        }
        if !unknown.is_empty() {
            Err(ApiError::Invalid(unknown))
        } else if !forbidden.is_empty() {
            Err(ApiError::Forbidden(forbidden))
        } else if !conflicts.is_empty() {
            Err(ApiError::Conflict(conflicts))
        } else {
            Ok(out)
        }
    })
}
