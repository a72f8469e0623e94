//! SQLite specifics: WAL, a single writer connection, read-only readers, JSON access.

use crate::{Result, StoreError};
use sqlx::any::AnyPoolOptions;
use sqlx::{AnyPool, Executor};
use std::time::Duration;

/// The migrations, by version.
pub(crate) const MIGRATIONS: &[(i64, &str, &str)] = &[
    (1, "init", include_str!("../migrations/sqlite/0001_init.sql")),
    (2, "sessions", include_str!("../migrations/sqlite/0002_sessions.sql")),
    (4, "factors", include_str!("../migrations/sqlite/0004_factors.sql")),
];

/// One writer pool (a single connection: SQLite has one writer at a time, and a single
/// connection means write transactions queue in the pool instead of failing with
/// SQLITE_BUSY) and a pool of read-only readers (WAL lets them run beside the writer).
pub(crate) async fn open_pools(path: &str) -> Result<(AnyPool, AnyPool)> {
    if path.is_empty() {
        return Err(StoreError::Config("empty SQLite path".into()));
    }
    let write = AnyPoolOptions::new()
        .max_connections(1)
        .acquire_timeout(Duration::from_secs(60))
        .after_connect(|conn, _| {
            Box::pin(async move {
                conn.execute("PRAGMA journal_mode=WAL").await?;
                conn.execute("PRAGMA synchronous=NORMAL").await?;
                conn.execute("PRAGMA busy_timeout=10000").await?;
                conn.execute("PRAGMA foreign_keys=ON").await?;
                Ok(())
            })
        })
        .connect(&format!("sqlite://{path}?mode=rwc"))
        .await?;
    // Make sure the file exists in WAL mode before readers open it.
    sqlx::query("SELECT 1").execute(&write).await?;
    let read = AnyPoolOptions::new()
        .max_connections(4)
        .acquire_timeout(Duration::from_secs(60))
        .after_connect(|conn, _| {
            Box::pin(async move {
                conn.execute("PRAGMA busy_timeout=10000").await?;
                Ok(())
            })
        })
        .connect(&format!("sqlite://{path}?mode=ro"))
        .await?;
    Ok((write, read))
}

pub(crate) fn json_text(column: &str, key: &str) -> String {
    format!("json_extract({column}, '$.\"{key}\"')")
}
