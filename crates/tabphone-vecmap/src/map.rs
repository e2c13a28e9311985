//! [`VecMap`]: a map kept as a sorted `Vec`.

use std::borrow::Borrow;
use std::cmp::Ordering;

/// A sorted-vector map: `BTreeMap`'s answers (entries in key order).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VecMap<K, V> {
    items: Vec<(K, V)>,
}

impl<K, V> Default for VecMap<K, V> {
    fn default() -> Self {
        VecMap { items: Vec::new() }
    }
}

impl<K: Ord, V> VecMap<K, V> {
    /// An empty map.
    pub fn new() -> Self {
        VecMap { items: Vec::new() }
    }

    fn find<Q: Ord + ?Sized>(&self, k: &Q) -> Result<usize, usize>
    where
        K: Borrow<Q>,
    {
        search(self.items.len(), &Probe { items: &self.items, k })
    }

    /// Insert, returning the old value.
    pub fn insert(&mut self, k: K, v: V) -> Option<V> {
        match self.find(&k) {
            Ok(i) => Some(std::mem::replace(&mut self.items[i].1, v)),
            Err(i) => {
                self.items.insert(i, (k, v));
                None
            }
        }
    }

    /// The value at `k`, inserted with `f()` first if there is none
    /// (`entry(k).or_insert_with(f)` of a `BTreeMap`).
    pub fn get_or_insert_with(&mut self, k: K, f: impl FnOnce() -> V) -> &mut V {
        let i = match self.find(&k) {
            Ok(i) => i,
            Err(i) => {
                self.items.insert(i, (k, f()));
                i
            }
        };
        &mut self.items[i].1
    }

    /// The value at `k`.
    pub fn get<Q: Ord + ?Sized>(&self, k: &Q) -> Option<&V>
    where
        K: Borrow<Q>,
    {
        self.find(k).ok().map(|i| &self.items[i].1)
    }

    /// The value at `k`, mutably.
    pub fn get_mut<Q: Ord + ?Sized>(&mut self, k: &Q) -> Option<&mut V>
    where
        K: Borrow<Q>,
    {
        self.find(k).ok().map(|i| &mut self.items[i].1)
    }

    /// Is `k` there?
    pub fn contains_key<Q: Ord + ?Sized>(&self, k: &Q) -> bool
    where
        K: Borrow<Q>,
    {
        self.find(k).is_ok()
    }

    /// Remove `k`, returning its value.
    pub fn remove<Q: Ord + ?Sized>(&mut self, k: &Q) -> Option<V>
    where
        K: Borrow<Q>,
    {
        self.find(k).ok().map(|i| self.items.remove(i).1)
    }

    /// Entries in key order.
    pub fn iter(&self) -> impl Iterator<Item = (&K, &V)> {
        self.items.iter().map(|(k, v)| (k, v))
    }

    /// Entries in key order, values mutably.
    pub fn iter_mut(&mut self) -> impl Iterator<Item = (&K, &mut V)> {
        self.items.iter_mut().map(|(k, v)| (&*k, v))
    }

    /// Keys in order.
    pub fn keys(&self) -> impl Iterator<Item = &K> {
        self.items.iter().map(|(k, _)| k)
    }

    /// Values in key order.
    pub fn values(&self) -> impl Iterator<Item = &V> {
        self.items.iter().map(|(_, v)| v)
    }

    /// Values in key order, mutably.
    pub fn values_mut(&mut self) -> impl Iterator<Item = &mut V> {
        self.items.iter_mut().map(|(_, v)| v)
    }

    /// The keys in order, consuming the map.
    pub fn into_keys(self) -> impl Iterator<Item = K> {
        self.items.into_iter().map(|(k, _)| k)
    }

    /// The values in key order, consuming the map.
    pub fn into_values(self) -> impl Iterator<Item = V> {
        self.items.into_iter().map(|(_, v)| v)
    }

    /// The entry with the smallest key.
    pub fn first(&self) -> Option<(&K, &V)> {
        self.items.first().map(|(k, v)| (k, v))
    }

    /// Remove and return the entry with the smallest key.
    pub fn pop_first(&mut self) -> Option<(K, V)> {
        (!self.items.is_empty()).then(|| self.items.remove(0))
    }

    /// Keep the entries for which `f` is true.
    /// (A plain loop: `Vec::retain_mut`'s copy per closure is larger.)
    pub fn retain(&mut self, mut f: impl FnMut(&K, &mut V) -> bool) {
        let mut i = 0;
        while i < self.items.len() {
            let (k, v) = &mut self.items[i];
            match f(k, v) {
                true => i += 1,
                false => drop(self.items.remove(i)),
            }
        }
    }

    /// Remove every entry.
    pub fn clear(&mut self) {
        self.items.clear();
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// No entries?
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

/// A key looked for among a map's entries: orders entry `i`'s key against it.
/// A trait of its own, not `dyn Fn`: a closure's vtable adds a `call_once`
/// shim per map type.
trait KeyOrder {
    fn order(&self, i: usize) -> Ordering;
}

struct Probe<'a, K, V, Q: ?Sized> {
    items: &'a [(K, V)],
    k: &'a Q,
}

impl<K: Borrow<Q>, V, Q: Ord + ?Sized> KeyOrder for Probe<'_, K, V, Q> {
    fn order(&self, i: usize) -> Ordering {
        self.items[i].0.borrow().cmp(self.k)
    }
}

/// Where the key is among `len` sorted unique keys, `key.order(i)` ordering
/// key `i` against it: `Ok(i)`, or `Err` with where it would go (as
/// `binary_search_by`). The last key is tried first: new keys are usually
/// the largest. Not generic, so one copy serves every map type.
#[inline(never)]
fn search(len: usize, key: &dyn KeyOrder) -> Result<usize, usize> {
    if len == 0 || key.order(len - 1) == Ordering::Less {
        return Err(len);
    }
    let (mut lo, mut hi) = (0, len);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        match key.order(mid) {
            Ordering::Less => lo = mid + 1,
            Ordering::Greater => hi = mid,
            Ordering::Equal => return Ok(mid),
        }
    }
    Err(lo)
}

impl<K: Ord, V> IntoIterator for VecMap<K, V> {
    type Item = (K, V);
    type IntoIter = std::vec::IntoIter<(K, V)>;

    /// Entries in key order.
    fn into_iter(self) -> Self::IntoIter {
        self.items.into_iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    proptest! {
        /// Same answers as a BTreeMap under random operations.
        #[test]
        fn behaves_like_btreemap(ops in prop::collection::vec((0u8..5, 0u16..64, any::<u32>()), 0..200)) {
            let mut a = VecMap::new();
            let mut b = BTreeMap::new();
            for (op, k, v) in ops {
                match op {
                    0 => prop_assert_eq!(a.insert(k, v), b.insert(k, v)),
                    1 => prop_assert_eq!(a.remove(&k), b.remove(&k)),
                    2 => prop_assert_eq!(a.pop_first(), b.pop_first()),
                    3 => {
                        if let (Some(x), Some(y)) = (a.get_mut(&k), b.get_mut(&k)) {
                            *x = x.wrapping_add(v);
                            *y = y.wrapping_add(v);
                        }
                    }
                    _ => {
                        a.retain(|k, _| k % 3 != 0);
                        b.retain(|k, _| k % 3 != 0);
                    }
                }
                prop_assert_eq!(a.get(&k), b.get(&k));
                prop_assert_eq!(a.contains_key(&k), b.contains_key(&k));
                prop_assert_eq!(a.len(), b.len());
                prop_assert!(a.iter().map(|(k, v)| (*k, *v)).eq(b.iter().map(|(k, v)| (*k, *v))));
            }
        }
    }

    #[test]
    fn string_keys_are_found_by_str() {
        let mut m = VecMap::new();
        m.insert(String::from("b"), 2);
        m.insert(String::from("a"), 1);
        assert_eq!(m.get("a"), Some(&1));
        *m.get_or_insert_with(String::from("c"), || 3) += 1;
        *m.get_or_insert_with(String::from("a"), || 9) += 1;
        assert_eq!(m.remove("c"), Some(4));
        assert_eq!(m.get("a"), Some(&2));
        assert_eq!(m.remove("b"), Some(2));
        assert_eq!(m.keys().collect::<Vec<_>>(), ["a"]);
        m.clear();
        assert!(m.is_empty());
    }
}
