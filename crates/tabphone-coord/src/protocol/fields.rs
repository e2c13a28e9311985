//! The top-level fields of one message, read by name, with typed accessors
//! whose failures say which field of which message was wrong.
//!
//! A failed read gives [`Bad`] and keeps its error in the [`Fields`]
//! ([`Fields::error`]): a message's parser passes on only `Bad` with `?`,
//! which costs a branch where a whole [`ParseError`] costs a copy.
use std::borrow::Cow;
use std::cell::Cell;

use super::{ErrorCode, ParseError};
use crate::json;

pub(super) struct Fields<'a> {
    pub t: Cow<'a, str>,
    all: Vec<(Cow<'a, str>, &'a str)>,
    id: Option<u64>,
    error: Cell<Option<ParseError>>,
}

/// What [`Fields::bad`] says of a field of the wrong type.
pub(super) const WRONG_TYPE: &str = "of the wrong type";

/// A read failed; the error is in the [`Fields`] that was read (made only
/// by [`Fields::fail`], which keeps it there).
#[derive(Debug)]
pub(super) struct Bad(());

fn malformed(e: json::JsonError) -> ParseError {
    ParseError { code: ErrorCode::Malformed, message: e.message(), id: None }
}

impl<'a> Fields<'a> {
    /// A message: an object with a string field `t`.
    pub fn parse(text: &'a str) -> Result<Fields<'a>, ParseError> {
        let mut f = Fields::nested(text, "")?;
        f.id = f.raw("id").and_then(json::as_u64);
        f.t = f.raw("t").and_then(json::as_str).ok_or_else(|| ParseError {
            code: ErrorCode::Malformed,
            message: String::from("no string field \"t\""),
            id: f.id,
        })?;
        Ok(f)
    }

    /// An object nested in a message, named `what` in error messages.
    pub fn nested(text: &'a str, what: &'static str) -> Result<Fields<'a>, ParseError> {
        let all = json::fields(text).map_err(malformed)?;
        Ok(Fields { t: Cow::Borrowed(what), all, id: None, error: Cell::new(None) })
    }

    pub fn raw(&self, k: &str) -> Option<&'a str> {
        self.all.iter().find(|(key, _)| key == k).map(|(_, v)| *v)
    }

    /// A field that must be there and have the right type.
    /// (Read a text by `json::as_str` and map it after: a closure per field
    /// would cost the wasm a copy of this and [`Fields::opt`] each.)
    pub fn need<T>(&self, k: &str, read: impl Fn(&'a str) -> Option<T>) -> Result<T, Bad> {
        self.opt(k, read)?.ok_or_else(|| self.bad(k, "missing"))
    }

    /// A field that may be missing or null, but not of the wrong type.
    pub fn opt<T>(&self, k: &str, read: impl Fn(&'a str) -> Option<T>) -> Result<Option<T>, Bad> {
        match self.raw(k) {
            None | Some("null") => Ok(None),
            Some(v) => read(v).map(Some).ok_or_else(|| self.bad(k, WRONG_TYPE)),
        }
    }

    pub fn flag(&self, k: &str) -> Result<bool, Bad> {
        Ok(self.opt(k, json::as_bool)?.unwrap_or(false))
    }

    /// A number that may be missing (then 0).
    pub fn count(&self, k: &str) -> Result<u64, Bad> {
        Ok(self.opt(k, json::as_u64)?.unwrap_or(0))
    }

    /// Raw JSON text of a field, `None` when missing or null (any value is
    /// of the right type: no error, no copy of [`Fields::opt`]).
    pub fn any(&self, k: &str) -> Option<&'a str> {
        self.raw(k).filter(|v| *v != "null")
    }

    /// Raw JSON text of a field; a missing field reads as `null`.
    pub fn value(&self, k: &str) -> &'a str {
        self.raw(k).unwrap_or("null")
    }

    pub fn bad(&self, k: &str, what: &str) -> Bad {
        self.fail(ParseError {
            code: ErrorCode::Malformed,
            message: format!("\"{}\" message with field \"{k}\" {what}", self.t),
            id: self.id,
        })
    }

    pub fn unknown(&self) -> Bad {
        self.fail(ParseError {
            code: ErrorCode::UnknownType,
            message: format!("unknown message type \"{}\"", self.t),
            id: None,
        })
    }

    /// Keep `e` as this message's error.
    pub fn fail(&self, e: ParseError) -> Bad {
        self.error.set(Some(e));
        Bad(())
    }

    /// The error a read gave [`Bad`] for (always kept: see [`Bad`]).
    pub fn error(&self) -> ParseError {
        self.error.take().unwrap_or_else(|| ParseError {
            code: ErrorCode::Malformed,
            message: String::new(),
            id: self.id,
        })
    }
}
