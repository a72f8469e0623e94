//! PostgreSQL specifics: migrations and JSON access (profiles are JSON text).

/// The migrations, by version (the same numbers as SQLite's; a test checks).
pub(crate) const MIGRATIONS: &[(i64, &str, &str)] = &[
    (1, "init", include_str!("../migrations/postgres/0001_init.sql")),
    (2, "sessions", include_str!("../migrations/postgres/0002_sessions.sql")),
    (3, "applications", include_str!("../migrations/postgres/0003_applications.sql")),
    (4, "factors", include_str!("../migrations/postgres/0004_factors.sql")),
    (5, "jobs", include_str!("../migrations/postgres/0005_jobs.sql")),
    (6, "connections", include_str!("../migrations/postgres/0006_connections.sql")),
    (7, "app_keys", include_str!("../migrations/postgres/0007_app_keys.sql")),
    (8, "idps", include_str!("../migrations/postgres/0008_idps.sql")),
    (9, "group_push", include_str!("../migrations/postgres/0009_group_push.sql")),
    (10, "imports", include_str!("../migrations/postgres/0010_imports.sql")),
    (11, "push_links", include_str!("../migrations/postgres/0011_push_links.sql")),
    (12, "role_targets", include_str!("../migrations/postgres/0012_role_targets.sql")),
    (13, "login_keys", include_str!("../migrations/postgres/0013_login_keys.sql")),
];

pub(crate) fn json_text(column: &str, key: &str) -> String {
    format!("({column}::jsonb ->> '{key}')")
}

/// Lease up to `$5` ready jobs of queue `$3` for worker `$1` until `$2` (now is `$4`).
/// `FOR UPDATE SKIP LOCKED` lets several nodes share the queue without double work; a
/// job waits while an earlier job with the same ordering key is pending or running
/// (an earlier job another worker is leasing right now still reads as PENDING here).
pub(crate) const LEASE_JOBS: &str = "WITH picked AS (SELECT j.seq FROM jobs j WHERE j.queue = $3 AND ((j.status = 'PENDING' AND j.run_after <= $4) OR (j.status = 'RUNNING' AND j.lease_until < $4)) \
AND NOT EXISTS (SELECT 1 FROM jobs e WHERE e.ordering_key = j.ordering_key AND e.seq < j.seq AND e.status IN ('PENDING', 'RUNNING')) \
ORDER BY j.seq LIMIT $5 FOR UPDATE SKIP LOCKED) \
UPDATE jobs SET status = 'RUNNING', lease_owner = $1, lease_until = $2, attempts = jobs.attempts + 1, updated = $4 FROM picked WHERE jobs.seq = picked.seq \
RETURNING jobs.seq, jobs.id, jobs.org_id, jobs.queue, jobs.kind, jobs.ordering_key, jobs.payload, jobs.status, jobs.attempts, jobs.run_after, jobs.last_error, jobs.batch_id, jobs.created";
