//! A vector without spare room, for the few facts and tracks of a child.

use serde::{Deserialize, Serialize};

/// A vector that holds exactly its elements (16 bytes when empty, no spare capacity): a child
/// has a handful of facts, and a region a million children.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Slim<T>(Box<[T]>);

impl<T> Default for Slim<T> {
    fn default() -> Self {
        Self(Box::default())
    }
}

impl<T> Slim<T> {
    pub fn push(&mut self, v: T) {
        let len = self.0.len();
        self.insert(len, v);
    }

    pub fn insert(&mut self, at: usize, v: T) {
        let mut vec = std::mem::take(&mut self.0).into_vec();
        vec.reserve_exact(1);
        vec.insert(at, v);
        self.0 = vec.into_boxed_slice();
    }
}

impl<'a, T> IntoIterator for &'a Slim<T> {
    type Item = &'a T;
    type IntoIter = std::slice::Iter<'a, T>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl<'a, T> IntoIterator for &'a mut Slim<T> {
    type Item = &'a mut T;
    type IntoIter = std::slice::IterMut<'a, T>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter_mut()
    }
}

impl<T> std::ops::Deref for Slim<T> {
    type Target = [T];
    fn deref(&self) -> &[T] {
        &self.0
    }
}

impl<T> std::ops::DerefMut for Slim<T> {
    fn deref_mut(&mut self) -> &mut [T] {
        &mut self.0
    }
}
