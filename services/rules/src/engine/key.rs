//! A child's key in memory, and the children's table.

use hashbrown::HashTable;

use schakel_core::domain::ids::{hex, ChildKey};

use crate::state::ChildState;

/// A child's key in memory: the 32 bytes of its ChildKey.
pub type Key = [u8; 32];

/// The first 8 bytes of a key, big-endian: what the timer index keeps of a child (so prefixes
/// sort as the keys do), and the hash of the children's table (ChildKeys are HMAC outputs, so
/// their first bytes are already a good hash).
pub fn prefix(k: &Key) -> u64 {
    u64::from_be_bytes(k[..8].try_into().expect("8 bytes"))
}

/// Children by key, also found by the first 8 bytes of the key alone; the state is boxed so
/// that the table's empty slots stay small.
#[derive(Debug, Clone, Default)]
pub(super) struct Children(HashTable<(Key, Box<ChildState>)>);

impl Children {
    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn reserve(&mut self, n: usize) {
        self.0.reserve(n, |(k, _)| prefix(k));
    }

    pub fn get(&self, k: &Key) -> Option<&ChildState> {
        self.0.find(prefix(k), |(x, _)| x == k).map(|(_, s)| &**s)
    }

    pub fn get_mut(&mut self, k: &Key) -> Option<&mut ChildState> {
        self.0
            .find_mut(prefix(k), |(x, _)| x == k)
            .map(|(_, s)| &mut **s)
    }

    /// The child's state, made by `new` when there is none.
    pub fn get_or_insert_with(
        &mut self,
        k: Key,
        new: impl FnOnce() -> ChildState,
    ) -> &mut ChildState {
        let entry = self
            .0
            .entry(prefix(&k), |(x, _)| *x == k, |(x, _)| prefix(x))
            .or_insert_with(|| (k, Box::new(new())));
        &mut entry.into_mut().1
    }

    pub fn insert(&mut self, k: Key, s: ChildState) {
        match self.get_mut(&k) {
            Some(old) => *old = s,
            None => {
                self.0
                    .insert_unique(prefix(&k), (k, Box::new(s)), |(x, _)| prefix(x));
            }
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = (&Key, &ChildState)> {
        self.0.iter().map(|(k, s)| (k, &**s))
    }

    /// Adds the keys of the children whose key starts with `p` (almost always one) to `out`,
    /// in key order.
    pub fn keys_with_prefix(&self, p: u64, out: &mut Vec<Key>) {
        let from = out.len();
        out.extend(
            self.0
                .iter_hash(p)
                .map(|(k, _)| *k)
                .filter(|k| prefix(k) == p),
        );
        out[from..].sort_unstable();
    }
}

pub fn key_of(ck: &ChildKey) -> Key {
    let mut k = [0u8; 32];
    let s = ck.as_str().as_bytes();
    let nib = |c: u8| {
        if c.is_ascii_digit() {
            c - b'0'
        } else {
            c - b'a' + 10
        }
    };
    for (i, b) in k.iter_mut().enumerate() {
        *b = (nib(s[2 * i]) << 4) | nib(s[2 * i + 1]);
    }
    k
}

pub fn child_key(k: &Key) -> ChildKey {
    ChildKey::parse(&hex(k)).expect("32 bytes are 64 hex digits")
}

#[cfg(test)]
mod tests {
    use super::*;
    use schakel_core::domain::events::ChildRef;

    fn state() -> ChildState {
        let child: ChildRef = serde_json::from_value(serde_json::json!({
            "childKey": "ab".repeat(32),
            "birthDate": "2010-05-01",
            "birthDatePrecision": "day"
        }))
        .expect("a child");
        ChildState::new(&child)
    }

    #[test]
    fn children_sharing_a_prefix_are_each_found_in_key_order() {
        let mut c = Children::default();
        let mut a = [7u8; 32];
        let mut b = [7u8; 32];
        a[31] = 2;
        b[31] = 1; // same first 8 bytes, b sorts first
        let other = [9u8; 32];
        for k in [a, other, b] {
            c.get_or_insert_with(k, state);
        }
        assert_eq!(c.len(), 3);
        let mut keys = Vec::new();
        c.keys_with_prefix(prefix(&other), &mut keys);
        c.keys_with_prefix(prefix(&a), &mut keys);
        c.keys_with_prefix(prefix(&[1u8; 32]), &mut keys);
        assert_eq!(keys, vec![other, b, a]);
        // prefixes sort as the keys do
        assert!(prefix(&a) < prefix(&other));
        c.get_mut(&a).expect("a").wakeup = None;
        c.insert(b, state());
        assert_eq!(c.len(), 3, "insert replaces");
        assert!(c.get(&[1u8; 32]).is_none());
    }
}
