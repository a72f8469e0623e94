//! The durable job queue. A job is inserted in the same transaction as the change that
//! causes it ([`enqueue`] takes the transaction's connection), then leased by workers:
//! jobs with the same ordering key run one at a time in insertion order; a lease that
//! expires (a crashed worker) makes the job available again; failures are retried with
//! a delay chosen by the worker, or become Tasks for an administrator.

use crate::write::Write;
use crate::{events, get, Result, Store, StoreError};
use idhub_domain::event::NewEvent;
use idhub_domain::ids::OrgId;
use idhub_domain::time::Millis;
use sqlx::any::AnyRow;
use sqlx::AnyConnection;

/// A job to add.
#[derive(Debug, Clone, PartialEq)]
pub struct NewJob {
    pub org_id: OrgId,
    pub queue: String,
    pub kind: String,
    /// Jobs with the same key run one at a time, oldest first (e.g. `app:user`).
    pub ordering_key: String,
    pub payload: serde_json::Value,
    pub batch_id: Option<String>,
}

/// A leased or listed job.
#[derive(Debug, Clone, PartialEq)]
pub struct Job {
    pub seq: i64,
    pub id: String,
    pub org_id: OrgId,
    pub queue: String,
    pub kind: String,
    pub ordering_key: String,
    pub payload: serde_json::Value,
    /// `PENDING`, `RUNNING`, `DONE`, `FAILED` (a Task) or `DISMISSED`.
    pub status: String,
    pub attempts: i64,
    pub run_after: Millis,
    pub last_error: Option<String>,
    pub batch_id: Option<String>,
    pub created: Millis,
}

const JOB_COLS: &str = "seq, id, org_id, queue, kind, ordering_key, payload, status, attempts, run_after, last_error, batch_id, created";

fn job_from_row(row: &AnyRow) -> Result<Job> {
    let payload: String = get(row, "payload")?;
    Ok(Job {
        seq: get(row, "seq")?,
        id: get(row, "id")?,
        org_id: OrgId(get(row, "org_id")?),
        queue: get(row, "queue")?,
        kind: get(row, "kind")?,
        ordering_key: get(row, "ordering_key")?,
        payload: serde_json::from_str(&payload).map_err(|e| StoreError::Corrupt(e.to_string()))?,
        status: get(row, "status")?,
        attempts: get(row, "attempts")?,
        run_after: get(row, "run_after")?,
        last_error: get(row, "last_error")?,
        batch_id: get(row, "batch_id")?,
        created: get(row, "created")?,
    })
}

/// Add a job inside the caller's transaction. Returns its id.
pub async fn enqueue(conn: &mut AnyConnection, job: &NewJob, now: Millis) -> Result<String> {
    let id = format!("job{}", idhub_domain::ids::random_base62(17));
    sqlx::query("INSERT INTO jobs (id, org_id, queue, kind, ordering_key, payload, status, attempts, run_after, batch_id, created, updated) VALUES ($1, $2, $3, $4, $5, $6, 'PENDING', 0, $7, $8, $7, $7)")
        .bind(&id)
        .bind(job.org_id.as_str())
        .bind(&job.queue)
        .bind(&job.kind)
        .bind(&job.ordering_key)
        .bind(job.payload.to_string())
        .bind(now)
        .bind(job.batch_id.clone())
        .execute(&mut *conn)
        .await?;
    Ok(id)
}

/// Counts of a batch's jobs by state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Progress {
    pub pending: i64,
    pub running: i64,
    pub done: i64,
    pub failed: i64,
}

/// Background work of an org still under way: the jobs of one kind in one batch (an
/// app's pushes, its group pushes, or one import), counted from the oldest job still
/// waiting or running.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkInProgress {
    pub batch: String,
    pub kind: String,
    pub since: Millis,
    pub progress: Progress,
}

impl Store {
    /// Add jobs on their own transaction (with events).
    pub async fn enqueue_jobs(&self, jobs: &[NewJob], now: Millis, events: &[NewEvent]) -> Result<Vec<String>> {
        let mut tx = self.write_pool().begin().await?;
        let mut ids = Vec::with_capacity(jobs.len());
        for j in jobs {
            ids.push(enqueue(&mut tx, j, now).await?);
        }
        if let Some(first) = jobs.first() {
            events::insert(&mut tx, &first.org_id, events, now).await?;
        }
        tx.commit().await?;
        self.jobs_added(ids.len());
        Ok(ids)
    }

    /// Add one job that becomes ready at `run_after` (a scheduled run).
    pub async fn enqueue_job_at(&self, job: &NewJob, run_after: Millis, now: Millis) -> Result<String> {
        let mut tx = self.write_pool().begin().await?;
        let id = enqueue(&mut tx, job, now).await?;
        sqlx::query("UPDATE jobs SET run_after = $1 WHERE id = $2").bind(run_after).bind(&id).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Lease up to `limit` ready jobs of `queue` for `worker` for `lease_ms`.
    pub async fn lease_jobs(&self, queue: &str, worker: &str, limit: i64, lease_ms: i64, now: Millis) -> Result<Vec<Job>> {
        let mut tx = self.write_pool().begin().await?;
        let rows = sqlx::query(self.backend().lease_jobs_sql())
            .bind(worker)
            .bind(now + lease_ms)
            .bind(queue)
            .bind(now)
            .bind(limit)
            .fetch_all(&mut *tx)
            .await?;
        tx.commit().await?;
        let mut jobs = rows.iter().map(job_from_row).collect::<Result<Vec<_>>>()?;
        jobs.sort_by_key(|j| j.seq);
        Ok(jobs)
    }

    /// Mark a leased job done (only if this worker still holds the lease).
    pub async fn complete_job(&self, job: &Job, worker: &str, now: Millis) -> Result<bool> {
        let n = sqlx::query("UPDATE jobs SET status = 'DONE', lease_owner = NULL, lease_until = NULL, last_error = NULL, updated = $1 WHERE id = $2 AND lease_owner = $3 AND status = 'RUNNING'")
            .bind(now)
            .bind(&job.id)
            .bind(worker)
            .execute(self.write_pool())
            .await?
            .rows_affected();
        Ok(n > 0)
    }

    /// Put a leased job back to run again at `run_after`.
    pub async fn retry_job(&self, job: &Job, worker: &str, run_after: Millis, error: &str, now: Millis) -> Result<bool> {
        let n = sqlx::query("UPDATE jobs SET status = 'PENDING', lease_owner = NULL, lease_until = NULL, run_after = $1, last_error = $2, updated = $3 WHERE id = $4 AND lease_owner = $5 AND status = 'RUNNING'")
            .bind(run_after)
            .bind(truncate(error))
            .bind(now)
            .bind(&job.id)
            .bind(worker)
            .execute(self.write_pool())
            .await?
            .rows_affected();
        Ok(n > 0)
    }

    /// Give up on a leased job: it becomes a Task (FAILED) with the error, and events.
    pub async fn fail_job(&self, job: &Job, worker: &str, error: &str, now: Millis, events: &[NewEvent]) -> Result<bool> {
        let mut tx = self.write_pool().begin().await?;
        let n = sqlx::query("UPDATE jobs SET status = 'FAILED', lease_owner = NULL, lease_until = NULL, last_error = $1, updated = $2 WHERE id = $3 AND lease_owner = $4 AND status = 'RUNNING'")
            .bind(truncate(error))
            .bind(now)
            .bind(&job.id)
            .bind(worker)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if n > 0 {
            events::insert(&mut tx, &job.org_id, events, now).await?;
        }
        tx.commit().await?;
        Ok(n > 0)
    }

    /// Jobs of an org in a state (Tasks are `FAILED`), oldest first.
    pub async fn list_jobs(&self, org: &OrgId, status: &str, limit: i64) -> Result<Vec<Job>> {
        let rows = sqlx::query(&format!("SELECT {JOB_COLS} FROM jobs WHERE org_id = $1 AND status = $2 ORDER BY seq LIMIT $3"))
            .bind(org.as_str())
            .bind(status)
            .bind(limit)
            .fetch_all(self.read_pool())
            .await?;
        rows.iter().map(job_from_row).collect()
    }

    /// One job of an org.
    pub async fn get_job(&self, org: &OrgId, id: &str) -> Result<Job> {
        let row = sqlx::query(&format!("SELECT {JOB_COLS} FROM jobs WHERE org_id = $1 AND id = $2"))
            .bind(org.as_str())
            .bind(id)
            .fetch_optional(self.read_pool())
            .await?
            .ok_or(StoreError::NotFound)?;
        job_from_row(&row)
    }

    /// Retry a Task now (FAILED → PENDING) or dismiss it (FAILED → DISMISSED).
    pub async fn resolve_task(&self, org: &OrgId, id: &str, retry: bool, now: Millis, events: &[NewEvent]) -> Result<()> {
        let mut w = Write::begin(self, org).await?;
        let sql = if retry {
            "UPDATE jobs SET status = 'PENDING', attempts = 0, run_after = $1, updated = $1 WHERE org_id = $2 AND id = $3 AND status = 'FAILED'"
        } else {
            "UPDATE jobs SET status = 'DISMISSED', updated = $1 WHERE org_id = $2 AND id = $3 AND status = 'FAILED'"
        };
        let n = sqlx::query(sql).bind(now).bind(org.as_str()).bind(id).execute(w.conn()).await?.rows_affected();
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        w.commit(events, &[], now).await?;
        Ok(())
    }

    /// Progress of a batch (a large push or import).
    pub async fn batch_progress(&self, org: &OrgId, batch: &str) -> Result<Progress> {
        let rows = sqlx::query("SELECT status, COUNT(*) AS n FROM jobs WHERE org_id = $1 AND batch_id = $2 GROUP BY status")
            .bind(org.as_str())
            .bind(batch)
            .fetch_all(self.read_pool())
            .await?;
        progress_of(&rows)
    }

    /// Every batch of an org with jobs still waiting or running, and how far it got.
    pub async fn work_in_progress(&self, org: &OrgId) -> Result<Vec<WorkInProgress>> {
        let active = sqlx::query(
            "SELECT batch_id, kind, MIN(created) AS since FROM jobs WHERE org_id = $1 AND status IN ('PENDING', 'RUNNING') \
             AND batch_id IS NOT NULL GROUP BY batch_id, kind ORDER BY MIN(created)",
        )
        .bind(org.as_str())
        .fetch_all(self.read_pool())
        .await?;
        let mut out = Vec::with_capacity(active.len());
        for row in &active {
            let (batch, kind, since): (String, String, Millis) = (get(row, "batch_id")?, get(row, "kind")?, get(row, "since")?);
            let counts = sqlx::query(
                "SELECT status, COUNT(*) AS n FROM jobs WHERE org_id = $1 AND batch_id = $2 AND kind = $3 AND created >= $4 GROUP BY status",
            )
            .bind(org.as_str())
            .bind(&batch)
            .bind(&kind)
            .bind(since)
            .fetch_all(self.read_pool())
            .await?;
            out.push(WorkInProgress { batch, kind, since, progress: progress_of(&counts)? });
        }
        Ok(out)
    }

    /// Remove a secret (a sealed password) from a job's payload once it has been used.
    pub async fn scrub_job_secret(&self, id: &str) -> Result<()> {
        let payload: Option<String> =
            sqlx::query_scalar("SELECT payload FROM jobs WHERE id = $1").bind(id).fetch_optional(self.read_pool()).await?;
        let Some(text) = payload else { return Ok(()) };
        let mut v: serde_json::Value = serde_json::from_str(&text).map_err(|e| StoreError::Corrupt(format!("payload: {e}")))?;
        if let Some(o) = v.as_object_mut() {
            if o.remove("password").is_some() {
                sqlx::query("UPDATE jobs SET payload = $1 WHERE id = $2").bind(v.to_string()).bind(id).execute(self.write_pool()).await?;
            }
        }
        Ok(())
    }

    /// Delete finished jobs older than `before` (housekeeping).
    pub async fn purge_done_jobs(&self, before: Millis) -> Result<u64> {
        Ok(sqlx::query("DELETE FROM jobs WHERE status IN ('DONE', 'DISMISSED') AND updated < $1")
            .bind(before)
            .execute(self.write_pool())
            .await?
            .rows_affected())
    }
}

fn truncate(s: &str) -> String {
    s.chars().take(2000).collect()
}

/// Job counts by status (`status`, `n` rows) as progress.
fn progress_of(rows: &[AnyRow]) -> Result<Progress> {
    let mut p = Progress::default();
    for row in rows {
        let status: String = get(row, "status")?;
        let n: i64 = get(row, "n")?;
        match status.as_str() {
            "PENDING" => p.pending += n,
            "RUNNING" => p.running += n,
            "DONE" | "DISMISSED" => p.done += n,
            "FAILED" => p.failed += n,
            _ => {}
        }
    }
    Ok(p)
}
