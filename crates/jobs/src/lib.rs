//! Workers for the durable job queue (the SQL is in `idhub_store::jobs`). A worker
//! leases a batch of ready jobs, runs each through its [`Handler`], and records the
//! outcome: done, retry later (exponential backoff with jitter, or the time the far
//! side asked for, such as a 429's reset), or give up and leave a Task. A job whose
//! worker dies is leased again when its lease expires, so handlers must be idempotent
//! (the provisioning handler matches before it creates).

use idhub_domain::event::NewEvent;
use idhub_domain::time::Clock;
use idhub_store::jobs::Job;
use idhub_store::Store;
use rand::Rng;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{watch, Notify};

/// What became of one run of a job.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Finished.
    Done,
    /// A transient failure (network, 5xx, 429): run again later. `after_ms`, when the
    /// far side said when to come back, overrides the backoff.
    Retry { error: String, after_ms: Option<i64> },
    /// A permanent failure: the job becomes a Task, with these events logged.
    Fail { error: String, events: Vec<NewEvent> },
}

/// A boxed future, as handlers return.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Runs jobs of one queue.
pub trait Handler: Send + Sync + 'static {
    /// Run one job.
    fn handle<'a>(&'a self, job: &'a Job) -> BoxFuture<'a, Outcome>;
}

/// Worker settings.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    pub queue: String,
    /// Unique per worker (node and process).
    pub worker_id: String,
    /// Jobs leased at once (and run concurrently: they have distinct ordering keys).
    pub batch: i64,
    pub lease_ms: i64,
    /// Wait between polls when the queue is empty.
    pub idle_poll: Duration,
    /// First retry delay; doubles each attempt up to `max_backoff_ms`.
    pub base_backoff_ms: i64,
    pub max_backoff_ms: i64,
    /// Runs before a job becomes a Task.
    pub max_attempts: i64,
}

impl WorkerConfig {
    /// Defaults for a queue.
    pub fn new(queue: &str) -> Self {
        WorkerConfig {
            queue: queue.to_string(),
            worker_id: format!("{}-{}", std::process::id(), idhub_domain::ids::random_base62(8)),
            batch: 16,
            lease_ms: 60_000,
            idle_poll: Duration::from_millis(500),
            base_backoff_ms: 1_000,
            max_backoff_ms: 5 * 60_000,
            max_attempts: 12,
        }
    }
}

/// The delay before retry number `attempt` (1-based): exponential, capped, with jitter
/// between half and all of it so that many failing jobs do not return in step.
pub fn backoff_ms(cfg: &WorkerConfig, attempt: i64) -> i64 {
    let exp = cfg.base_backoff_ms.saturating_mul(1i64 << attempt.clamp(1, 30).saturating_sub(1)).min(cfg.max_backoff_ms);
    let half = (exp / 2).max(1);
    half + rand::thread_rng().gen_range(0..=half)
}

/// Wakes workers when jobs are added in this process (other nodes find them by polling).
#[derive(Debug, Default)]
pub struct Wakeup(Notify);

impl Wakeup {
    /// Tell waiting workers there is work.
    pub fn notify(&self) {
        self.0.notify_waiters();
    }

    /// A wakeup told by `store` each time a transaction that added jobs commits, so a job
    /// starts at once instead of at the next poll.
    pub fn for_store(store: &Store) -> Arc<Wakeup> {
        let wakeup = Arc::new(Wakeup::default());
        let w = wakeup.clone();
        if !store.on_jobs_added(move || w.notify()) {
            tracing::warn!("the store already wakes another worker; this one polls");
        }
        wakeup
    }
}

/// Run a worker until `shutdown` turns true.
pub async fn run_worker(
    store: Store,
    clock: Arc<dyn Clock>,
    cfg: WorkerConfig,
    handler: Arc<dyn Handler>,
    wakeup: Arc<Wakeup>,
    mut shutdown: watch::Receiver<bool>,
) {
    tracing::info!(queue = %cfg.queue, worker = %cfg.worker_id, "job worker started");
    loop {
        if *shutdown.borrow() {
            break;
        }
        // Listen before looking, so jobs added while this batch runs wake the wait below.
        let woken = wakeup.0.notified();
        tokio::pin!(woken);
        woken.as_mut().enable();
        let worked = match run_once(&store, clock.as_ref(), &cfg, &handler).await {
            Ok(n) => n > 0,
            Err(e) => {
                tracing::warn!(queue = %cfg.queue, "job worker: {e}");
                false
            }
        };
        if !worked {
            tokio::select! {
                _ = tokio::time::sleep(cfg.idle_poll) => {}
                _ = woken => {}
                _ = shutdown.changed() => {}
            }
        }
    }
    tracing::info!(queue = %cfg.queue, worker = %cfg.worker_id, "job worker stopped");
}

/// Lease one batch and run it; returns how many jobs ran.
pub async fn run_once(
    store: &Store,
    clock: &dyn Clock,
    cfg: &WorkerConfig,
    handler: &Arc<dyn Handler>,
) -> Result<usize, idhub_store::StoreError> {
    let jobs = store.lease_jobs(&cfg.queue, &cfg.worker_id, cfg.batch, cfg.lease_ms, clock.now_millis()).await?;
    let n = jobs.len();
    let mut set = tokio::task::JoinSet::new();
    for job in jobs {
        let handler = handler.clone();
        set.spawn(async move {
            let outcome = handler.handle(&job).await;
            (job, outcome)
        });
    }
    while let Some(res) = set.join_next().await {
        let Ok((job, outcome)) = res else {
            tracing::error!("a job handler panicked; its lease will expire and the job will run again");
            continue;
        };
        let now = clock.now_millis();
        let recorded = match outcome {
            Outcome::Done => store.complete_job(&job, &cfg.worker_id, now).await,
            Outcome::Retry { error, after_ms } if job.attempts < cfg.max_attempts => {
                let delay =
                    after_ms.map(|a| a.max(0) + rand::thread_rng().gen_range(0..=250)).unwrap_or_else(|| backoff_ms(cfg, job.attempts));
                tracing::info!(job = %job.id, kind = %job.kind, attempt = job.attempts, delay_ms = delay, "job will retry: {error}");
                store.retry_job(&job, &cfg.worker_id, now + delay, &error, now).await
            }
            Outcome::Retry { error, .. } => {
                store.fail_job(&job, &cfg.worker_id, &format!("gave up after {} attempts: {error}", job.attempts), now, &[]).await
            }
            Outcome::Fail { error, events } => store.fail_job(&job, &cfg.worker_id, &error, now, &events).await,
        };
        match recorded {
            Ok(true) => {}
            Ok(false) => {
                tracing::warn!(job = %job.id, "lost the lease before recording the outcome; the job will run again")
            }
            Err(e) => tracing::warn!(job = %job.id, "could not record the outcome: {e}"),
        }
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_caps_and_jitters() {
        let cfg = WorkerConfig::new("q");
        for attempt in 1..20 {
            let exp = (1_000i64 << (attempt - 1).min(29)).min(300_000);
            let d = backoff_ms(&cfg, attempt);
            assert!(d >= exp / 2 && d <= exp, "attempt {attempt}: {d}");
        }
        assert!(backoff_ms(&cfg, 100) <= 300_000);
    }
}
