//! Reading typed values: an object's fields by name and type, required or
//! optional, unknown ones refused on request, with errors that name the
//! field, `calls.0.peer.uri: missing`.
//!
//! The rules are serde's for a derived `Deserialize`: a required field that
//! is missing or `null` is an error, an optional one (`Option`) may be
//! either, a field with a default ([`Object::bool_or`]) may be missing but
//! not `null`, a value of another type is an error (`1.0` is not an
//! integer), and a duplicate key is an error.
//!
//! The readers are methods, not generic over closures: a few small
//! functions in the wasm whatever the number of fields read.
//!
//! A format with many fields reads them without a `?` after each
//! ([`Object::keep`]): an object and the objects read from it share one
//! slot for the first error, later reads give defaults, and
//! [`Object::done`] returns that error. The error is the one the same reads
//! with `?` give; the code is a call per field rather than a branch and a
//! cleanup of what was read so far.
use std::cell::Cell;
use std::rc::Rc;

use crate::scan;

/// Why a text is not the value expected: where (a dotted field path, empty
/// for the whole value) and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadError {
    /// The field, `calls.0.state`; empty for the value itself.
    pub field: String,
    /// What is wrong with it.
    pub what: String,
}

/// A read value or why not (boxed: an error moves through every `?` of
/// the readers as one pointer, not as its two texts).
pub type Read<T> = Result<T, Box<ReadError>>;

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.field.is_empty() {
            true => f.write_str(&self.what),
            false => {
                f.write_str(&self.field)?;
                f.write_str(": ")?;
                f.write_str(&self.what)
            }
        }
    }
}

impl std::error::Error for ReadError {}

/// A JSON object's fields, read by name.
#[derive(Default)]
pub struct Object<'a> {
    fields: scan::Members<'a>,
    /// Where this object is in the text read (`calls.0`), for errors.
    path: String,
    /// The first error [`Object::keep`] met here or in an object read from
    /// this one.
    first: Rc<Cell<Option<Box<ReadError>>>>,
}

impl<'a> Object<'a> {
    /// Parse `text`, which must be one object (duplicate keys refused).
    pub fn parse(text: &'a str) -> Read<Object<'a>> {
        Object::at(text, String::new())
    }

    /// Field `k`'s object (path `path`), sharing this one's first error.
    fn child(&self, text: &'a str, path: String) -> Read<Object<'a>> {
        let mut o = Object::at(text, path)?;
        o.first = Rc::clone(&self.first);
        Ok(o)
    }

    fn at(text: &'a str, path: String) -> Read<Object<'a>> {
        match scan::fields(text) {
            Ok(fields) => Ok(Object { fields, path, first: Rc::default() }),
            Err(e) => {
                let what = match scan::trim_start(text).starts_with('{') {
                    true => e.message(),
                    false => String::from("not an object"),
                };
                Err(Box::new(ReadError { field: path, what }))
            }
        }
    }

    /// The path of field `k`.
    fn path(&self, k: &str) -> String {
        match self.path.is_empty() {
            true => k.to_owned(),
            false => {
                let mut path = self.path.clone();
                path.push('.');
                path.push_str(k);
                path
            }
        }
    }

    fn error(&self, k: &str, what: &str) -> Box<ReadError> {
        Box::new(ReadError { field: self.path(k), what: what.to_owned() })
    }

    /// The raw text of field `k`, if there is one.
    pub fn raw(&self, k: &str) -> Option<&'a str> {
        self.fields.iter().find(|(key, _)| key == k).map(|(_, v)| *v)
    }

    /// Field `k` unless missing or `null`; an error then if `required`.
    fn value(&self, k: &str, required: bool) -> Read<Option<&'a str>> {
        match self.raw(k) {
            None | Some("null") if required => Err(self.error(k, "missing")),
            None | Some("null") => Ok(None),
            Some(v) => Ok(Some(v)),
        }
    }

    /// Refuse any field not named in `known`.
    pub fn only(&self, known: &[&str]) -> Read<()> {
        match self.fields.iter().find(|(k, _)| !known.contains(&k.as_ref())) {
            Some((k, _)) => Err(self.error(k, "unknown field")),
            None => Ok(()),
        }
    }

    /// A string, or `None` when missing or `null` (then an error if
    /// `required`): [`Object::str`] and [`Object::opt_str`] in one (a
    /// caller that reads both keeps one copy of [`Object::keep`]).
    pub fn string_at(&self, k: &str, required: bool) -> Read<Option<String>> {
        match self.value(k, required)? {
            None => Ok(None),
            Some(v) => {
                scan::as_str(v).map(|s| Some(s.into_owned())).ok_or_else(|| self.error(k, "not a string"))
            }
        }
    }

    /// A string.
    pub fn str(&self, k: &str) -> Read<String> {
        Ok(self.string_at(k, true)?.unwrap_or_default())
    }

    /// A string, or `None` (missing or `null`).
    pub fn opt_str(&self, k: &str) -> Read<Option<String>> {
        self.string_at(k, false)
    }

    /// An unsigned integer at most `max`, or `None` when missing or `null`
    /// (then an error if `required`): [`Object::uint`] and
    /// [`Object::opt_uint`] in one, as [`Object::string_at`].
    pub fn uint_at(&self, k: &str, max: u64, required: bool) -> Read<Option<u64>> {
        match self.value(k, required)? {
            None => Ok(None),
            Some(v) => match scan::as_u64(v) {
                Some(n) if n <= max => Ok(Some(n)),
                _ => Err(self.error(k, "not an unsigned integer in range")),
            },
        }
    }

    /// An unsigned integer at most `max`: [`Object::num`] without a type
    /// (a caller that reads several integer types keeps one copy of it).
    pub fn uint(&self, k: &str, max: u64) -> Read<u64> {
        Ok(self.uint_at(k, max, true)?.unwrap_or_default())
    }

    /// An unsigned integer at most `max`, or `None` (missing or `null`):
    /// [`Object::opt_num`] without a type.
    pub fn opt_uint(&self, k: &str, max: u64) -> Read<Option<u64>> {
        self.uint_at(k, max, false)
    }

    /// An unsigned integer that fits `T` (`u16`, `u32`, `u64`).
    pub fn num<T: TryFrom<u64> + Into<u64> + Bounded>(&self, k: &str) -> Read<T> {
        self.uint(k, T::MAX.into()).map(fit)
    }

    /// An unsigned integer that fits `T`, or `None` (missing or `null`).
    pub fn opt_num<T: TryFrom<u64> + Into<u64> + Bounded>(&self, k: &str) -> Read<Option<T>> {
        Ok(self.opt_uint(k, T::MAX.into())?.map(fit))
    }

    /// `true` or `false`.
    pub fn bool(&self, k: &str) -> Read<bool> {
        let v = self.value(k, true)?.unwrap_or_default();
        scan::as_bool(v).ok_or_else(|| self.error(k, "not a boolean"))
    }

    /// `true` or `false`, `default` when missing (but not when `null`).
    pub fn bool_or(&self, k: &str, default: bool) -> Read<bool> {
        match self.raw(k) {
            None => Ok(default),
            Some(v) => scan::as_bool(v).ok_or_else(|| self.error(k, "not a boolean")),
        }
    }

    /// A string that is one of `names`: its index there.
    pub fn name(&self, k: &str, names: &[&str]) -> Read<usize> {
        Ok(self.name_at(k, names, true)?.unwrap_or_default())
    }

    /// A name of `names` (its index), or `None` (missing or `null`).
    pub fn opt_name(&self, k: &str, names: &[&str]) -> Read<Option<usize>> {
        self.name_at(k, names, false)
    }

    /// A name of `names` (its index), or `None` when missing or `null`
    /// (then an error if `required`): [`Object::name`] and
    /// [`Object::opt_name`] in one, as [`Object::string_at`].
    pub fn name_at(&self, k: &str, names: &[&str], required: bool) -> Read<Option<usize>> {
        let Some(s) = self.string_at(k, required)? else { return Ok(None) };
        match names.iter().position(|n| *n == s) {
            Some(i) => Ok(Some(i)),
            None => Err(self.error(k, &format!("unknown value \"{s}\""))),
        }
    }

    /// An object.
    pub fn obj(&self, k: &str) -> Read<Object<'a>> {
        Ok(self.obj_at(k, true)?.unwrap_or_default())
    }

    /// An object, or `None` (missing or `null`).
    pub fn opt_obj(&self, k: &str) -> Read<Option<Object<'a>>> {
        self.obj_at(k, false)
    }

    /// An object, or `None` when missing or `null` (then an error if
    /// `required`): [`Object::obj`] and [`Object::opt_obj`] in one, as
    /// [`Object::string_at`].
    pub fn obj_at(&self, k: &str, required: bool) -> Read<Option<Object<'a>>> {
        match self.value(k, required)? {
            None => Ok(None),
            Some(v) => self.child(v, self.path(k)).map(Some),
        }
    }

    /// The items (empty keys) of array `k`.
    fn items(&self, k: &str) -> Read<scan::Members<'a>> {
        let v = self.value(k, true)?.unwrap_or_default();
        scan::members(v, b'[').map_err(|_| self.error(k, "not an array"))
    }

    /// An array of objects.
    pub fn objects(&self, k: &str) -> Read<Vec<Object<'a>>> {
        let mut out = Vec::new();
        let items = self.items(k)?;
        for (i, (_, item)) in items.iter().enumerate() {
            let mut path = self.path(k);
            path.push('.');
            crate::push_u64(&mut path, i as u64);
            out.push(self.child(item, path)?);
        }
        Ok(out)
    }

    /// An array of strings.
    pub fn strings(&self, k: &str) -> Read<Vec<String>> {
        let items = self.items(k)?;
        let mut strings = Vec::with_capacity(items.len());
        for (_, item) in &items {
            match scan::as_str(item) {
                Some(s) => strings.push(s.into_owned()),
                None => return Err(self.error(k, "not an array of strings")),
            }
        }
        Ok(strings)
    }

    /// The value read, or the type's default after noting the error (the
    /// first one counts, see [`Object::done`]): `o.keep(o.str("id"))`.
    pub fn keep<T: Default>(&self, read: Read<T>) -> T {
        read.unwrap_or_else(|e| {
            self.note(e);
            T::default()
        })
    }

    /// Note `e` unless an error was noted before (here or in the object this
    /// one was read from, or one read from it).
    pub fn fail(&self, e: ReadError) {
        self.note(Box::new(e));
    }

    #[inline(never)]
    fn note(&self, e: Box<ReadError>) {
        let first = self.first.take();
        self.first.set(Some(first.unwrap_or(e)));
    }

    /// Whether an error was noted (the tests look; readers end with `done`).
    #[cfg(test)]
    fn failed(&self) -> bool {
        let first = self.first.take();
        let failed = first.is_some();
        self.first.set(first);
        failed
    }

    /// `value`, or the first error noted (taken: the slot is empty after).
    pub fn done<T>(&self, value: T) -> Read<T> {
        match self.first.take() {
            Some(e) => Err(e),
            None => Ok(value),
        }
    }
}

/// `n` as a `T`: [`Object::uint_at`] checked that it is at most `T::MAX`
/// (the generic part of the readers stays this small).
pub fn fit<T: TryFrom<u64> + Bounded>(n: u64) -> T {
    T::try_from(n).unwrap_or(T::MAX)
}

/// The unsigned integer types [`Object::num`] reads.
pub trait Bounded {
    /// The largest value.
    const MAX: Self;
}

impl Bounded for u16 {
    const MAX: u16 = u16::MAX;
}

impl Bounded for u32 {
    const MAX: u32 = u32::MAX;
}

impl Bounded for u64 {
    const MAX: u64 = u64::MAX;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq)]
    struct Peer {
        uri: String,
        name: Option<String>,
    }

    fn peers(text: &str) -> Read<Vec<Peer>> {
        let o = Object::parse(text)?;
        o.only(&["peers", "n"])?;
        let peers = o.objects("peers")?;
        peers.iter().map(|p| Ok(Peer { uri: p.str("uri")?, name: p.opt_str("name")? })).collect()
    }

    fn message(text: &str) -> String {
        peers(text).unwrap_err().to_string()
    }

    #[test]
    fn fields_by_name_with_paths_in_errors() {
        let p = peers(r#"{"peers":[{"uri":"a","name":null},{"uri":"b","name":"B","x":1}]}"#).unwrap();
        assert_eq!(p[1], Peer { uri: "b".into(), name: Some("B".into()) });
        assert_eq!(p[0].name, None);
        assert_eq!(message(r#"{"peers":[{"uri":"a"},{"name":"B"}]}"#), "peers.1.uri: missing");
        assert_eq!(message(r#"{"peers":[{"uri":null}]}"#), "peers.0.uri: missing");
        assert_eq!(message(r#"{"peers":[{"uri":1}]}"#), "peers.0.uri: not a string");
        assert_eq!(message(r#"{"peers":[1]}"#), "peers.0: not an object");
        assert_eq!(message(r#"{"peers":{}}"#), "peers: not an array");
        assert_eq!(message(r#"{"peers":[],"m":1}"#), "m: unknown field");
        assert_eq!(message(r#"{"peers":[]"#), "expected ',' or '}' at byte 11");
        assert_eq!(message("[]"), "not an object");
    }

    #[test]
    fn scalars_by_type_and_range() {
        let o = Object::parse(
            r#"{"a":65535,"b":65536,"c":-1,"d":1.0,"e":1e2,"f":"1","g":true,"h":null,"m":18446744073709551615}"#,
        )
        .unwrap();
        assert_eq!(o.num::<u16>("a"), Ok(65535));
        for k in ["b", "c", "d", "e", "f", "g"] {
            assert_eq!(o.num::<u16>(k).unwrap_err().what, "not an unsigned integer in range", "{k}");
        }
        assert_eq!(o.num::<u32>("b"), Ok(65536));
        assert_eq!(o.num::<u64>("m"), Ok(u64::MAX));
        assert_eq!(o.opt_num::<u16>("h"), Ok(None));
        assert_eq!(o.opt_num::<u16>("zz"), Ok(None));
        assert_eq!(o.num::<u16>("h").unwrap_err().what, "missing");
        assert_eq!(o.bool("g"), Ok(true));
        assert_eq!(o.bool("a").unwrap_err().what, "not a boolean");
        assert_eq!(o.bool_or("zz", true), Ok(true));
        assert_eq!(o.bool_or("h", false).unwrap_err().to_string(), "h: not a boolean");
        let o = Object::parse(r#"{"s":"b","t":"c","l":["x","y"],"n":[1]}"#).unwrap();
        assert_eq!(o.name("s", &["a", "b"]), Ok(1));
        assert_eq!(o.name("t", &["a", "b"]).unwrap_err().to_string(), "t: unknown value \"c\"");
        assert_eq!(o.opt_name("u", &["a"]), Ok(None));
        assert_eq!(o.strings("l"), Ok(vec!["x".to_string(), "y".to_string()]));
        assert_eq!(o.strings("n").unwrap_err().what, "not an array of strings");
    }

    #[test]
    fn kept_reads_report_the_first_error_also_from_inner_objects() {
        let o = Object::parse(r#"{"a":"x","p":[{"u":1}],"n":2}"#).unwrap();
        assert_eq!(o.keep(o.str("a")), "x");
        assert!(!o.failed());
        let inner = o.keep(o.objects("p"));
        assert_eq!(inner[0].keep(inner[0].str("u")), "");
        assert_eq!(o.keep(o.str("zz")), "");
        assert!(o.failed());
        assert_eq!(o.keep(o.num::<u16>("n")), 2);
        assert_eq!(o.done(()).unwrap_err().to_string(), "p.0.u: not a string");
        let o = Object::parse(r#"{"a":"x"}"#).unwrap();
        o.fail(ReadError { field: "a".into(), what: "too short".into() });
        assert_eq!(o.keep(o.str("b")), "");
        assert_eq!(o.done(1).unwrap_err().to_string(), "a: too short");
    }
}
