//! Answers of contact persons to handoff tasks (`nl.schakel.hub.handoff-*.v1`), posted with a
//! contact token to `POST /v1/events`.
//!
//! A contact token writes nothing else: a source event posted with it is out of its scope
//! (403, naming the event's `type`), as any event outside a source token's kinds is.
//! Each answer is checked against the task as ingest knows it: the task must exist (422), the
//! contact must hold one of its roles at the institution that role routes to (403), and the
//! step must fit the lifecycle (409: acknowledge before complete, only the receiver
//! acknowledges, each side confirms once, nothing after completion or cancellation). The
//! answer is logged on `hub.responses.v1` under the child's key, with the roles the contact
//! answered for. Answers are judged one at a time against every answer logged before them
//! (see [`accept`]), so ingest decides as rules will, however quickly they follow each other.

use std::time::Duration;

use jiff::Timestamp;
use schakel_core::domain::catalogue::EventType;
use schakel_core::domain::events::ResponseEvent;
use schakel_core::domain::handoff::{Answer, Progress};
use schakel_core::domain::tasks::{Judgement, Refusal};
use schakel_core::log::kafka::{CloudEvent, Outgoing, Producer};
use schakel_core::log::trace::TraceParent;
use serde_json::Value;

use crate::fields::Fields;
use crate::problem::{ApiError, ErrorKind, FieldError};
use crate::tasks::Tasks;

struct Parsed {
    id: String,
    source: String,
    answer: Answer,
    time: Timestamp,
    signal_id: String,
    at: Timestamp,
    note: Option<String>,
}

fn parse(ev: &Value, contact: &str, f: &mut Fields<'_>) -> Option<Parsed> {
    let Some(obj) = ev.as_object() else {
        f.err("", ErrorKind::Event, "an event must be a JSON object");
        return None;
    };
    if f.value(obj, "specversion").and_then(Value::as_str) != Some("1.0") {
        f.invalid("specversion", "must be \"1.0\"");
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
    let answer = f.parsed(obj, "", "type", true, |s| {
        EventType::parse(s)
            .and_then(Answer::from_type)
            .ok_or("a contact token posts only nl.schakel.hub.handoff-acknowledged.v1, -completed.v1 or -cancelled.v1")
    });
    let time = f.timestamp(obj, "", "time");
    let data = f.object(obj, "", "data", true);
    let (mut signal_id, mut at, mut note) = (None, None, None);
    if let Some(d) = data {
        signal_id = f.parsed(d, "data", "signalId", true, |s| {
            (s.len() == 32 && s.bytes().all(|b| b.is_ascii_hexdigit()))
                .then(|| s.to_ascii_lowercase())
                .ok_or("must be the signalId of the task (32 hex digits)")
        });
        if let Some(c) = f.string(d, "data", "contact", false) {
            if c != contact {
                f.err(
                    "data.contact",
                    ErrorKind::OutOfScope,
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
        f.done(d, "data");
    }
    Some(Parsed {
        id: id?,
        source: source?,
        answer: answer?,
        time: time?,
        signal_id: signal_id?,
        at: at?,
        note,
    })
}

/// The source events of a batch posted with a contact token: out of the token's scope (403),
/// like any event outside a source token's kinds.
fn source_events(events: &[Value]) -> Vec<FieldError> {
    events
        .iter()
        .enumerate()
        .filter_map(|(index, ev)| {
            let ty = ev.get("type").and_then(Value::as_str)?;
            let sourced = EventType::parse(ty).is_some_and(|t| t.source().is_some());
            sourced.then(|| {
                FieldError::new(
                    index,
                    "type",
                    ErrorKind::OutOfScope,
                    "a contact token answers handoff tasks; it may not write source events",
                )
            })
        })
        .collect()
}

/// Judges a batch of answers by `contact` and logs the ones it accepts; how many were accepted
/// (a repeat of an answer already logged counts, and is not logged again), or why none were.
///
/// Answers are judged one request at a time, each against the view read up to the end of the
/// log (every step and every answer logged before it), and the turn is held until the
/// accepted answers are in the log: an answer given right after another is judged with it.
pub async fn accept(
    tasks: &Tasks,
    producer: &Producer,
    cfg: &schakel_core::Config,
    contact: &str,
    events: &[Value],
    trace: &TraceParent,
) -> Result<usize, ApiError> {
    let forbidden = source_events(events);
    if !forbidden.is_empty() {
        return Err(ApiError::Forbidden(forbidden));
    }
    let mut errors = Vec::new();
    let mut parsed = Vec::new();
    for (index, ev) in events.iter().enumerate() {
        let mut f = Fields::new(index, &mut errors);
        parsed.push(parse(ev, contact, &mut f));
    }
    if !errors.is_empty() {
        return Err(ApiError::Invalid(errors));
    }
    let parsed: Vec<Parsed> = parsed.into_iter().flatten().collect();
    let _turn = tasks.turn().await;
    if !tasks.catch_up(cfg, CATCH_UP).await {
        tracing::warn!("handoff tasks not read up to the end of the log; answer refused for now");
        return Err(ApiError::Unavailable);
    }
    let decided = decide(tasks, contact, &parsed)?;
    write(producer, &decided.new, trace).await?;
    Ok(decided.new.len() + decided.repeats)
}

/// How long an answer waits for the view to read the log up to its end.
const CATCH_UP: Duration = Duration::from_secs(5);

/// The answers of a batch that are new, and how many repeat an answer already logged.
struct Decided {
    new: Vec<ResponseEvent>,
    repeats: usize,
}

fn decide(tasks: &Tasks, contact: &str, parsed: &[Parsed]) -> Result<Decided, ApiError> {
    tasks.read(|ix| {
        let (mut unknown, mut forbidden, mut conflicts) = (Vec::new(), Vec::new(), Vec::new());
        // the batch's own answers count for the answers after them
        let mut progress: std::collections::HashMap<&str, Progress> = Default::default();
        let mut in_batch: std::collections::HashSet<(&str, &str)> = Default::default();
        let mut out = Decided {
            new: Vec::new(),
            repeats: 0,
        };
        for (index, p) in parsed.iter().enumerate() {
            let err = |kind, message: String| FieldError::new(index, "data.signalId", kind, message);
            if !in_batch.insert((&p.source, &p.id)) {
                out.repeats += 1;
                continue;
            }
            let earlier = progress.get(p.signal_id.as_str()).copied();
            let judged = ix.judge(
                contact,
                &p.signal_id,
                p.answer,
                (&p.source, &p.id),
                earlier,
            );
            let (roles, now) = match judged {
                Ok(Judgement::New { roles, progress }) => (roles, progress),
                Ok(Judgement::Repeat) => {
                    out.repeats += 1;
                    continue;
                }
                Err(Refusal::UnknownTask) => {
                    unknown.push(err(
                        ErrorKind::Invalid,
                        "no handoff task with this signalId is known".into(),
                    ));
                    continue;
                }
                Err(Refusal::Notice) => {
                    unknown.push(err(
                        ErrorKind::Invalid,
                        "this signal is a notice, not a handoff task".into(),
                    ));
                    continue;
                }
                Err(Refusal::NotAddressed(all)) => {
                    forbidden.push(err(ErrorKind::OutOfScope, format!(
                        "contact {contact:?} holds none of the roles this task is addressed to ({}) at the task's institutions",
                        all.join(", ")
                    )));
                    continue;
                }
                Err(Refusal::Conflict(m)) => {
                    conflicts.push(FieldError::new(index, "type", ErrorKind::Conflict, m));
                    continue;
                }
            };
            progress.insert(&p.signal_id, now);
            let task = &ix.tasks[&p.signal_id];
            let answer = p.answer;
            out.new.push(ResponseEvent {
                id: p.id.clone(),
                source: p.source.clone(),
                kind: answer.event_type(),
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

/// Logs accepted answers on `hub.responses.v1`, in order, under the child's key.
async fn write(
    producer: &Producer,
    responses: &[ResponseEvent],
    trace: &TraceParent,
) -> Result<(), ApiError> {
    for r in responses {
        let ce = CloudEvent {
            id: r.id.clone(),
            source: r.source.clone(),
            kind: r.kind,
            time: r.time,
            trace: trace.clone(),
        };
        producer
            .send(Outgoing {
                key: r.child_key.as_str(),
                value: r,
                event: &ce,
                partition: None,
            })
            .await
            .map_err(|e| {
                tracing::warn!(error = %e, "write of a handoff answer failed");
                ApiError::Unavailable
            })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn source_events_from_a_contact_token_are_named_by_index_and_type() {
        let events = [
            json!({"type": "nl.schakel.hub.handoff-acknowledged.v1"}),
            json!({"type": "nl.schakel.school.enrolment-registered.v1"}),
            json!({"type": "something-else"}),
        ];
        let refused = source_events(&events);
        assert_eq!(refused.len(), 1);
        assert_eq!((refused[0].index, refused[0].field.as_str()), (1, "type"));
    }
}
