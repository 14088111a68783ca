//! The directory of institutions and contact persons, folded from `hub.directory.v1`.

use std::collections::BTreeMap;

use crate::domain::events::{DirectoryEntry, DirectoryItem, Preferences, SignalEvent, Webhook};
use crate::domain::roles::held_at_municipality;

/// A contact person as notify needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contact {
    pub id: String,
    pub name: String,
    pub organisation: Option<String>,
    pub institution: String,
    pub roles: Vec<String>,
    pub email: Option<String>,
    pub webhook: Option<Webhook>,
    pub preferences: Preferences,
}

/// The channels notify delivers over.
pub const CHANNELS: &[&str] = &["webhook", "email"];

impl Contact {
    /// Whether the contact wants signals of `rule`.
    pub fn wants_rule(&self, rule: &str) -> bool {
        self.preferences
            .rules
            .as_ref()
            .is_none_or(|r| r.iter().any(|x| x == rule))
    }

    /// The channels the contact is reached on: those chosen (all by default) that have an
    /// address.
    pub fn channels(&self) -> Vec<&'static str> {
        let chosen = |c: &str| {
            self.preferences
                .channels
                .as_ref()
                .is_none_or(|ch| ch.iter().any(|x| x == c))
        };
        let mut out = Vec::new();
        if self.webhook.is_some() && chosen("webhook") {
            out.push("webhook");
        }
        if self.email.is_some() && chosen("email") {
            out.push("email");
        }
        out
    }
}

#[derive(Debug, Clone, Default)]
pub struct Directory {
    contacts: BTreeMap<String, Contact>,
    institutions: BTreeMap<String, String>,
}

impl Directory {
    /// Applies one record of the compacted topic; a missing value deletes the key.
    pub fn apply(&mut self, key: &str, entry: Option<DirectoryEntry>) {
        match entry.map(|e| e.entry) {
            Some(DirectoryItem::Contact {
                id,
                name,
                organisation,
                institution,
                roles,
                email,
                webhook,
                preferences,
            }) => {
                self.contacts.insert(
                    id.clone(),
                    Contact {
                        id,
                        name,
                        organisation,
                        institution,
                        roles,
                        email,
                        webhook,
                        preferences: preferences.unwrap_or_default(),
                    },
                );
            }
            Some(DirectoryItem::Institution { id, name }) => {
                self.institutions.insert(id, name);
            }
            None => {
                if let Some(id) = key.strip_prefix("contact:") {
                    self.contacts.remove(id);
                } else if let Some(id) = key.strip_prefix("institution:") {
                    self.institutions.remove(id);
                }
            }
        }
    }

    /// How many contacts the directory holds.
    pub fn contacts(&self) -> usize {
        self.contacts.len()
    }

    /// Every contact, by id.
    pub fn all_contacts(&self) -> impl Iterator<Item = &Contact> {
        self.contacts.values()
    }

    pub fn contact(&self, id: &str) -> Option<&Contact> {
        self.contacts.get(id)
    }

    /// The roles of `signal` that contact `id` holds at the institution that role routes to.
    pub fn roles_of(&self, id: &str, signal: &SignalEvent, roles: &[&str]) -> Vec<String> {
        let Some(c) = self.contacts.get(id) else {
            return Vec::new();
        };
        roles
            .iter()
            .filter(|r| c.roles.iter().any(|h| h == *r))
            .filter(|r| Self::institution_for(signal, r).as_deref() == Some(c.institution.as_str()))
            .map(|r| (*r).to_owned())
            .collect()
    }

    pub fn institution_name(&self, id: &str) -> Option<&str> {
        self.institutions.get(id).map(String::as_str)
    }

    /// The institution whose `role` must act on `signal`.
    pub fn institution_for(signal: &SignalEvent, role: &str) -> Option<String> {
        if let Some(inst) = signal.routes.get(role) {
            return Some(inst.clone());
        }
        if held_at_municipality(role) {
            signal
                .municipality
                .as_ref()
                .map(|m| format!("gemeente:{m}"))
        } else {
            signal.institution.clone()
        }
    }

    /// Every contact that must receive `signal`, with the roles it receives it for, and the
    /// roles nobody holds.
    pub fn recipients(&self, signal: &SignalEvent) -> (Vec<(&Contact, Vec<String>)>, Vec<String>) {
        let mut found: BTreeMap<&str, (&Contact, Vec<String>)> = BTreeMap::new();
        let mut missing = Vec::new();
        for role in &signal.recipients {
            let Some(inst) = Self::institution_for(signal, role) else {
                missing.push(role.clone());
                continue;
            };
            let holders: Vec<&Contact> = self
                .contacts
                .values()
                .filter(|c| c.institution == inst && c.roles.iter().any(|r| r == role))
                .collect();
            if holders.is_empty() {
                missing.push(role.clone());
            }
            for c in holders {
                found
                    .entry(&c.id)
                    .or_insert_with(|| (c, Vec::new()))
                    .1
                    .push(role.clone());
            }
        }
        (found.into_values().collect(), missing)
    }
}
