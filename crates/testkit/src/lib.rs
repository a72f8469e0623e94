//! Test helpers. [`fresh_store`] opens an empty database of either backend (a SQLite
//! file in a temp dir, or a new database on the PostgreSQL server named by
//! `IDHUB_TEST_PG_URL`); [`TestServer::start`] runs a real server on a loopback port
//! with one org and a super-admin API token. Test servers may call out to loopback
//! (`127.0.0.0/8` is on their egress allow-list), where every test peer lives.

use idhub_connectors::egress::{Egress, EgressPolicy};
use idhub_core::passwords::HashParams;
use idhub_domain::event::{NewEvent, Party};
use idhub_domain::time::{Clock, SystemClock};
use idhub_domain::user::AdminRole;
use idhub_store::{Backend, Store};
use idhub_web::{AppState, WebSettings};
use std::net::SocketAddr;
use std::sync::Arc;

/// The backends to run a test on: SQLite always, PostgreSQL when `IDHUB_TEST_PG_URL`
/// is set. Without it the skip is announced loudly, and under `CI=true` it is a failure.
pub fn backends() -> Vec<Backend> {
    if std::env::var("IDHUB_TEST_PG_URL").map(|v| !v.is_empty()).unwrap_or(false) {
        vec![Backend::Sqlite, Backend::Postgres]
    } else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI=true but IDHUB_TEST_PG_URL is not set: the PostgreSQL half cannot be skipped in CI"
        );
        eprintln!("\n*** SKIPPED: PostgreSQL half of this test (IDHUB_TEST_PG_URL not set; run `cargo xtask test`) ***\n");
        vec![Backend::Sqlite]
    }
}

/// A database made for one test; dropping it removes a SQLite directory (PostgreSQL
/// test databases are left to the throwaway server, which the test command deletes).
pub struct TestDb {
    pub store: Store,
    pub url: String,
    _dir: Option<tempfile::TempDir>,
}

/// An empty, migrated database.
pub async fn fresh_store(backend: Backend) -> TestDb {
    match backend {
        Backend::Sqlite => {
            let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
            let store = Store::open_data_dir(dir.path()).await.unwrap_or_else(|e| panic!("open sqlite: {e}"));
            let url = format!("sqlite://{}", dir.path().join("idhub.db").display());
            TestDb { store, url, _dir: Some(dir) }
        }
        Backend::Postgres => {
            let admin = std::env::var("IDHUB_TEST_PG_URL").unwrap_or_else(|_| panic!("IDHUB_TEST_PG_URL not set"));
            let name = format!("idhub_t_{}", idhub_domain::ids::random_base62(12).to_lowercase());
            {
                use sqlx::Connection;
                sqlx::any::install_default_drivers();
                let mut conn = sqlx::AnyConnection::connect(&admin).await.unwrap_or_else(|e| panic!("connect {admin}: {e}"));
                sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut conn).await.unwrap_or_else(|e| panic!("create database: {e}"));
                let _ = conn.close().await;
            }
            let url = replace_db_name(&admin, &name);
            let store = Store::open_url(&url).await.unwrap_or_else(|e| panic!("open postgres: {e}"));
            TestDb { store, url, _dir: None }
        }
    }
}

fn replace_db_name(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let path_start = base[scheme_end..].find('/').map(|i| i + scheme_end).unwrap_or(base.len());
    let mut out = format!("{}/{}", &base[..path_start], name);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

/// A running server with one org.
pub struct TestServer {
    pub base_url: String,
    pub addr: SocketAddr,
    pub token: String,
    pub org_id: String,
    pub db: TestDb,
    pub http: reqwest::Client,
    /// The key the server seals secrets with (for running its job handlers in tests).
    pub sealing_key: idhub_domain::sealed::SealingKey,
    /// The server's egress rule (for running its job handlers in tests).
    pub egress: Egress,
    task: tokio::task::JoinHandle<()>,
}

/// Settings for test servers: cheap password hashing, generous rate limits, outbound
/// calls allowed to loopback.
pub fn test_settings() -> WebSettings {
    WebSettings {
        password_hashing: HashParams { memory_kib: 1024, iterations: 1, parallelism: 1 },
        egress: loopback_egress(),
        ..WebSettings::default()
    }
}

/// An egress rule that allows loopback (`127.0.0.0/8`) and nothing else internal.
pub fn loopback_egress() -> Egress {
    Egress::new(EgressPolicy::new(&["127.0.0.0/8"]).unwrap_or_else(|e| panic!("egress: {e}")))
}

impl TestServer {
    /// Start a server on `127.0.0.1:0` with a fresh database and an org named `test`.
    pub async fn start(backend: Backend) -> TestServer {
        TestServer::start_with(backend, test_settings()).await
    }

    /// Start with custom web settings.
    pub async fn start_with(backend: Backend, settings: WebSettings) -> TestServer {
        let db = fresh_store(backend).await;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap_or_else(|e| panic!("bind: {e}"));
        let addr = listener.local_addr().unwrap_or_else(|e| panic!("addr: {e}"));
        let base_url = format!("http://{addr}");
        let (org_id, token) = add_org(&db.store, "test", &base_url).await;
        let sealing_key = settings.sealing_key.clone();
        let egress = settings.egress.clone();
        let state = AppState::new(db.store.clone(), settings, Arc::new(SystemClock));
        let app = idhub_web::router(state);
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>()).await;
        });
        TestServer { base_url, addr, token, org_id, db, http: reqwest::Client::new(), sealing_key, egress, task }
    }

    /// A request builder with the org's token.
    pub fn api(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.http.request(method, format!("{}{path}", self.base_url)).header("Authorization", format!("SSWS {}", self.token))
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A loopback listener that accepts nothing, for proving that a refused outbound call
/// made no connection: once the call has returned, a connection it made would be waiting
/// in the backlog, so [`Bait::assert_untouched`] needs no waiting.
pub struct Bait(std::net::TcpListener);

impl Bait {
    /// Listen on `ip` (a loopback address), any port.
    pub fn on(ip: &str) -> Bait {
        let l = std::net::TcpListener::bind((ip, 0)).unwrap_or_else(|e| panic!("bind {ip}: {e}"));
        l.set_nonblocking(true).unwrap_or_else(|e| panic!("nonblocking: {e}"));
        Bait(l)
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.0.local_addr().map(|a| a.port()).unwrap_or_else(|e| panic!("addr: {e}"))
    }

    /// Panics if anything connected.
    pub fn assert_untouched(&self) {
        match self.0.accept() {
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            other => panic!("the refused target was connected to: {other:?}"),
        }
    }
}

/// Create an org with a super-admin token; returns (org id, token).
pub async fn add_org(store: &Store, name: &str, base_url: &str) -> (String, String) {
    let now = SystemClock.now_millis();
    let org = store.create_org(name, base_url, now, &[]).await.unwrap_or_else(|e| panic!("create org: {e}"));
    let secret = idhub_store::tokens::new_token_secret();
    let ev = NewEvent::success("system.api_token.create", "Create API token", Party::system(), vec![], Default::default());
    store
        .create_token(&org.id, "test", &secret, None, AdminRole::SuperAdmin, now, &[ev])
        .await
        .unwrap_or_else(|e| panic!("create token: {e}"));
    (org.id.0, secret)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn db_name_replacement() {
        assert_eq!(replace_db_name("postgres://u@127.0.0.1:5432/postgres", "x"), "postgres://u@127.0.0.1:5432/x");
        assert_eq!(replace_db_name("postgres://u@127.0.0.1:5432", "x"), "postgres://u@127.0.0.1:5432/x");
        assert_eq!(replace_db_name("postgres://u@h/db?sslmode=disable", "x"), "postgres://u@h/x?sslmode=disable");
    }
}
