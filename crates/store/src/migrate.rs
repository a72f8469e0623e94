//! Schema migrations: an ordered list per backend, applied once each and recorded in
//! `idhub_migrations`. Both backends carry the same version numbers and names.

use crate::{postgres, sqlite, Backend, Result};
use sqlx::AnyPool;

/// A migration's version and name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationInfo {
    pub version: i64,
    pub name: &'static str,
}

fn list(backend: Backend) -> &'static [(i64, &'static str, &'static str)] {
    match backend {
        Backend::Sqlite => sqlite::MIGRATIONS,
        Backend::Postgres => postgres::MIGRATIONS,
    }
}

/// The versions a backend's migrations carry (for the test that keeps them in step).
pub fn migration_versions(backend: Backend) -> Vec<MigrationInfo> {
    list(backend).iter().map(|(version, name, _)| MigrationInfo { version: *version, name }).collect()
}

/// Apply every migration not applied yet, each in its own transaction.
pub(crate) async fn run(pool: &AnyPool, backend: Backend) -> Result<()> {
    sqlx::query("CREATE TABLE IF NOT EXISTS idhub_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied BIGINT NOT NULL)")
        .execute(pool)
        .await?;
    for (version, name, sql) in list(backend) {
        let mut tx = pool.begin().await?;
        let done: Option<i64> =
            sqlx::query_scalar("SELECT version FROM idhub_migrations WHERE version = $1").bind(*version).fetch_optional(&mut *tx).await?;
        if done.is_some() {
            continue;
        }
        for statement in split_statements(sql) {
            sqlx::query(&statement).execute(&mut *tx).await?;
        }
        sqlx::query("INSERT INTO idhub_migrations (version, name, applied) VALUES ($1, $2, $3)")
            .bind(*version)
            .bind(*name)
            .bind(chrono::Utc::now().timestamp_millis())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        tracing::info!(version, name, backend = backend.name(), "applied migration");
    }
    Ok(())
}

/// Split a migration file into statements: comment lines go first, then `;` separates
/// (our migrations keep `;` out of string literals).
fn split_statements(sql: &str) -> Vec<String> {
    let without_comments: String = sql.lines().filter(|l| !l.trim_start().starts_with("--")).collect::<Vec<_>>().join("\n");
    without_comments.split(';').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_backends_have_the_same_migration_versions() {
        assert_eq!(migration_versions(Backend::Sqlite), migration_versions(Backend::Postgres));
        let versions: Vec<i64> = migration_versions(Backend::Sqlite).iter().map(|m| m.version).collect();
        let mut sorted = versions.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(versions, sorted, "versions must be strictly increasing");
    }

    #[test]
    fn comments_may_contain_semicolons() {
        assert_eq!(
            split_statements("-- a; b\nCREATE TABLE t (x INT);\n-- c;\nCREATE INDEX i ON t(x);"),
            vec!["CREATE TABLE t (x INT)", "CREATE INDEX i ON t(x)"]
        );
    }

    #[test]
    fn both_backends_create_the_same_tables() {
        let tables = |b: Backend| -> Vec<String> {
            let mut t: Vec<String> = list(b)
                .iter()
                .flat_map(|(_, _, sql)| split_statements(sql))
                .filter_map(|s| s.strip_prefix("CREATE TABLE ").map(|r| r.split_whitespace().next().unwrap_or_default().to_string()))
                .collect();
            t.sort();
            t
        };
        assert_eq!(tables(Backend::Sqlite), tables(Backend::Postgres));
        assert!(tables(Backend::Sqlite).contains(&"users".to_string()));
    }
}
