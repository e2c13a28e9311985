//! `Subscription-State: substate-value *(;params)` (RFC 6665 8.2.3), as a
//! NOTIFY for a REFER carries it (RFC 3515).

use super::super::lex::{err, param, parse_params};
use super::super::ParseError;
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
        let (state, rest) = v.find(';').map_or((v, ""), |i| (&v[..i], &v[i..]));
        let params = parse_params(rest)?;
        let expires = || param(&params, "expires").flatten().and_then(crate::msg::parse_int);
        match state.trim().to_ascii_lowercase().as_str() {
            "active" => Ok(SubscriptionState::Active { expires: expires() }),
            "pending" => Ok(SubscriptionState::Pending { expires: expires() }),
            "terminated" => Ok(SubscriptionState::Terminated {
                reason: param(&params, "reason").flatten().map(str::to_string),
            }),
            other => Err(err(format!("unknown subscription state {}", quote(other)))),
        }
    }
}

impl std::fmt::Display for SubscriptionState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (state, name, value) = match self {
            SubscriptionState::Active { expires } => ("active", "expires", expires.map(|e| e.to_string())),
            SubscriptionState::Pending { expires } => ("pending", "expires", expires.map(|e| e.to_string())),
            SubscriptionState::Terminated { reason } => ("terminated", "reason", reason.clone()),
        };
        f.write_str(state)?;
        match value {
            Some(v) => write!(f, ";{name}={v}"),
            None => Ok(()),
        }
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
