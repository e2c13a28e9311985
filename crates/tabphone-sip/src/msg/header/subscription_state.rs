//! `Subscription-State: substate-value *(;params)` (RFC 6665 8.2.3), as a
//! NOTIFY for a REFER carries it (RFC 3515).

use super::super::lex::{err, param, parse_params, push_u64, trim_space};
use super::super::ParseError;
use crate::msg::find_byte;
use tabphone_json::quote;

/// A Subscription-State value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SubscriptionState {
    /// `active;expires=N`.
    Active {
        /// Seconds left, if said.
        expires: Option<u32>,
    },
    /// `pending;expires=N`.
    Pending {
        /// Seconds left, if said.
        expires: Option<u32>,
    },
    /// `terminated;reason=...`.
    Terminated {
        /// Why (`noresource`, `timeout`, ...), if said.
        reason: Option<String>,
    },
}

impl SubscriptionState {
    /// Parse; unknown states are an error, unknown parameters are skipped.
    pub fn parse(v: &str) -> Result<SubscriptionState, ParseError> {
        let (state, rest) = v.split_at(find_byte(v, b';').unwrap_or(v.len()));
        let params = parse_params(rest)?;
        let expires = || param(&params, "expires").flatten().and_then(crate::msg::parse_u32);
        match trim_space(state).to_ascii_lowercase().as_str() {
            "active" => Ok(SubscriptionState::Active { expires: expires() }),
            "pending" => Ok(SubscriptionState::Pending { expires: expires() }),
            "terminated" => Ok(SubscriptionState::Terminated {
                reason: param(&params, "reason").flatten().map(str::to_string),
            }),
            other => Err(err(format!("unknown subscription state {}", quote(other)))),
        }
    }
}

impl SubscriptionState {
    /// `state[;expires=N|;reason=R]` (its `Display`, without `core::fmt`).
    pub(crate) fn text(&self) -> String {
        let mut out = String::new();
        match self {
            SubscriptionState::Active { expires } | SubscriptionState::Pending { expires } => {
                out.push_str(if matches!(self, SubscriptionState::Active { .. }) {
                    "active"
                } else {
                    "pending"
                });
                if let Some(e) = expires {
                    out.push_str(";expires=");
                    push_u64(&mut out, (*e).into());
                }
            }
            SubscriptionState::Terminated { reason } => {
                out.push_str("terminated");
                if let Some(r) = reason {
                    out.push_str(";reason=");
                    out.push_str(r);
                }
            }
        }
        out
    }
}

impl std::fmt::Display for SubscriptionState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subscription_state_forms() {
        for (text, state) in [
            ("active;expires=60", SubscriptionState::Active { expires: Some(60) }),
            ("pending", SubscriptionState::Pending { expires: None }),
            (
                "terminated;reason=noresource",
                SubscriptionState::Terminated { reason: Some("noresource".into()) },
            ),
        ] {
            assert_eq!(SubscriptionState::parse(text).unwrap(), state);
            assert_eq!(state.to_string(), text);
        }
        assert_eq!(
            SubscriptionState::parse("Terminated ; retry-after=5").unwrap(),
            SubscriptionState::Terminated { reason: None }
        );
        assert!(SubscriptionState::parse("gone").is_err());
    }
}
