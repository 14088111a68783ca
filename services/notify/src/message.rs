//! What a contact person receives: the signal's facts in Dutch, with links, and never a name,
//! BSN, product or reason.

use schakel_core::domain::catalogue::EventType;
use schakel_core::domain::events::SignalEvent;
use schakel_core::domain::links::{Action, Grant, Links};
pub use schakel_core::domain::wording::title;
use serde::Serialize;

use crate::directory::{Contact, Directory};

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ContactCard {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub organisation: Option<String>,
    pub roles: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct Actions {
    pub acknowledge: String,
    pub complete: String,
}

/// The `data` of a notification.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NotificationData {
    pub signal_id: String,
    pub step: String,
    pub rule: String,
    pub title: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub due_date: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub institution: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub institution_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub municipality: Option<String>,
    /// `school`: no source reported the child's residence; `municipality` is the school's
    #[serde(skip_serializing_if = "Option::is_none")]
    pub residence_derived_from: Option<String>,
    pub task: bool,
    pub birth_date_uncertain: bool,
    /// A configuration signal (C1): the role nobody holds at `institution`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub missing_role: Option<String>,
    /// A configuration signal (C2): the contact whose endpoint was disabled, and the channel.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disabled_endpoint: Option<String>,
    /// The roles this contact receives the signal for.
    pub your_roles: Vec<String>,
    /// The other contacts to reach about it.
    pub contacts: Vec<ContactCard>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actions: Option<Actions>,
}

/// A structured-mode CloudEvent.
#[derive(Debug, Serialize)]
pub struct Notification {
    pub specversion: &'static str,
    pub id: String,
    pub source: String,
    #[serde(rename = "type")]
    pub kind: EventType,
    pub time: String,
    pub datacontenttype: &'static str,
    pub dataref: String,
    pub data: NotificationData,
}

/// Everything needed to build a notification for one recipient.
pub struct Build<'a> {
    pub signal: &'a SignalEvent,
    pub recipient: &'a Contact,
    pub roles: &'a [String],
    pub others: &'a [&'a Contact],
    pub directory: &'a Directory,
    pub delivery_id: &'a str,
    pub oin: &'a str,
    pub api_base_url: &'a str,
    /// signs the action links for the recipient; without it the links are plain
    pub links: Option<&'a Links>,
    /// days an action link stays valid after the task's due date
    pub link_days: i64,
    pub now: jiff::Timestamp,
}

/// The link of `action` on the signal page, signed for the recipient when the region has a
/// link secret. It stays valid `link_days` after the task's due date, or after the day it is
/// sent when that is later (a notification about an old task still gets a working link).
fn action_link(b: &Build<'_>, signal_url: &str, action: Action) -> String {
    let path = format!("{signal_url}/{}", action.as_str());
    let Some(links) = b.links else {
        return path;
    };
    let s = b.signal;
    let today = b.now.to_zoned(jiff::tz::TimeZone::UTC).date();
    let from = s
        .due_date
        .map_or(s.fired_on, |d| d.max(s.fired_on))
        .max(today);
    let expires = from
        .saturating_add(jiff::Span::new().days(b.link_days))
        .to_zoned(jiff::tz::TimeZone::UTC)
        .map_or(jiff::Timestamp::MAX, |z| z.timestamp());
    let token = links.token(&Grant {
        signal_id: s.signal_id.clone(),
        contact: b.recipient.id.clone(),
        action,
        expires,
    });
    format!("{path}?t={token}")
}

pub fn build(b: Build<'_>) -> Notification {
    let s = b.signal;
    let base = b.api_base_url.trim_end_matches('/');
    let signal_url = format!("{base}/v1/signals/{}", s.signal_id);
    let contacts = b
        .others
        .iter()
        .filter(|c| c.id != b.recipient.id)
        .map(|c| ContactCard {
            name: c.name.clone(),
            organisation: c.organisation.clone(),
            roles: c.roles.clone(),
            email: c.email.clone(),
        })
        .collect();
    Notification {
        specversion: "1.0",
        id: b.delivery_id.to_owned(),
        source: format!("urn:nld:oin:{}:systeem:schakel", b.oin),
        kind: s.kind,
        time: b.now.to_string(),
        datacontenttype: "application/json",
        dataref: signal_url.clone(),
        data: NotificationData {
            signal_id: s.signal_id.clone(),
            step: s.step.clone(),
            rule: s.rule.clone(),
            title: title(&s.rule, &s.step),
            due_date: s.due_date.map(|d| d.to_string()),
            institution: s.institution.clone(),
            institution_name: s
                .institution
                .as_deref()
                .and_then(|i| b.directory.institution_name(i))
                .map(str::to_owned),
            municipality: s.municipality.clone(),
            residence_derived_from: s.residence_derived_from.clone(),
            task: s.task,
            birth_date_uncertain: s.birth_date_uncertain,
            missing_role: s.policy.get("missingRole").cloned(),
            disabled_endpoint: s.policy.get("disabledContact").map(|c| {
                format!(
                    "{c} ({})",
                    s.policy.get("channel").map_or("", String::as_str)
                )
            }),
            your_roles: b.roles.to_vec(),
            contacts,
            actions: s.task.then(|| Actions {
                acknowledge: action_link(&b, &signal_url, Action::Acknowledge),
                complete: action_link(&b, &signal_url, Action::Complete),
            }),
        },
    }
}
