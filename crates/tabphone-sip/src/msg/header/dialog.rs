//! What a dialog takes from the message that creates or refreshes it
//! (RFC 3261 12.1): the remote target from the first Contact, the route set
//! from Record-Route.

use super::super::Headers;
use super::NameAddrRef;

/// Which side of the dialog-creating transaction we were (RFC 3261 12.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// We sent the request: Record-Route is read in reverse (12.1.2).
    Uac,
    /// We received it: Record-Route is read in order (12.1.1).
    Uas,
}

impl Headers {
    /// The URI of the first Contact, if it is a name-addr (not `*`).
    pub fn first_contact_uri(&self) -> Option<String> {
        // As `NameAddr::parse(..).uri`, without building its parameters.
        let first = self.list("Contact").next()?;
        NameAddrRef::scan(first).ok().map(|c| c.uri.to_string())
    }

    /// The route set a dialog takes from Record-Route, one entry per value.
    pub fn route_set(&self, role: Role) -> Vec<String> {
        let mut routes = Vec::new();
        for route in self.list("Record-Route") {
            routes.push(route.to_string());
        }
        if role == Role::Uac {
            routes.reverse();
        }
        routes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contact_and_route_set() {
        let mut h = Headers::default();
        h.push("Record-Route", "<sip:p1;lr>, <sip:p2;lr>");
        h.push("Record-Route", "<sip:p3;lr>");
        h.push("Contact", "\"B\" <sip:b@h;transport=ws>;expires=60, <sip:c@h>");
        assert_eq!(h.first_contact_uri().as_deref(), Some("sip:b@h;transport=ws"));
        assert_eq!(h.route_set(Role::Uas), ["<sip:p1;lr>", "<sip:p2;lr>", "<sip:p3;lr>"]);
        assert_eq!(h.route_set(Role::Uac), ["<sip:p3;lr>", "<sip:p2;lr>", "<sip:p1;lr>"]);
        let mut star = Headers::default();
        star.push("Contact", "*");
        assert_eq!(star.first_contact_uri(), None);
    }
}
