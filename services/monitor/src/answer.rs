//! Answering a handoff task from the monitor (an action link or a button): judged as ingest
//! judges a contact token's answer and as rules will fold it, then written to
//! `hub.responses.v1`.

use std::time::Duration;

use schakel_core::domain::events::ResponseEvent;
use schakel_core::domain::handoff::Answer;
use schakel_core::domain::ids::hex;
use schakel_core::domain::tasks::{Judgement, Refusal};
use schakel_core::log::kafka::{CloudEvent, Outgoing};
use schakel_core::log::trace::TraceParent;
use sha2::{Digest, Sha256};

use crate::AppState;

/// Where the monitor's answers come from.
pub const SOURCE: &str = "urn:nl:schakel:monitor";

/// The outcome of an answer that was not refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answered {
    Written,
    /// given before (the same contact, task and action): nothing written again
    Repeat,
}

/// Why an answer was not written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotAnswered {
    /// no handoff task with this id
    Unknown,
    /// the contact holds none of the task's roles at its institutions
    NotYours,
    /// the answer does not fit where the task stands
    Conflict(&'static str),
    /// the log is not reachable or not read up to date now
    Unavailable,
}

/// The id of an answer: one per contact, task and action, so a link or button used again is
/// a repeat, not a second answer.
pub fn answer_id(signal_id: &str, contact: &str, answer: Answer) -> String {
    let mut h = Sha256::new();
    h.update(format!("{signal_id}|{contact}|{:?}", answer).as_bytes());
    format!("monitor-{}", hex(&h.finalize()[..16]))
}

const CATCH_UP: Duration = Duration::from_secs(5);

/// Judges and writes the answer of `contact` to task `signal_id`; the view has folded it when
/// this returns `Written`.
pub async fn answer(
    st: &AppState,
    contact: &str,
    signal_id: &str,
    answer: Answer,
    note: Option<String>,
    trace: &TraceParent,
) -> Result<Answered, NotAnswered> {
    let cfg = &st.settings.common;
    let id = answer_id(signal_id, contact, answer);
    let _turn = st.turn.lock().await;
    if !st.view.catch_up(cfg, CATCH_UP).await {
        return Err(NotAnswered::Unavailable);
    }
    let judged = st.view.read(|s| {
        let j = s
            .tasks
            .judge(contact, signal_id, answer, (SOURCE, &id), None);
        let child = s
            .tasks
            .tasks
            .get(signal_id)
            .map(|t| t.signal.child_key.clone());
        (j, child)
    });
    let (roles, child) = match judged {
        (Ok(Judgement::Repeat), _) => return Ok(Answered::Repeat),
        (Ok(Judgement::New { roles, .. }), Some(child)) => (roles, child),
        (Ok(Judgement::New { .. }), None) | (Err(Refusal::UnknownTask | Refusal::Notice), _) => {
            return Err(NotAnswered::Unknown)
        }
        (Err(Refusal::NotAddressed(_)), _) => return Err(NotAnswered::NotYours),
        (Err(Refusal::Conflict(m)), _) => return Err(NotAnswered::Conflict(m)),
    };
    let now = jiff::Timestamp::now();
    let ev = ResponseEvent {
        id: id.clone(),
        source: SOURCE.into(),
        kind: answer.event_type(),
        time: now,
        child_key: child,
        signal_id: signal_id.to_owned(),
        contact: contact.to_owned(),
        at: now,
        note,
        roles,
    };
    let ce = CloudEvent {
        id,
        source: SOURCE.into(),
        kind: ev.kind,
        time: now,
        trace: trace.clone(),
    };
    st.producer
        .send(Outgoing {
            key: ev.child_key.as_str(),
            value: &ev,
            event: &ce,
            partition: None,
        })
        .await
        .map_err(|e| {
            tracing::warn!(error = %e, "write of a handoff answer failed");
            NotAnswered::Unavailable
        })?;
    st.health.metrics.inc(
        "schakel_monitor_answers_total",
        &format!("answer=\"{}\"", answer_word(answer)),
    );
    // the page that follows shows the answer
    let _ = st.view.catch_up(cfg, CATCH_UP).await;
    Ok(Answered::Written)
}

fn answer_word(a: Answer) -> &'static str {
    match a {
        Answer::Acknowledge => "acknowledge",
        Answer::Complete => "complete",
        Answer::Cancel => "cancel",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_id_per_contact_task_and_action() {
        let a = answer_id("s1", "jt", Answer::Acknowledge);
        assert_eq!(a, answer_id("s1", "jt", Answer::Acknowledge));
        assert_ne!(a, answer_id("s1", "jt", Answer::Complete));
        assert_ne!(a, answer_id("s1", "vw", Answer::Acknowledge));
        assert_ne!(a, answer_id("s2", "jt", Answer::Acknowledge));
        assert!(a.starts_with("monitor-") && a.len() == 8 + 32);
    }
}
