//! Outbound connectors. [`okta::OktaClient`] speaks Okta's management API to a hub (an
//! idhub org or a real Okta org) for the Org2Org connector: it sends only the
//! documented forms, follows `Link` pagination, and classifies every failure so the
//! job queue knows whether to retry (network, 5xx, 429 with its reset time) or to
//! leave a Task (4xx), and so "Test API Credentials" can name the precise cause.
//! [`egress::Egress`] is the egress rule and the only HTTP client outbound code uses.

pub mod egress;
pub mod okta;
