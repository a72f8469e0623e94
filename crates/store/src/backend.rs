//! Which database a store runs on, and the few SQL fragments that differ between them.

use crate::{postgres, sqlite};

/// The database behind a [`crate::Store`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// SQL that reads the text value of a top-level key of a JSON text column.
    /// `key` must already be validated as an attribute name (letters, digits, `_`).
    pub fn json_text(self, column: &str, key: &str) -> String {
        match self {
            Backend::Sqlite => sqlite::json_text(column, key),
            Backend::Postgres => postgres::json_text(column, key),
        }
    }

    /// The statement that leases ready jobs (see the backend modules).
    pub(crate) fn lease_jobs_sql(self) -> &'static str {
        match self {
            Backend::Sqlite => sqlite::LEASE_JOBS,
            Backend::Postgres => postgres::LEASE_JOBS,
        }
    }

    /// The database's name, for logs and the health page.
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}
