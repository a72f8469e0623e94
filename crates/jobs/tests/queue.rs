//! The job queue on both databases: per-key order, lease expiry (a crashed worker),
//! retries with backoff, Tasks, progress, and several workers sharing one queue
//! without running a job twice.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use idhub_domain::ids::OrgId;
use idhub_domain::time::{Clock, ManualClock, SystemClock};
use idhub_jobs::{run_once, BoxFuture, Handler, Outcome, WorkerConfig};
use idhub_store::jobs::{Job, NewJob};
use idhub_store::Store;
use idhub_testkit::{backends, fresh_store};
use serde_json::json;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

fn job(org: &OrgId, key: &str, n: i64) -> NewJob {
    NewJob {
        org_id: org.clone(),
        queue: "q".into(),
        kind: "test".into(),
        ordering_key: key.into(),
        payload: json!({ "n": n }),
        batch_id: Some("b1".into()),
    }
}

async fn org(store: &Store) -> OrgId {
    store.create_org("jobs", "http://jobs.test", 0, &[]).await.unwrap().id
}

#[tokio::test]
async fn same_key_jobs_run_in_order_one_at_a_time() {
    for b in backends() {
        let db = fresh_store(b).await;
        let o = org(&db.store).await;
        db.store.enqueue_jobs(&[job(&o, "A", 1), job(&o, "A", 2), job(&o, "B", 3)], 1, &[]).await.unwrap();
        let leased = db.store.lease_jobs("q", "w1", 10, 60_000, 10).await.unwrap();
        let ns: Vec<i64> = leased.iter().map(|j| j.payload["n"].as_i64().unwrap()).collect();
        assert_eq!(ns, vec![1, 3], "{b:?}: A2 waits for A1");
        assert!(db.store.lease_jobs("q", "w2", 10, 60_000, 10).await.unwrap().is_empty());
        let a1 = leased.iter().find(|j| j.payload["n"] == 1).unwrap();
        assert!(db.store.complete_job(a1, "w1", 11).await.unwrap());
        let next = db.store.lease_jobs("q", "w2", 10, 60_000, 12).await.unwrap();
        assert_eq!(next.len(), 1);
        assert_eq!(next[0].payload["n"], 2);
        // a worker that lost its lease cannot record an outcome
        assert!(!db.store.complete_job(&next[0], "w1", 13).await.unwrap());
        let p = db.store.batch_progress(&o, "b1").await.unwrap();
        assert_eq!((p.done, p.running), (1, 2));
    }
}

#[tokio::test]
async fn an_expired_lease_is_taken_over() {
    for b in backends() {
        let db = fresh_store(b).await;
        let o = org(&db.store).await;
        db.store.enqueue_jobs(&[job(&o, "A", 1)], 1, &[]).await.unwrap();
        let first = db.store.lease_jobs("q", "crashed", 10, 1_000, 10).await.unwrap();
        assert_eq!(first.len(), 1);
        assert!(db.store.lease_jobs("q", "w2", 10, 1_000, 500).await.unwrap().is_empty(), "still leased");
        let again = db.store.lease_jobs("q", "w2", 10, 1_000, 1_011).await.unwrap();
        assert_eq!(again.len(), 1, "{b:?}");
        assert_eq!(again[0].attempts, 2);
        assert!(db.store.complete_job(&again[0], "w2", 1_012).await.unwrap());
        assert!(!db.store.complete_job(&first[0], "crashed", 1_013).await.unwrap());
    }
}

/// Fails the first `fail_times` runs of each job, counts runs per job.
struct Flaky {
    fail_times: i64,
    permanent: bool,
    runs: Mutex<HashMap<String, i64>>,
}

impl Handler for Flaky {
    fn handle<'a>(&'a self, job: &'a Job) -> BoxFuture<'a, Outcome> {
        Box::pin(async move {
            let n = {
                let mut runs = self.runs.lock().unwrap();
                let c = runs.entry(job.id.clone()).or_insert(0);
                *c += 1;
                *c
            };
            if self.permanent {
                Outcome::Fail { error: "hub said 400: invalid login".into(), events: vec![] }
            } else if n <= self.fail_times {
                Outcome::Retry { error: format!("connection refused ({n})"), after_ms: None }
            } else {
                Outcome::Done
            }
        })
    }
}

#[tokio::test]
async fn retries_back_off_then_succeed_and_permanent_failures_become_tasks() {
    for b in backends() {
        let db = fresh_store(b).await;
        let o = org(&db.store).await;
        let clock = ManualClock::at(1_000_000);
        let mut cfg = WorkerConfig::new("q");
        cfg.max_attempts = 3;
        db.store.enqueue_jobs(&[job(&o, "A", 1)], clock.now_millis(), &[]).await.unwrap();
        let flaky: Arc<dyn Handler> = Arc::new(Flaky { fail_times: 2, permanent: false, runs: Mutex::new(HashMap::new()) });
        assert_eq!(run_once(&db.store, &clock, &cfg, &flaky).await.unwrap(), 1);
        assert_eq!(run_once(&db.store, &clock, &cfg, &flaky).await.unwrap(), 0, "{b:?}: backing off");
        clock.advance(2_000);
        assert_eq!(run_once(&db.store, &clock, &cfg, &flaky).await.unwrap(), 1);
        clock.advance(4_000);
        assert_eq!(run_once(&db.store, &clock, &cfg, &flaky).await.unwrap(), 1);
        assert_eq!(db.store.batch_progress(&o, "b1").await.unwrap().done, 1);
        // a permanent failure is a Task that can be retried or dismissed
        db.store.enqueue_jobs(&[job(&o, "B", 2)], clock.now_millis(), &[]).await.unwrap();
        let bad: Arc<dyn Handler> = Arc::new(Flaky { fail_times: 0, permanent: true, runs: Mutex::new(HashMap::new()) });
        run_once(&db.store, &clock, &cfg, &bad).await.unwrap();
        let tasks = db.store.list_jobs(&o, "FAILED", 10).await.unwrap();
        assert_eq!(tasks.len(), 1);
        assert_eq!(tasks[0].last_error.as_deref(), Some("hub said 400: invalid login"));
        db.store.resolve_task(&o, &tasks[0].id, true, clock.now_millis(), &[]).await.unwrap();
        assert_eq!(db.store.list_jobs(&o, "PENDING", 10).await.unwrap().len(), 1);
        run_once(&db.store, &clock, &cfg, &bad).await.unwrap();
        let t = &db.store.list_jobs(&o, "FAILED", 10).await.unwrap()[0];
        db.store.resolve_task(&o, &t.id, false, clock.now_millis(), &[]).await.unwrap();
        assert!(db.store.list_jobs(&o, "FAILED", 10).await.unwrap().is_empty());
        // retries that never succeed give up after max_attempts
        db.store.enqueue_jobs(&[job(&o, "C", 3)], clock.now_millis(), &[]).await.unwrap();
        let never: Arc<dyn Handler> = Arc::new(Flaky { fail_times: 100, permanent: false, runs: Mutex::new(HashMap::new()) });
        for _ in 0..5 {
            clock.advance(600_000);
            run_once(&db.store, &clock, &cfg, &never).await.unwrap();
        }
        let failed = db.store.list_jobs(&o, "FAILED", 10).await.unwrap();
        assert_eq!(failed.len(), 1);
        assert!(failed[0].last_error.as_deref().unwrap().starts_with("gave up after 3 attempts"));
    }
}

struct Counter(Mutex<HashMap<String, i64>>);

impl Handler for Counter {
    fn handle<'a>(&'a self, job: &'a Job) -> BoxFuture<'a, Outcome> {
        Box::pin(async move {
            *self.0.lock().unwrap().entry(job.id.clone()).or_insert(0) += 1;
            tokio::task::yield_now().await;
            Outcome::Done
        })
    }
}

#[tokio::test]
async fn several_workers_share_a_queue_without_double_work() {
    for b in backends() {
        let db = fresh_store(b).await;
        let o = org(&db.store).await;
        let jobs: Vec<NewJob> = (0..200).map(|i| job(&o, &format!("k{}", i % 40), i)).collect();
        db.store.enqueue_jobs(&jobs, 1, &[]).await.unwrap();
        // two "nodes": separate pools on the same database
        let other = Store::open_url(&db.url).await.unwrap();
        let counter = Arc::new(Counter(Mutex::new(HashMap::new())));
        let mut handles = vec![];
        for (i, store) in [db.store.clone(), other.clone(), db.store.clone(), other.clone()].into_iter().enumerate() {
            let h: Arc<dyn Handler> = counter.clone();
            handles.push(tokio::spawn(async move {
                let mut cfg = WorkerConfig::new("q");
                cfg.worker_id = format!("w{i}");
                cfg.batch = 7;
                for _ in 0..200 {
                    if run_once(&store, &SystemClock, &cfg, &h).await.unwrap() == 0
                        && store.batch_progress(&OrgId("x".into()), "none").await.is_ok()
                    {
                        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
                    }
                }
            }));
        }
        for h in handles {
            h.await.unwrap();
        }
        let (distinct, all_once) = {
            let runs = counter.0.lock().unwrap();
            (runs.len(), runs.values().all(|&n| n == 1))
        };
        assert_eq!(distinct, 200, "{b:?}: every job ran");
        assert!(all_once, "{b:?}: no job ran twice");
        assert_eq!(db.store.batch_progress(&o, "b1").await.unwrap().done, 200);
    }
}
