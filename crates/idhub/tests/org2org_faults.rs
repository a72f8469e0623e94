//! Faults of the Org2Org connector between two `idhub serve` processes with their own
//! SQLite databases (spoke on 127.0.0.2, hub on 127.0.0.3): the hub stopped for 60 s
//! during a 1,000-user assignment; the spoke killed with SIGKILL three times during a
//! push; the hub answering 429 with a reset time. Each ends with every user in the hub
//! exactly once.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

mod common;
use common::*;
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn idhub() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_idhub"));
    // The harness's own IDHUB_ variables (such as the test database URL) are not config.
    for (k, _) in std::env::vars() {
        if k.starts_with("IDHUB_") {
            c.env_remove(k);
        }
    }
    // The hub lives on loopback, which the egress rule refuses unless allowed.
    c.env("IDHUB_EGRESS__ALLOW", "127.0.0.0/8");
    c.stdin(Stdio::null());
    c
}

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

fn free_addr(ip: &str) -> String {
    let port = std::net::TcpListener::bind((ip, 0)).unwrap().local_addr().unwrap().port();
    format!("{ip}:{port}")
}

/// One `idhub serve` process and what it needs to be restarted the same way.
struct Node {
    addr: String,
    dir: PathBuf,
    env: Vec<(String, String)>,
    child: Option<Child>,
    token: String,
}

impl Node {
    fn new(dir: &Path, ip: &str, name: &str, env: &[(&str, &str)]) -> Node {
        let addr = free_addr(ip);
        run(idhub().args(["org", "create", "--data-dir"]).arg(dir).args(["--name", name, "--base-url", &format!("http://{addr}")]));
        let token = run(idhub().args(["token", "create", "--data-dir"]).arg(dir).args(["--org", name, "--name", "test"]));
        let env = env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Node { addr, dir: dir.to_path_buf(), env, child: None, token }
    }

    /// A second token of the org for the spoke's connector (so the test's own calls do
    /// not share its rate limit).
    fn connector_token(&self) -> String {
        let org = run(idhub().args(["org", "list", "--data-dir"]).arg(&self.dir));
        let name = org.split('\t').nth(1).unwrap().to_string();
        run(idhub().args(["token", "create", "--data-dir"]).arg(&self.dir).args(["--org", &name, "--name", "connector"]))
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    async fn start(&mut self) {
        let child = idhub()
            .args(["serve", "--listen", &self.addr, "--data-dir"])
            .arg(&self.dir)
            .envs(self.env.iter().cloned())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        self.child = Some(child);
        let http = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok(r) = http.get(format!("{}/health/ready", self.url())).send().await {
                if r.status() == StatusCode::OK {
                    return;
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("{} did not come up", self.addr);
    }

    /// SIGKILL (no graceful shutdown).
    fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            c.kill().unwrap();
            c.wait().unwrap();
        }
    }

    fn api(&self, m: Method, path: &str) -> reqwest::RequestBuilder {
        reqwest::Client::new()
            .request(m, format!("{}{path}", self.url()))
            .header("Authorization", format!("SSWS {}", self.token))
            .timeout(Duration::from_secs(30))
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Quick retries and short leases so the faults resolve in test time.
const FAST_WORKER: [(&str, &str); 4] = [
    ("IDHUB_PROVISIONING__LEASE_MS", "3000"),
    ("IDHUB_PROVISIONING__BASE_BACKOFF_MS", "300"),
    ("IDHUB_PROVISIONING__MAX_BACKOFF_MS", "4000"),
    ("IDHUB_PROVISIONING__MAX_ATTEMPTS", "200"),
];

/// The spoke's Org2Org app, provisioning to `hub` (create, update, deactivate), and a
/// Contractors group with `n` users; returns (app id, group id).
async fn spoke_setup(spoke: &Node, hub: &Node, n: usize, prefix: &str) -> (String, String) {
    let (_, g) = call(spoke.api(Method::POST, "/api/v1/groups").json(&json!({ "profile": { "name": "Contractors" } }))).await;
    let gid = g["id"].as_str().unwrap().to_string();
    for i in 0..n {
        let login = format!("{prefix}{i:04}@spoke.example");
        let body =
            json!({ "profile": { "login": login, "email": login, "firstName": "User", "lastName": format!("N{i}") }, "groupIds": [gid] });
        let (st, b) = call(spoke.api(Method::POST, "/api/v1/users?activate=true").json(&body)).await;
        assert_eq!(st, StatusCode::OK, "{b}");
    }
    let (_, app) = call(
        spoke.api(Method::POST, "/api/v1/apps").json(&json!({ "name": "okta_org2org", "settings": { "app": { "baseUrl": hub.url() } } })),
    )
    .await;
    let app_id = app["id"].as_str().unwrap().to_string();
    let (st, c) = call(
        spoke
            .api(Method::POST, &format!("/api/v1/apps/{app_id}/connections/default?activate=true"))
            .json(&json!({ "baseUrl": hub.url(), "profile": { "authScheme": "TOKEN", "token": hub.connector_token() } })),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{c}");
    let features = json!({ "capabilities": { "create": { "lifecycleCreate": { "status": "ENABLED" } }, "update": { "profile": { "status": "ENABLED" }, "lifecycleDeactivate": { "status": "ENABLED" } } } });
    assert_eq!(
        call(spoke.api(Method::PUT, &format!("/api/v1/apps/{app_id}/features/USER_PROVISIONING")).json(&features)).await.0,
        StatusCode::OK
    );
    (app_id, gid)
}

async fn assign(spoke: &Node, app: &str, group: &str) {
    let (st, b) = call(
        spoke.api(Method::PUT, &format!("/api/v1/apps/{app}/groups/{group}")).json(&json!({ "profile": { "initialStatus": "active" } })),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{b}");
}

/// Every login in the hub, following `next` links.
async fn hub_logins(hub: &Node) -> Vec<String> {
    let mut out = vec![];
    let mut url = format!("{}/api/v1/users?limit=200", hub.url());
    loop {
        let r = reqwest::Client::new().get(&url).header("Authorization", format!("SSWS {}", hub.token)).send().await.unwrap();
        if r.status() == StatusCode::TOO_MANY_REQUESTS {
            // The test's own token is limited too (the 429 test); wait like a client should.
            tokio::time::sleep(Duration::from_secs(2)).await;
            continue;
        }
        assert_eq!(r.status(), StatusCode::OK);
        let next = r
            .headers()
            .get_all("link")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|l| l.contains("rel=\"next\""))
            .map(|l| l.trim_start_matches('<').split('>').next().unwrap().to_string());
        let page: Value = r.json().await.unwrap();
        out.extend(page.as_array().unwrap().iter().map(|u| u["profile"]["login"].as_str().unwrap().to_string()));
        match next {
            Some(n) => url = n,
            None => return out,
        }
    }
}

/// Wait until the hub holds `n` users with this prefix; then check each exactly once.
async fn expect_exactly_once(hub: &Node, prefix: &str, n: usize, within: Duration) {
    let deadline = Instant::now() + within;
    loop {
        let logins: Vec<String> = hub_logins(hub).await.into_iter().filter(|l| l.starts_with(prefix)).collect();
        if logins.len() >= n || Instant::now() > deadline {
            let unique: HashSet<&String> = logins.iter().collect();
            assert_eq!(unique.len(), logins.len(), "a hub user was created twice");
            assert_eq!(logins.len(), n, "every pushed user exists in the hub");
            return;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

#[tokio::test]
async fn the_hub_stopped_for_a_minute_during_a_thousand_user_assignment_loses_and_duplicates_nothing() {
    let (hd, sd) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let mut hub = Node::new(hd.path(), "127.0.0.3", "hub", &[]);
    let mut spoke = Node::new(sd.path(), "127.0.0.2", "spoke", &FAST_WORKER);
    hub.start().await;
    spoke.start().await;
    let (app, group) = spoke_setup(&spoke, &hub, 1000, "u").await;
    hub.kill();
    assign(&spoke, &app, &group).await;
    tokio::time::sleep(Duration::from_secs(60)).await;
    // Meanwhile the progress says the pushes wait (API and CLI).
    let (_, p) = call(spoke.api(Method::GET, &format!("/api/v1/apps/{app}/idhub/provisioning/progress"))).await;
    assert_eq!(p["pending"].as_i64().unwrap() + p["running"].as_i64().unwrap(), 1000, "{p}");
    hub.start().await;
    expect_exactly_once(&hub, "u", 1000, Duration::from_secs(180)).await;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (_, p) = call(spoke.api(Method::GET, &format!("/api/v1/apps/{app}/idhub/provisioning/progress"))).await;
        if p["done"] == 1000 || Instant::now() > deadline {
            assert_eq!((p["done"].as_i64(), p["failed"].as_i64(), p["pending"].as_i64()), (Some(1000), Some(0), Some(0)), "{p}");
            break;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let status = run(idhub().args(["provisioning", "status", "--data-dir"]).arg(sd.path()).args(["--org", "spoke"]));
    assert!(status.lines().any(|l| l.starts_with(&app) && l.ends_with("\t0\t0\t1000\t0")), "{status}");
}

#[tokio::test]
async fn a_push_the_hub_refuses_for_good_becomes_a_task_that_can_be_dismissed() {
    let (hd, sd) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let mut hub = Node::new(hd.path(), "127.0.0.3", "hub", &[]);
    let mut spoke = Node::new(sd.path(), "127.0.0.2", "spoke", &FAST_WORKER);
    hub.start().await;
    spoke.start().await;
    let (app, group) = spoke_setup(&spoke, &hub, 1, "t").await;
    // The connector's token is revoked in the hub: every push answers 401.
    let tokens = run(idhub().args(["token", "list", "--data-dir"]).arg(hd.path()).args(["--org", "hub"]));
    let connector = tokens.lines().find(|l| l.split('\t').nth(1) == Some("connector")).unwrap().split('\t').next().unwrap().to_string();
    run(idhub().args(["token", "revoke", "--data-dir"]).arg(hd.path()).args(["--org", "hub", "--id", &connector]));
    assign(&spoke, &app, &group).await;
    let deadline = Instant::now() + Duration::from_secs(60);
    let task = loop {
        let (_, tasks) = call(spoke.api(Method::GET, "/api/v1/idhub/tasks")).await;
        if let Some(t) = tasks.as_array().and_then(|a| a.first()).cloned() {
            break t;
        }
        assert!(Instant::now() < deadline, "no Task appeared");
        tokio::time::sleep(Duration::from_millis(300)).await;
    };
    assert_eq!(task["appId"], app.as_str());
    assert!(task["lastError"].as_str().unwrap().contains("401"), "the Task says what the hub answered: {task}");
    let listed = run(idhub().args(["provisioning", "tasks", "--data-dir"]).arg(sd.path()).args(["--org", "spoke"]));
    assert!(listed.contains(task["id"].as_str().unwrap()), "{listed}");
    let (st, t) = call(spoke.api(Method::POST, &format!("/api/v1/idhub/tasks/{}/lifecycle/dismiss", task["id"].as_str().unwrap()))).await;
    assert_eq!((st, t["status"].as_str()), (StatusCode::OK, Some("DISMISSED")));
    let (_, tasks) = call(spoke.api(Method::GET, "/api/v1/idhub/tasks")).await;
    assert_eq!(tasks, json!([]));
    assert_eq!(hub_logins(&hub).await.iter().filter(|l| l.starts_with('t')).count(), 0);
}

#[tokio::test]
async fn the_spoke_killed_three_times_during_a_push_resumes_exactly_once() {
    let (hd, sd) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let mut hub = Node::new(hd.path(), "127.0.0.3", "hub", &[]);
    let mut spoke = Node::new(sd.path(), "127.0.0.2", "spoke", &FAST_WORKER);
    hub.start().await;
    spoke.start().await;
    let (app, group) = spoke_setup(&spoke, &hub, 400, "k").await;
    assign(&spoke, &app, &group).await;
    for _ in 0..3 {
        tokio::time::sleep(Duration::from_millis(700)).await;
        spoke.kill();
        spoke.start().await;
    }
    expect_exactly_once(&hub, "k", 400, Duration::from_secs(120)).await;
}

#[tokio::test]
async fn a_rate_limited_hub_is_waited_for_until_the_push_completes() {
    let (hd, sd) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let mut hub = Node::new(hd.path(), "127.0.0.3", "hub", &[("IDHUB_RATE_LIMIT__TOKEN_PER_MINUTE", "40")]);
    let mut spoke = Node::new(sd.path(), "127.0.0.2", "spoke", &FAST_WORKER);
    hub.start().await;
    spoke.start().await;
    let (app, group) = spoke_setup(&spoke, &hub, 60, "r").await;
    assign(&spoke, &app, &group).await;
    expect_exactly_once(&hub, "r", 60, Duration::from_secs(150)).await;
    // The hub did answer 429 along the way: some pushes needed another attempt, and none
    // became a Task.
    spoke.kill();
    let orgs = run(idhub().args(["org", "list", "--data-dir"]).arg(sd.path()));
    let org = idhub_domain::ids::OrgId(orgs.split('\t').next().unwrap().to_string());
    let store = idhub_store::Store::open_data_dir(sd.path()).await.unwrap();
    let done = store.list_jobs(&org, "DONE", 10_000).await.unwrap();
    assert!(done.iter().any(|j| j.attempts > 1), "no push was retried: the rate limit was never hit");
    assert!(store.list_jobs(&org, "FAILED", 10).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_group_push_waits_out_a_stopped_hub_and_pushes_exactly_once() {
    let (hd, sd) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let mut hub = Node::new(hd.path(), "127.0.0.3", "hub", &[]);
    let mut spoke = Node::new(sd.path(), "127.0.0.2", "spoke", &FAST_WORKER);
    hub.start().await;
    spoke.start().await;
    let (app, group) = spoke_setup(&spoke, &hub, 5, "g").await;
    assign(&spoke, &app, &group).await;
    expect_exactly_once(&hub, "g", 5, Duration::from_secs(60)).await;
    // the hub stops; the push is accepted and waits
    hub.kill();
    let (st, m) = call(spoke.api(Method::POST, &format!("/api/v1/apps/{app}/idhub/group-push")).json(&json!({ "groupId": group }))).await;
    assert_eq!(st, StatusCode::OK, "{m}");
    tokio::time::sleep(Duration::from_secs(3)).await;
    let (_, list) = call(spoke.api(Method::GET, &format!("/api/v1/apps/{app}/idhub/group-push"))).await;
    assert_eq!(list[0]["status"], "PENDING", "{list}");
    assert!(list[0]["lastError"].as_str().unwrap_or("").contains("unreachable"), "{list}");
    // the hub returns: one Contractors group with the five members
    hub.start().await;
    let deadline = Instant::now() + Duration::from_secs(60);
    let target = loop {
        let (_, list) = call(spoke.api(Method::GET, &format!("/api/v1/apps/{app}/idhub/group-push"))).await;
        if list[0]["status"] == "ACTIVE" {
            break list[0]["targetGroupId"].as_str().unwrap().to_string();
        }
        assert!(Instant::now() < deadline, "the push never completed: {list}");
        tokio::time::sleep(Duration::from_millis(300)).await;
    };
    let (_, groups) = call(hub.api(Method::GET, "/api/v1/groups?q=Contractors")).await;
    assert_eq!(groups.as_array().unwrap().len(), 1, "one hub group: {groups}");
    let (_, members) = call(hub.api(Method::GET, &format!("/api/v1/groups/{target}/users"))).await;
    assert_eq!(members.as_array().unwrap().len(), 5, "{members}");
}

/// Run the spoke's provisioning queue once as of `now` (so a retry's backoff is over without
/// waiting); returns the jobs run.
async fn run_queue_at(s: &TestServer, now: i64) -> usize {
    let clock = idhub_domain::time::ManualClock::at(now);
    let handler: std::sync::Arc<dyn idhub_jobs::Handler> = std::sync::Arc::new(idhub_core::provisioning::Org2OrgHandler {
        store: s.db.store.clone(),
        sealing_key: s.sealing_key.clone(),
        clock: std::sync::Arc::new(clock.clone()),
        egress: s.egress.clone(),
    });
    let cfg = idhub_jobs::WorkerConfig::new(idhub_core::provisioning::QUEUE);
    idhub_jobs::run_once(&s.db.store, &clock, &cfg, &handler).await.unwrap()
}

#[tokio::test]
async fn a_store_failure_in_the_middle_of_a_push_leaves_the_job_to_retry_not_done() {
    use sqlx::Connection;
    let s = TestServer::start(idhub_store::Backend::Sqlite).await;
    let (app_id, hub_url, hub_token) = provisioned_app(&s).await;
    let u = create_user(&s, "flaky@spoke.example", None, true).await;
    let (st, v) = call(s.api(Method::POST, &format!("/api/v1/apps/{app_id}/users")).json(&json!({ "id": u["id"] }))).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    // the database fails under the worker: the users table is gone while the job runs
    let mut db = sqlx::SqliteConnection::connect(&s.db.url).await.unwrap();
    sqlx::query("ALTER TABLE users RENAME TO users_away").execute(&mut db).await.unwrap();
    let now = chrono::Utc::now().timestamp_millis();
    assert_eq!(run_queue_at(&s, now).await, 1);
    let org = idhub_domain::ids::OrgId(s.org_id.clone());
    let pending = s.db.store.list_jobs(&org, "PENDING", 10).await.unwrap();
    assert_eq!(pending.len(), 1, "the job waits for a retry: {:?}", s.db.store.list_jobs(&org, "DONE", 10).await.unwrap());
    assert!(pending[0].last_error.as_deref().unwrap_or_default().contains("database"), "{:?}", pending[0].last_error);
    assert!(s.db.store.list_jobs(&org, "DONE", 10).await.unwrap().is_empty(), "not marked done");
    // the database recovers; the retry pushes the user
    sqlx::query("ALTER TABLE users_away RENAME TO users").execute(&mut db).await.unwrap();
    assert_eq!(run_queue_at(&s, now + 3_600_000).await, 1);
    let (st, h) =
        call(s.http.get(format!("{hub_url}/api/v1/users/flaky@spoke.example")).header("Authorization", format!("SSWS {hub_token}"))).await;
    assert_eq!(st, StatusCode::OK, "pushed on the retry: {h}");
    assert_eq!(s.db.store.list_jobs(&org, "DONE", 10).await.unwrap().len(), 1);
}
