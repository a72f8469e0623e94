//! idhub's domain: the vocabulary every surface shares (orgs, users, groups, lifecycle,
//! profile schema, system-log events) and the rules that govern it. Nothing here knows
//! about HTTP or SQL; the store and the web layers translate to and from these types.

pub mod application;
pub mod error;
pub mod event;
pub mod expr;
pub mod filter;
pub mod group;
pub mod idp;
pub mod ids;
pub mod lifecycle;
pub mod password;
pub mod policy;
pub mod routing;
pub mod schema;
pub mod sealed;
pub mod text;
pub mod time;
pub mod user;

pub use error::DomainError;
