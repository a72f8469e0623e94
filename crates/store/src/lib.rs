//! Persistence for idhub. One surface ([`Store`]) over SQLite (the embedded default) and
//! PostgreSQL. Queries are written once in portable SQL and run through sqlx's `Any`
//! driver; what differs between the two databases (connection setup, migrations, JSON
//! access) lives only in [`sqlite`] and [`postgres`]. Every call takes the org id: no
//! query can cross orgs.

pub mod apps;
mod backend;
pub mod connections;
pub mod events;
pub mod factors;
pub mod group_push;
pub mod groups;
pub mod idps;
pub mod imports;
pub mod jobs;
mod migrate;
pub mod orgs;
pub mod plan;
mod postgres;
pub mod roles;
pub mod rows;
pub mod schema;
pub mod sessions;
mod sql;
pub mod sqlfilter;
mod sqlite;
pub mod tokens;
pub mod users;
mod write;

pub use backend::Backend;
pub use migrate::{migration_versions, MigrationInfo};

use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::AnyPool;
use std::path::Path;
use std::sync::Once;
use std::time::Duration;

/// What went wrong in the store. Database text never leaves the process: the web layer
/// logs it and answers with a generic error id.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The object does not exist in this org.
    #[error("not found")]
    NotFound,
    /// A unique value (login, group name, org name or host) is taken.
    #[error("already exists: {0}")]
    Conflict(&'static str),
    /// The row changed since it was read (optimistic concurrency); try again.
    #[error("modified concurrently")]
    Stale,
    /// A value in the database could not be decoded.
    #[error("corrupt row: {0}")]
    Corrupt(String),
    /// The database failed.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// The database URL or directory is unusable.
    #[error("configuration: {0}")]
    Config(String),
}

impl StoreError {
    fn from_unique(e: sqlx::Error, what: &'static str) -> StoreError {
        match &e {
            sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Conflict(what),
            _ => StoreError::Database(e),
        }
    }
}

/// Result alias.
pub type Result<T> = std::result::Result<T, StoreError>;

/// Lookups by id answer `Err(NotFound)` for absence; [`Optional::optional`] turns that into
/// `Ok(None)` and keeps every other error an error, so a database failure is never read
/// as "absent".
pub trait Optional<T> {
    /// `Ok(None)` for `NotFound`, the value or the failure otherwise.
    fn optional(self) -> Result<Option<T>>;
}

impl<T> Optional<T> for Result<T> {
    fn optional(self) -> Result<Option<T>> {
        match self {
            Ok(v) => Ok(Some(v)),
            Err(StoreError::NotFound) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// Called after a transaction that added jobs commits (the workers' wakeup), shared by
/// every clone of the store.
#[derive(Default)]
struct JobsAdded(std::sync::OnceLock<Box<dyn Fn() + Send + Sync>>);

impl std::fmt::Debug for JobsAdded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.get().is_some() { "JobsAdded(set)" } else { "JobsAdded(unset)" })
    }
}

/// A page of results and the cursor for the next one.
#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Opaque cursor (`after=`) for the next page, or `None` at the end.
    pub next: Option<String>,
}

/// Encode a sequence number as an opaque cursor.
pub fn encode_cursor(seq: i64) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("s{seq}"))
}

/// Decode a cursor made by [`encode_cursor`].
pub fn decode_cursor(cursor: &str) -> Option<i64> {
    use base64::Engine;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(cursor).ok()?;
    let text = String::from_utf8(bytes).ok()?;
    text.strip_prefix('s')?.parse().ok()
}

/// The database: a pool for writes and one for reads (on SQLite, one writer connection
/// so write transactions never fight over the lock; on PostgreSQL the same pool).
#[derive(Debug, Clone)]
pub struct Store {
    write: AnyPool,
    read: AnyPool,
    backend: Backend,
    /// The batching System Log writer (shared by every clone).
    events: std::sync::Arc<events::EventBatcher>,
    /// Told when jobs were added (shared by every clone).
    jobs_added: std::sync::Arc<JobsAdded>,
}

static DRIVERS: Once = Once::new();

/// Set a file's or directory's permission bits (a no-op off Unix).
fn owner_only(path: &Path, mode: u32) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
    }
    #[cfg(not(unix))]
    {
        let _ = (path, mode);
        Ok(())
    }
}

impl Store {
    /// Open (creating and migrating if needed) the SQLite database in `data_dir`.
    /// The directory is created readable by its owner only (0700), and the database
    /// files (`idhub.db` and its `-wal` and `-shm`) are 0600 whatever the umask: they
    /// hold password hashes and sealed secrets.
    pub async fn open_data_dir(data_dir: &Path) -> Result<Store> {
        let config = |what: &str, path: &Path, e: std::io::Error| StoreError::Config(format!("cannot {what} {}: {e}", path.display()));
        if !data_dir.exists() {
            let mut dir = std::fs::DirBuilder::new();
            dir.recursive(true);
            #[cfg(unix)]
            std::os::unix::fs::DirBuilderExt::mode(&mut dir, 0o700);
            dir.create(data_dir).map_err(|e| config("create", data_dir, e))?;
            owner_only(data_dir, 0o700).map_err(|e| config("restrict", data_dir, e))?;
        }
        let path = data_dir.join("idhub.db");
        // created before SQLite opens it: SQLite gives the -wal and -shm files its mode
        let mut file = std::fs::OpenOptions::new();
        file.write(true).create(true).truncate(false);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut file, 0o600);
        file.open(&path).map_err(|e| config("create", &path, e))?;
        owner_only(&path, 0o600).map_err(|e| config("restrict", &path, e))?;
        let store = Store::open_url(&format!("sqlite://{}", path.display())).await?;
        for suffix in ["-wal", "-shm"] {
            let side = data_dir.join(format!("idhub.db{suffix}"));
            if side.exists() {
                owner_only(&side, 0o600).map_err(|e| config("restrict", &side, e))?;
            }
        }
        Ok(store)
    }

    /// Open a database by URL: `postgres://…` or `sqlite://path`.
    pub async fn open_url(url: &str) -> Result<Store> {
        DRIVERS.call_once(sqlx::any::install_default_drivers);
        let store = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let pool = AnyPoolOptions::new().max_connections(16).acquire_timeout(Duration::from_secs(30)).connect(url).await?;
            Store {
                write: pool.clone(),
                read: pool,
                backend: Backend::Postgres,
                events: Default::default(),
                jobs_added: Default::default(),
            }
        } else if let Some(path) = url.strip_prefix("sqlite://") {
            let (write, read) = sqlite::open_pools(path).await?;
            Store { write, read, backend: Backend::Sqlite, events: Default::default(), jobs_added: Default::default() }
        } else {
            return Err(StoreError::Config("the database URL must start with postgres:// or sqlite://".into()));
        };
        migrate::run(&store.write, store.backend).await?;
        Ok(store)
    }

    /// Call `listener` after each transaction that added jobs commits, so workers in this
    /// process start at once instead of at their next poll. Set once; later calls are
    /// ignored (returns false).
    pub fn on_jobs_added(&self, listener: impl Fn() + Send + Sync + 'static) -> bool {
        self.jobs_added.0.set(Box::new(listener)).is_ok()
    }

    /// Tell the listener that jobs were added (after the commit).
    pub(crate) fn jobs_added(&self, n: usize) {
        if n > 0 {
            if let Some(f) = self.jobs_added.0.get() {
                f();
            }
        }
    }

    /// Which database this is.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Is the database reachable?
    pub async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.read).await?;
        Ok(())
    }

    /// Write the queued System Log events, then close the pools.
    pub async fn close(&self) {
        self.flush_events().await;
        self.write.close().await;
        self.read.close().await;
    }

    /// Run a `DELETE` whose `$1` is the org and whose other parameters are `args`, and
    /// write `events`, in one transaction; `NotFound` (and nothing written) when no row
    /// was deleted.
    pub(crate) async fn delete_with_events(
        &self,
        org: &idhub_domain::ids::OrgId,
        sql: &str,
        args: &[&str],
        now: i64,
        events: &[idhub_domain::event::NewEvent],
    ) -> Result<()> {
        let mut tx = self.write_pool().begin().await?;
        let mut q = sqlx::query(sql).bind(org.as_str());
        for a in args {
            q = q.bind(*a);
        }
        if q.execute(&mut *tx).await?.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        events::insert(&mut tx, org, events, now).await?;
        tx.commit().await?;
        Ok(())
    }

    pub(crate) fn write_pool(&self) -> &AnyPool {
        &self.write
    }

    pub(crate) fn read_pool(&self) -> &AnyPool {
        &self.read
    }
}

pub(crate) fn get<T>(row: &AnyRow, col: &str) -> Result<T>
where
    T: for<'r> sqlx::Decode<'r, sqlx::Any> + sqlx::Type<sqlx::Any>,
{
    use sqlx::Row;
    row.try_get(col).map_err(|e| StoreError::Corrupt(format!("{col}: {e}")))
}
