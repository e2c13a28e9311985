//! # tabphone-vecmap: sorted-vector maps and sets
//!
//! [`VecMap`] and [`VecSet`] answer like `BTreeMap` and `BTreeSet` (entries
//! in key order) and are what tabphone's SIP core and tab glue use for the
//! keyed tables whose order shows: the agent's calls and transactions, the
//! tab's call media. (A table whose keys are handed out in increasing order
//! or that holds a handful of entries, like the coordinator's tabs and
//! actions, the worker's ports, the tab core's waiting ids, the phone's
//! timers and media waits and the tab client's pending promises, is a plain
//! `Vec` in its owner: each map type costs its own copy of the map code.) They hold
//! a few dozen entries at most, where a sorted `Vec` is as fast as a B-tree,
//! and each one costs a fraction of the wasm: the B-tree node code,
//! instantiated for every key and value type, was an eighth of the tab's
//! wasm and a tenth of the worker's. Keys handed out in increasing order
//! (ids) are appended.
//!
//! ```
//! use tabphone_vecmap::{VecMap, VecSet};
//! let mut calls = VecMap::new();
//! calls.insert(String::from("b"), 2);
//! calls.insert(String::from("a"), 1);
//! assert_eq!(calls.get("a"), Some(&1));
//! assert_eq!(calls.keys().collect::<Vec<_>>(), ["a", "b"]);
//! let mut pending = VecSet::new();
//! assert!(pending.insert(7u64));
//! assert!(pending.contains(&7));
//! ```
//!
//! ## Layout
//! - `map.rs`: [`VecMap`]; `set.rs`: [`VecSet`]; each checked against the
//!   standard B-tree collection by a property test.

mod map;
mod set;

pub use map::VecMap;
pub use set::VecSet;
