//! What the benchmark commands share: fresh databases, the `idhub` CLI, `idhub serve`
//! processes on chosen loopback addresses with their CPU time and memory read from
//! `/proc`, and an HTTP client whose every request is bounded in time.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Errors of a benchmark run.
pub type Res<T> = Result<T, Box<dyn std::error::Error>>;

/// A fixed secret key, so the CLI and the server agree without a key file.
const SECRET_KEY: &str = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";

/// An HTTP client whose every request is bounded in time.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder().timeout(Duration::from_secs(30)).build().unwrap_or_default()
}

/// A free port on a loopback address.
pub fn free_port(ip: &str) -> Res<u16> {
    Ok(std::net::TcpListener::bind((ip, 0))?.local_addr()?.port())
}

/// Where one server's database is; a SQLite directory is removed when dropped.
pub struct Db {
    pub args: Vec<String>,
    pub url: String,
    dir: Option<PathBuf>,
}

impl Drop for Db {
    fn drop(&mut self) {
        // A 1M-user SQLite database is ~800 MB: never leave it behind.
        if let Some(d) = &self.dir {
            let _ = std::fs::remove_dir_all(d);
        }
    }
}

/// A fresh, empty database: a temporary SQLite directory, or a new database on `pg_url`.
pub async fn fresh_db(backend: &str, pg_url: Option<&str>) -> Res<Db> {
    if backend == "sqlite" {
        let dir = std::env::temp_dir().join(format!("idhub-bench-{}", idhub_domain::ids::random_base62(8)));
        std::fs::create_dir_all(&dir)?;
        let url = format!("sqlite://{}", dir.join("idhub.db").display());
        return Ok(Db { args: vec!["--data-dir".into(), dir.display().to_string()], url, dir: Some(dir) });
    }
    let admin = pg_url.ok_or("PostgreSQL needs --pg-url or IDHUB_TEST_PG_URL")?;
    let name = format!("idhub_bench_{}", idhub_domain::ids::random_base62(8).to_lowercase());
    {
        use sqlx::Connection;
        sqlx::any::install_default_drivers();
        let mut c = sqlx::AnyConnection::connect(admin).await?;
        sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut c).await?;
    }
    let base = admin.rsplit_once('/').map(|(b, _)| b).unwrap_or(admin);
    let url = format!("{base}/{name}");
    Ok(Db { args: vec!["--database-url".into(), url.clone()], url, dir: None })
}

fn idhub(bin: &Path) -> Command {
    let mut c = Command::new(bin);
    for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("IDHUB_")) {
        c.env_remove(k);
    }
    c.env("IDHUB_SECRET_KEY", SECRET_KEY);
    // The push benchmark's hub is on loopback, which the egress rule refuses unless allowed.
    c.env("IDHUB_EGRESS__ALLOW", "127.0.0.0/8");
    c
}

/// Run an `idhub` CLI command on `db`; its standard output.
pub fn cli(bin: &Path, args: &[&str], db: &Db) -> Res<String> {
    let out = idhub(bin).args(args).args(&db.args).output()?;
    if !out.status.success() {
        return Err(format!("{args:?}: {}", String::from_utf8_lossy(&out.stderr)).into());
    }
    Ok(String::from_utf8(out.stdout)?.trim().to_string())
}

/// A running `idhub serve`.
pub struct Server {
    child: Child,
}

impl Server {
    /// Start on `listen` (rate limits lifted) and wait until it is ready.
    pub async fn start(bin: &Path, db: &Db, listen: &str, env: &[(&str, &str)]) -> Res<Server> {
        let child = idhub(bin)
            .args(["serve", "--listen", listen])
            .args(&db.args)
            .env("IDHUB_RATE_LIMIT__TOKEN_PER_MINUTE", "1000000000")
            .env("IDHUB_RATE_LIMIT__ORG_PER_MINUTE", "1000000000")
            .env("IDHUB_LOG_LEVEL", "warn")
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()?;
        let http = client();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(r) = http.get(format!("http://{listen}/health/ready")).send().await {
                if r.status().is_success() {
                    break;
                }
            }
            if Instant::now() > deadline {
                return Err("server did not start".into());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Ok(Server { child })
    }

    fn status_field_mb(&self, name: &str) -> f64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap_or_default();
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<f64>().ok())
            .map(|kb| kb / 1024.0)
            .unwrap_or(f64::NAN)
    }

    /// Resident memory now and its peak, in MB.
    pub fn memory_mb(&self) -> (f64, f64) {
        (self.status_field_mb("VmRSS:"), self.status_field_mb("VmHWM:"))
    }

    /// CPU seconds (user + system) the process has used so far.
    pub fn cpu_seconds(&self) -> f64 {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.child.id())).unwrap_or_default();
        // Fields after the command name (which is in parentheses): utime is the 12th, stime the 13th.
        let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or_default();
        let f: Vec<&str> = rest.split_whitespace().collect();
        let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(f64::NAN);
        (ticks(11) + ticks(12)) / 100.0
    }

    /// Stop (SIGKILL).
    pub fn stop(self) {
        drop(self);
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One line naming the machine: CPU model, cores, memory.
pub fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| c.lines().find(|l| l.starts_with("model name")).map(|l| l.split(':').nth(1).unwrap_or_default().trim().to_string()))
        .unwrap_or_default();
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0);
    let mem = std::fs::read_to_string("/proc/meminfo").ok().and_then(|m| m.lines().next().map(str::to_string)).unwrap_or_default();
    format!("{cpu}, {cores} cores, {mem}")
}

/// One API call with an SSWS token; the JSON body (Null when empty), or an error naming
/// the URL, status and answer.
pub async fn call(
    http: &reqwest::Client,
    method: reqwest::Method,
    url: String,
    token: &str,
    body: Option<serde_json::Value>,
) -> Res<serde_json::Value> {
    let mut rb = http.request(method, &url).header("Authorization", format!("SSWS {token}"));
    if let Some(b) = body {
        rb = rb.json(&b);
    }
    let r = rb.send().await?;
    let status = r.status();
    let text = r.text().await?;
    if !status.is_success() {
        return Err(format!("{url}: {status} {text}").into());
    }
    Ok(serde_json::from_str(&text).unwrap_or(serde_json::Value::Null))
}

/// An Org2Org app in the spoke at `spoke_url` whose API integration reaches the hub at
/// `hub_url` with `hub_token`, enabled (credentials tested); returns its id.
pub async fn org2org_app(http: &reqwest::Client, spoke_url: &str, spoke_token: &str, hub_url: &str, hub_token: &str) -> Res<String> {
    let app = call(
        http,
        reqwest::Method::POST,
        format!("{spoke_url}/api/v1/apps"),
        spoke_token,
        Some(serde_json::json!({ "name": "okta_org2org", "settings": { "app": { "baseUrl": hub_url } } })),
    )
    .await?;
    let app_id = app["id"].as_str().unwrap_or_default().to_string();
    call(
        http,
        reqwest::Method::POST,
        format!("{spoke_url}/api/v1/apps/{app_id}/connections/default?activate=true"),
        spoke_token,
        Some(serde_json::json!({ "baseUrl": hub_url, "profile": { "authScheme": "TOKEN", "token": hub_token } })),
    )
    .await?;
    Ok(app_id)
}
