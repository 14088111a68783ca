//! A child's key in memory, and the hasher of the children's table.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use schakel_core::domain::ids::{hex, ChildKey};

use crate::state::ChildState;

/// A child's key in memory: the 32 bytes of its ChildKey.
pub type Key = [u8; 32];

/// ChildKeys are HMAC outputs, so their first bytes are already a good hash.
#[derive(Default, Clone, Copy)]
pub struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8).take(1) {
            let mut b = [0u8; 8];
            b[..chunk.len()].copy_from_slice(chunk);
            self.0 ^= u64::from_le_bytes(b);
        }
    }
    fn write_usize(&mut self, _: usize) {}
}

/// Children by key; the state is boxed so that the table's empty slots stay small.
pub(super) type Children = HashMap<Key, Box<ChildState>, BuildHasherDefault<KeyHasher>>;

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
