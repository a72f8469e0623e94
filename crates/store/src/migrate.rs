//! Schema migrations: an ordered list per backend, applied once each and recorded in
//! `idhub_migrations`. Both backends carry the same version numbers and names.

use crate::{postgres, sqlite, Backend, Result};
use idhub_domain::user::login_key;
use sqlx::{AnyConnection, AnyPool};

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
        if *version == LOGIN_KEYS {
            rekey_logins(&mut tx).await?;
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

/// The version whose step recomputes `users.login_key` in Rust (NFKC is not SQL).
const LOGIN_KEYS: i64 = 13;

/// One user's row, as the re-keying reads it (in `seq` order).
#[derive(Debug, Clone, PartialEq, Eq)]
struct KeyRow {
    org: String,
    id: String,
    login: String,
    key: String,
}

/// The key a user gets when another user, created earlier, now has the same login key:
/// it holds a control character, which no login may, so no sign-in finds it until an
/// administrator renames one of the two.
fn placeholder_key(id: &str) -> String {
    format!("\u{1}login:{id}")
}

/// What re-keying does: see [`rekey_plan`].
#[derive(Debug, PartialEq, Eq)]
struct RekeyPlan {
    changes: Vec<(usize, String)>,
    clashes: Vec<(usize, usize)>,
}

/// Which rows get which key under the current [`login_key`]: (row index, new key) for
/// each row whose key changes, and (row index, earlier row index) for each row left
/// with a placeholder because an earlier user of its org has its new key.
fn rekey_plan(rows: &[KeyRow]) -> RekeyPlan {
    let mut taken = std::collections::HashMap::new();
    let (mut changes, mut clashes) = (vec![], vec![]);
    for (i, row) in rows.iter().enumerate() {
        let mut key = login_key(&row.login);
        if let Some(earlier) = taken.get(&(row.org.as_str(), key.clone())) {
            clashes.push((i, *earlier));
            key = placeholder_key(&row.id);
        } else {
            taken.insert((row.org.as_str(), key.clone()), i);
        }
        if key != row.key {
            changes.push((i, key));
        }
    }
    RekeyPlan { changes, clashes }
}

/// Recompute every user's login key. Changing rows are first parked on a unique
/// temporary key, so no statement meets a key another row is about to give up.
async fn rekey_logins(conn: &mut AnyConnection) -> Result<()> {
    let rows: Vec<KeyRow> =
        sqlx::query_as::<_, (String, String, String, String)>("SELECT org_id, id, login, login_key FROM users ORDER BY seq")
            .fetch_all(&mut *conn)
            .await?
            .into_iter()
            .map(|(org, id, login, key)| KeyRow { org, id, login, key })
            .collect();
    let RekeyPlan { changes, clashes } = rekey_plan(&rows);
    let set = "UPDATE users SET login_key = $1 WHERE org_id = $2 AND id = $3";
    for (i, _) in &changes {
        let r = &rows[*i];
        sqlx::query(set).bind(format!("\u{1}rekey:{}", r.id)).bind(&r.org).bind(&r.id).execute(&mut *conn).await?;
    }
    for (i, key) in &changes {
        let r = &rows[*i];
        sqlx::query(set).bind(key).bind(&r.org).bind(&r.id).execute(&mut *conn).await?;
    }
    for (i, earlier) in clashes {
        let (r, e) = (&rows[i], &rows[earlier]);
        tracing::warn!(org = %r.org, user = %r.id, login = %r.login, earlier_user = %e.id, earlier_login = %e.login, "an earlier user of this org has the same login under Unicode normalisation; this user cannot sign in until one of them is renamed");
    }
    tracing::info!(users = rows.len(), changed = changes.len(), "recomputed login keys");
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
    fn rekeying_keeps_the_earlier_of_two_users_that_now_share_a_key() {
        let row =
            |org: &str, id: &str, login: &str, key: &str| KeyRow { org: org.into(), id: id.into(), login: login.into(), key: key.into() };
        let rows = vec![
            row("o", "u1", "Sarah@x.com", "sarah@x.com"),
            // NFC and NFD spellings: the old key folded one accent and kept the other
            row("o", "u2", "jos\u{e9}@x.com", "jose@x.com"),
            row("o", "u3", "jose\u{301}@x.com", "jose\u{301}@x.com"),
            // full-width: its new key is the one u1 has
            row("o", "u4", "\u{ff53}arah@x.com", "\u{ff53}arah@x.com"),
            // another org is another namespace
            row("p", "u5", "\u{ff53}arah@x.com", "\u{ff53}arah@x.com"),
        ];
        let RekeyPlan { changes, clashes } = rekey_plan(&rows);
        assert_eq!(
            changes,
            vec![
                (1, "jos\u{e9}@x.com".to_string()),
                (2, placeholder_key("u3")),
                (3, placeholder_key("u4")),
                (4, "sarah@x.com".to_string()),
            ]
        );
        assert_eq!(clashes, vec![(2, 1), (3, 0)]);
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
