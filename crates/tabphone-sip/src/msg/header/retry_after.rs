//! `Retry-After: delta-seconds [comment] *(;params)` (RFC 3261 20.33).

use super::super::lex::{err, trim_space};
use super::super::ParseError;
use crate::msg::position_byte;
use tabphone_json::quote;

/// A Retry-After value: how long to wait, in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryAfter {
    /// Seconds.
    pub seconds: u64,
}

impl RetryAfter {
    /// Parse; the comment and parameters after the number are skipped.
    pub fn parse(v: &str) -> Result<RetryAfter, ParseError> {
        let end = position_byte(v, |b| matches!(b, b';' | b' ' | b'(')).unwrap_or(v.len());
        let number = trim_space(v.get(..end).unwrap_or_default());
        match number.parse::<u64>() {
            Ok(seconds) => Ok(RetryAfter { seconds }),
            Err(_) => Err(err(format!("Retry-After {} is not a number of seconds", quote(number)))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_forms() {
        assert_eq!(RetryAfter::parse("5").unwrap().seconds, 5);
        assert_eq!(RetryAfter::parse("18000;duration=3600").unwrap().seconds, 18000);
        assert_eq!(RetryAfter::parse("120 (I'm in a meeting)").unwrap().seconds, 120);
        assert!(RetryAfter::parse("soon").is_err());
    }
}
