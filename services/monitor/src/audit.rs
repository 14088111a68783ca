//! Every read of a child is recorded before it is shown: who, in which role and for which
//! institution, which child (by ChildKey), which categories of data, the purpose and legal
//! ground from policy, when, and the trace of the request (Logboek Dataverwerkingen). When the
//! record cannot be written, the child is not shown.

use schakel_core::domain::catalogue::EventType;
use schakel_core::domain::events::AuditEvent;
use schakel_core::domain::ids::ChildKey;
use schakel_core::log::kafka::KafkaError;
use schakel_core::log::trace::TraceParent;

use crate::AppState;

/// One read of a child on a signal page.
pub struct Read<'a> {
    pub actor: &'a str,
    pub role: &'a str,
    pub organisation: &'a str,
    pub child: &'a ChildKey,
    /// the signal whose page showed the child; None for a list of the dashboard
    pub signal_id: Option<&'a str>,
    pub categories: Vec<String>,
    /// how the reader came: the page (`signaalpagina`) or a system's JSON
    pub channel: &'a str,
}

/// Writes the audit record of a read; returns once the broker has it.
pub async fn record(st: &AppState, read: Read<'_>, trace: &TraceParent) -> Result<(), KafkaError> {
    let policy = &st.settings.monitor.audit;
    let ev = AuditEvent {
        id: schakel_core::log::trace::random_hex(16),
        kind: EventType::ChildViewed,
        child_key: read.child.clone(),
        actor: read.actor.to_owned(),
        on_behalf_of: None,
        reason: match read.signal_id {
            Some(id) => format!("inzage {id} via {}", read.channel),
            None => format!("inzage via {}", read.channel),
        },
        at: jiff::Timestamp::now(),
        role: Some(read.role.to_owned()),
        organisation: Some(read.organisation.to_owned()),
        signal_id: read.signal_id.map(str::to_owned),
        categories: read.categories,
        purpose: Some(policy.purpose.clone()),
        legal_ground: Some(policy.legal_ground.clone()),
        trace_id: Some(trace.trace_id().to_owned()),
    };
    let r = schakel_core::vault::record(&st.producer, &ev, "urn:nl:schakel:monitor", trace.clone())
        .await;
    let outcome = if r.is_ok() { "written" } else { "failed" };
    st.health.metrics.inc(
        "schakel_monitor_audit_records_total",
        &format!("outcome=\"{outcome}\""),
    );
    r
}
