//! PostgreSQL specifics: migrations and JSON access (profiles are JSON text).

/// The migrations, by version (the same numbers as SQLite's; a test checks).
pub(crate) const MIGRATIONS: &[(i64, &str, &str)] = &[
    (1, "init", include_str!("../migrations/postgres/0001_init.sql")),
    (2, "sessions", include_str!("../migrations/postgres/0002_sessions.sql")),
    (4, "factors", include_str!("../migrations/postgres/0004_factors.sql")),
];

pub(crate) fn json_text(column: &str, key: &str) -> String {
    format!("({column}::jsonb ->> '{key}')")
}
