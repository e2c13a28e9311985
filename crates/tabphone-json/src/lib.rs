//! # tabphone-json: the small JSON codec of tabphone's wasm
//!
//! The worker's wire protocol (`tabphone-coord`), the phone's shared state,
//! actions, events and errors (`tabphone-phone`) and the tab's glue read and
//! write JSON with this codec rather than serde: in the wasm, serde_json and
//! the derived code cost more than the phone itself (in the tab, about a
//! quarter of the code with its float formatting and B-tree maps).
//!
//! Reading keeps values as validated raw text until a typed reader takes
//! them ([`Object::str`], [`Object::num`], [`Object::objects`], ...); writing
//! builds objects and arrays field by field ([`Obj`], [`Arr`]). Numbers are
//! unsigned integers: no JSON tabphone writes or reads holds another kind.
//!
//! The tests check it against serde_json (`tests/oracle.rs`: the same texts
//! accepted and refused, the same strings decoded and written), and the
//! phone's formats against their serde description (`tabphone-phone`).
//!
//! ```
//! use tabphone_json::{Obj, Object};
//! let text = Obj::new().str("to", "bob").num("status", 486).end();
//! assert_eq!(text, r#"{"to":"bob","status":486}"#);
//! let o = Object::parse(&text).unwrap();
//! o.only(&["to", "status"]).unwrap();
//! assert_eq!(o.str("to").unwrap(), "bob");
//! assert_eq!(o.opt_num::<u16>("status").unwrap(), Some(486));
//! assert_eq!(o.str("from").unwrap_err().to_string(), "from: missing");
//! ```
//!
//! ## Layout
//! - `scan.rs`: syntax, an object's fields and an array's items as raw
//!   text, scalars; and the Unicode trims ([`trim`]) the phone shares.
//! - `read.rs`: typed reading with field paths in errors ([`Object`]).
//! - `write.rs`: escaped strings, [`Obj`] and [`Arr`].
//! - `tests/oracle.rs`: the differential test against serde_json.

mod read;
mod scan;
mod write;

pub use read::{fit, Bounded, Object, Read, ReadError};
pub use scan::{as_bool, as_str, as_u64, fields, items, trim, trim_end, trim_start, validate, JsonError};
pub use write::{lossy, push_hex, push_lossy, push_str, push_u64, quote, Arr, Obj};
