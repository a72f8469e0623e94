//! SQLite specifics: WAL, a single writer connection, read-only readers, JSON access.

use crate::{Result, StoreError};
use sqlx::any::AnyPoolOptions;
use sqlx::{AnyPool, Executor};
use std::time::Duration;

/// The migrations, by version.
pub(crate) const MIGRATIONS: &[(i64, &str, &str)] = &[
    (1, "init", include_str!("../migrations/sqlite/0001_init.sql")),
    (2, "sessions", include_str!("../migrations/sqlite/0002_sessions.sql")),
    (3, "applications", include_str!("../migrations/sqlite/0003_applications.sql")),
    (4, "factors", include_str!("../migrations/sqlite/0004_factors.sql")),
    (5, "jobs", include_str!("../migrations/sqlite/0005_jobs.sql")),
    (6, "connections", include_str!("../migrations/sqlite/0006_connections.sql")),
    (7, "app_keys", include_str!("../migrations/sqlite/0007_app_keys.sql")),
    (8, "idps", include_str!("../migrations/sqlite/0008_idps.sql")),
    (9, "group_push", include_str!("../migrations/sqlite/0009_group_push.sql")),
    (10, "imports", include_str!("../migrations/sqlite/0010_imports.sql")),
    (11, "push_links", include_str!("../migrations/sqlite/0011_push_links.sql")),
    (12, "role_targets", include_str!("../migrations/sqlite/0012_role_targets.sql")),
    (13, "login_keys", include_str!("../migrations/sqlite/0013_login_keys.sql")),
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

/// Lease up to `$5` ready jobs of queue `$3` for worker `$1` until `$2` (now is `$4`).
/// SQLite has one writer, so the UPDATE … RETURNING is atomic; a job waits while an
/// earlier job with the same ordering key is pending or running.
pub(crate) const LEASE_JOBS: &str = "UPDATE jobs SET status = 'RUNNING', lease_owner = $1, lease_until = $2, attempts = attempts + 1, updated = $4 \
WHERE seq IN (SELECT j.seq FROM jobs j WHERE j.queue = $3 AND ((j.status = 'PENDING' AND j.run_after <= $4) OR (j.status = 'RUNNING' AND j.lease_until < $4)) \
AND NOT EXISTS (SELECT 1 FROM jobs e WHERE e.ordering_key = j.ordering_key AND e.seq < j.seq AND e.status IN ('PENDING', 'RUNNING')) \
ORDER BY j.seq LIMIT $5) RETURNING seq, id, org_id, queue, kind, ordering_key, payload, status, attempts, run_after, last_error, batch_id, created";
