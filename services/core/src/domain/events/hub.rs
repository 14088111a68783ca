//! What the hub itself says: clock ticks, signal steps, answers and the directory.

use jiff::civil::Date;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::domain::catalogue::EventType;
use crate::domain::ids::ChildKey;

/// A day has begun (Europe/Amsterdam).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClockTick {
    pub id: String,
    pub date: Date,
    pub produced_at: Timestamp,
}

impl ClockTick {
    /// Ticks for the same date share their id, so a repeated tick is recognised.
    pub fn id_for(date: Date) -> String {
        format!("tick-{date}")
    }
}

/// One step of a signal: `opened`, `reminded`, `overdue`, `escalated` or `resolved`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SignalEvent {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: EventType,
    pub step: String,
    pub signal_id: String,
    pub rule: String,
    pub child_key: ChildKey,
    pub institution: Option<String>,
    pub municipality: Option<String>,
    pub due_date: Option<Date>,
    pub recipients: Vec<String>,
    pub task: bool,
    pub fired_on: Date,
    pub birth_date_uncertain: bool,
    pub facts: Vec<String>,
    pub policy: std::collections::BTreeMap<String, String>,
    /// role → the institution that holds it for this signal; other roles route by default
    #[serde(default)]
    pub routes: std::collections::BTreeMap<String, String>,
    /// `school` when no source reported the child's residence and `municipality` is that of
    /// the child's school; None when a source reported it
    #[serde(default)]
    pub residence_derived_from: Option<String>,
}

/// A contact person's answer to a handoff task (`nl.schakel.hub.handoff-*.v1`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResponseEvent {
    pub id: String,
    pub source: String,
    #[serde(rename = "type")]
    pub kind: EventType,
    pub time: Timestamp,
    pub child_key: ChildKey,
    pub signal_id: String,
    pub contact: String,
    pub at: Timestamp,
    pub note: Option<String>,
    /// the roles of the task the contact answered for
    #[serde(default)]
    pub roles: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Webhook {
    pub url: String,
    pub secret: String,
}

/// How a contact wants to be notified (see docs/directory.md).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Preferences {
    /// `webhook` and/or `email`; None: every channel the contact has an address for
    pub channels: Option<Vec<String>>,
    /// a daily digest at this hour (Europe/Amsterdam) instead of immediate delivery
    pub digest_hour: Option<i32>,
    /// the rules to be notified of; None: all
    pub rules: Option<Vec<String>>,
}

/// An entry in the directory topic.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DirectoryEntry {
    pub entry: DirectoryItem,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum DirectoryItem {
    Institution {
        id: String,
        name: String,
    },
    Contact {
        id: String,
        name: String,
        organisation: Option<String>,
        institution: String,
        roles: Vec<String>,
        email: Option<String>,
        webhook: Option<Webhook>,
        #[serde(default)]
        preferences: Option<Preferences>,
    },
}

impl DirectoryEntry {
    /// The compaction key: `institution:<id>` or `contact:<id>`.
    pub fn key(&self) -> String {
        match &self.entry {
            DirectoryItem::Institution { id, .. } => format!("institution:{id}"),
            DirectoryItem::Contact { id, .. } => format!("contact:{id}"),
        }
    }
}
