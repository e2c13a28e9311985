//! [`VecSet`]: a set kept as a sorted `Vec`.

use std::borrow::Borrow;

use crate::VecMap;

/// A sorted-vector set: `BTreeSet`'s answers (items in order).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VecSet<T> {
    map: VecMap<T, ()>,
}

impl<T> Default for VecSet<T> {
    fn default() -> Self {
        VecSet { map: VecMap::default() }
    }
}

impl<T: Ord> VecSet<T> {
    /// An empty set.
    pub fn new() -> Self {
        VecSet { map: VecMap::new() }
    }

    /// Add `t`; false if it was there.
    pub fn insert(&mut self, t: T) -> bool {
        self.map.insert(t, ()).is_none()
    }

    /// Remove `t`; false if it was not there.
    pub fn remove<Q: Ord + ?Sized>(&mut self, t: &Q) -> bool
    where
        T: Borrow<Q>,
    {
        self.map.remove(t).is_some()
    }

    /// Is `t` there?
    pub fn contains<Q: Ord + ?Sized>(&self, t: &Q) -> bool
    where
        T: Borrow<Q>,
    {
        self.map.contains_key(t)
    }

    /// Items in order.
    pub fn iter(&self) -> impl Iterator<Item = &T> {
        self.map.keys()
    }

    /// Remove every item.
    pub fn clear(&mut self) {
        self.map.clear();
    }

    /// Number of items.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// No items?
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
}

impl<T: Ord> IntoIterator for VecSet<T> {
    type Item = T;
    type IntoIter = std::iter::Map<std::vec::IntoIter<(T, ())>, fn((T, ())) -> T>;

    /// Items in order.
    fn into_iter(self) -> Self::IntoIter {
        self.map.into_iter().map(|(t, ())| t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeSet;

    proptest! {
        /// Same answers as a BTreeSet under random operations.
        #[test]
        fn behaves_like_btreeset(ops in prop::collection::vec((any::<bool>(), 0u16..64), 0..200)) {
            let mut a = VecSet::new();
            let mut b = BTreeSet::new();
            for (add, t) in ops {
                match add {
                    true => prop_assert_eq!(a.insert(t), b.insert(t)),
                    false => prop_assert_eq!(a.remove(&t), b.remove(&t)),
                }
                prop_assert_eq!(a.contains(&t), b.contains(&t));
                prop_assert!(a.iter().eq(b.iter()));
            }
        }
    }
}
