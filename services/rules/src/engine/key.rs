//! A child's key in memory, and the children's table.

use hashbrown::HashTable;

use schakel_core::domain::ids::{hex, ChildKey};

use crate::state::ChildState;

/// A child's key in memory: the 32 bytes of its ChildKey.
pub type Key = [u8; 32];

/// The first 8 bytes of a key, big-endian: the hash of the children's table (ChildKeys are
/// HMAC outputs, so their first bytes are already a good hash).
pub fn prefix(k: &Key) -> u64 {
    u64::from_be_bytes(k[..8].try_into().expect("8 bytes"))
}

/// A child's place in the children's table: what the timer index keeps of a child.
pub(super) type Slot = u32;

/// Children per chunk of the slab: a full chunk is 4 096 (key, state) pairs, about half a
/// megabyte, and is never moved or grown again.
const CHUNK: usize = 4096;

/// Children by key. The keys and states live in a slab of fixed-size chunks, in the order the
/// children arrived (a child keeps its slot for the engine's life); the hash table holds only
/// slot numbers, hashed by the first 8 bytes of the key. A million children cost 4 bytes of
/// slot and 1 control byte per bucket, and no allocation of their own.
#[derive(Debug, Clone, Default)]
pub(super) struct Children {
    index: HashTable<Slot>,
    slab: Vec<Vec<(Key, ChildState)>>,
}

fn at(slab: &[Vec<(Key, ChildState)>], s: Slot) -> &(Key, ChildState) {
    let s = s as usize;
    &slab[s / CHUNK][s % CHUNK]
}

impl Children {
    pub fn len(&self) -> usize {
        self.index.len()
    }

    pub fn reserve(&mut self, n: usize) {
        let slab = &self.slab;
        self.index.reserve(n, |s| prefix(&at(slab, *s).0));
    }

    fn slot(&self, k: &Key) -> Option<Slot> {
        let slab = &self.slab;
        self.index
            .find(prefix(k), |s| at(slab, *s).0 == *k)
            .copied()
    }

    /// The child's key and state in `slot`.
    pub fn at_mut(&mut self, s: Slot) -> (&Key, &mut ChildState) {
        let s = s as usize;
        let (k, state) = &mut self.slab[s / CHUNK][s % CHUNK];
        (k, state)
    }

    pub fn key(&self, s: Slot) -> &Key {
        &at(&self.slab, s).0
    }

    pub fn get(&self, k: &Key) -> Option<&ChildState> {
        self.slot(k).map(|s| &at(&self.slab, s).1)
    }

    pub fn get_mut(&mut self, k: &Key) -> Option<&mut ChildState> {
        self.slot(k).map(|s| self.at_mut(s).1)
    }

    /// The child's slot and state, made by `new` when there is none.
    pub fn get_or_insert_with(
        &mut self,
        k: Key,
        new: impl FnOnce() -> ChildState,
    ) -> (Slot, &mut ChildState) {
        let s = match self.slot(&k) {
            Some(s) => s,
            None => self.push(k, new()),
        };
        (s, self.at_mut(s).1)
    }

    /// Adds a child that is not in the table.
    fn push(&mut self, k: Key, state: ChildState) -> Slot {
        let s = Slot::try_from(self.index.len()).expect("fewer than 4 billion children");
        match self.slab.last() {
            // the first chunk grows as it fills (an engine of a few children stays small)
            None => self.slab.push(Vec::new()),
            // later ones are made whole, so a chunk is never copied
            Some(c) if c.len() == CHUNK => self.slab.push(Vec::with_capacity(CHUNK)),
            Some(_) => {}
        }
        self.slab.last_mut().expect("a chunk").push((k, state));
        let slab = &self.slab;
        self.index
            .insert_unique(prefix(&k), s, |x| prefix(&at(slab, *x).0));
        s
    }

    /// `slots` without repeats, in the order of their children's keys: by the keys' first 8
    /// bytes, and by the whole key for the (rare) children sharing them.
    pub fn in_key_order(&self, slots: Vec<Slot>) -> impl Iterator<Item = Slot> + use<> {
        let mut order: Vec<(u64, Slot)> = slots
            .into_iter()
            .map(|s| (prefix(self.key(s)), s))
            .collect();
        order.sort_unstable_by(|a, b| a.0.cmp(&b.0).then_with(|| self.key(a.1).cmp(self.key(b.1))));
        order.dedup();
        order.into_iter().map(|(_, s)| s)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&Key, &ChildState)> {
        self.slab.iter().flatten().map(|(k, s)| (k, s))
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
    fn children_keep_their_slot_and_are_found_by_key() {
        let mut c = Children::default();
        let mut a = [7u8; 32];
        let mut b = [7u8; 32];
        a[31] = 2;
        b[31] = 1; // the same first 8 bytes: the same hash
        let other = [9u8; 32];
        let slots: Vec<Slot> = [a, other, b]
            .into_iter()
            .map(|k| c.get_or_insert_with(k, state).0)
            .collect();
        assert_eq!(slots, vec![0, 1, 2]);
        assert_eq!(c.len(), 3);
        assert_eq!(
            c.get_or_insert_with(b, || unreachable!()).0,
            2,
            "found, not made"
        );
        // in key order: b and a share their first 8 bytes, b's key is the lower
        let order: Vec<Slot> = c.in_key_order(vec![1, 0, 2, 0, 1]).collect();
        assert_eq!(order, vec![2, 0, 1]);
        for (s, k) in slots.iter().zip([a, other, b]) {
            assert_eq!(c.key(*s), &k);
            assert_eq!(c.at_mut(*s).0, &k);
        }
        c.get_mut(&a).expect("a").wakeup = Some(jiff::civil::date(2030, 1, 1));
        assert_eq!(
            c.get(&a).expect("a").wakeup,
            Some(jiff::civil::date(2030, 1, 1))
        );
        assert_eq!(c.get(&b).expect("b").wakeup, None);
        assert!(c.get(&[1u8; 32]).is_none());
    }

    #[test]
    fn the_slab_grows_by_whole_chunks_and_keeps_every_child() {
        let mut c = Children::default();
        let n = CHUNK * 2 + 3;
        let keys: Vec<Key> = (0..n)
            .map(|i| {
                let mut k = [0u8; 32];
                k[..8]
                    .copy_from_slice(&(i as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15).to_be_bytes());
                k
            })
            .collect();
        for k in &keys {
            c.get_or_insert_with(*k, state);
        }
        assert_eq!(c.len(), n);
        assert_eq!(c.slab.len(), 3);
        assert!(c.slab[..2].iter().all(|chunk| chunk.len() == CHUNK));
        assert!(keys.iter().all(|k| c.get(k).is_some()));
        let listed: Vec<Key> = c.iter().map(|(k, _)| *k).collect();
        assert_eq!(listed, keys, "in the order they arrived");
    }
}
