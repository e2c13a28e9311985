//! Error codes on the wire and in action results, and parse failures.

/// Why a message was refused or an action failed. On the wire, in `error`
/// messages and in `{code, message}` error values, each is its snake-case name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
// A C int as the tag, not one byte: less code to read and compare it
// (measured in the shipped wasm).
#[repr(C)]
pub enum ErrorCode {
    /// Not JSON, or not an object of a known shape.
    Malformed,
    /// A `t` the worker does not know.
    UnknownType,
    /// Over the size limit.
    TooLarge,
    /// Protocol version not spoken.
    Version,
    /// A message other than `hello` before `hello`.
    NotJoined,
    /// `sync` or `result` from a tab that is not the current real.
    NotReal,
    /// The action waited longer than the action timeout.
    Timeout,
    /// The real went away before answering.
    RealGone,
    /// Too many actions waiting for a real.
    QueueFull,
    /// The worker died, or could not start, before the action was answered (tab side).
    WorkerGone,
    /// The real's action handler threw or rejected with an `Error` (tab side).
    HandlerError,
    /// The real tab has no action handler (tab side).
    NoHandler,
    /// The worker sent something the tab cannot read (tab side, in error events).
    BadWorkerMessage,
}

const CODES: [(ErrorCode, &str); 13] = [
    (ErrorCode::Malformed, "malformed"),
    (ErrorCode::UnknownType, "unknown_type"),
    (ErrorCode::TooLarge, "too_large"),
    (ErrorCode::Version, "version"),
    (ErrorCode::NotJoined, "not_joined"),
    (ErrorCode::NotReal, "not_real"),
    (ErrorCode::Timeout, "timeout"),
    (ErrorCode::RealGone, "real_gone"),
    (ErrorCode::QueueFull, "queue_full"),
    (ErrorCode::WorkerGone, "worker_gone"),
    (ErrorCode::HandlerError, "handler_error"),
    (ErrorCode::NoHandler, "no_handler"),
    (ErrorCode::BadWorkerMessage, "bad_worker_message"),
];

impl ErrorCode {
    /// The snake-case name used on the wire.
    pub fn as_str(self) -> &'static str {
        // Every variant is in CODES (the test below checks it).
        CODES.iter().find(|(c, _)| *c == self).map_or("malformed", |(_, s)| s)
    }

    /// The code named `s`.
    pub fn parse(s: &str) -> Option<ErrorCode> {
        CODES.iter().find(|(_, name)| *name == s).map(|(c, _)| *c)
    }
}

/// Why a message could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// [`ErrorCode::Malformed`] or [`ErrorCode::UnknownType`].
    pub code: ErrorCode,
    /// What was wrong.
    pub message: String,
    /// The action id, when the text was an action with a readable id.
    pub id: Option<u64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_has_its_own_name() {
        for (code, name) in CODES {
            assert_eq!(code.as_str(), name);
            assert_eq!(ErrorCode::parse(name), Some(code));
        }
        let mut names: Vec<&str> = CODES.iter().map(|(_, n)| *n).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), CODES.len());
    }
}
