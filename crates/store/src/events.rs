//! The System Log: events are written inside the transaction of the change they record,
//! and listed with time bounds, filters, keyword search and cursors. Events that record
//! no change of their own and come at a high rate (each SSO's `user.authentication.sso`)
//! go through a batching writer instead: a channel and one background task that writes
//! whatever has queued in one transaction. Listing waits for what is queued, so a read
//! never misses an event written before it; [`Store::close`] flushes too.

use crate::sqlfilter::{self, Bind, Column, ColumnKind};
use crate::{decode_cursor, encode_cursor, get, Page, Result, Store, StoreError};
use idhub_domain::event::NewEvent;
use idhub_domain::filter::Expr;
use idhub_domain::ids::OrgId;
use idhub_domain::time::Millis;
use sqlx::{AnyConnection, AnyPool};
use tokio::sync::{mpsc, oneshot};

/// Most events written in one batch transaction.
const MAX_BATCH: usize = 512;

enum Queued {
    Event(Box<(OrgId, NewEvent, Millis)>),
    Flush(oneshot::Sender<()>),
}

/// The batching event writer of a [`Store`]: its background task is started on first use
/// (on the runtime of that call) and ends when the last clone of the store is dropped.
#[derive(Debug, Default)]
pub(crate) struct EventBatcher {
    tx: std::sync::Mutex<Option<mpsc::UnboundedSender<Queued>>>,
}

impl EventBatcher {
    /// The channel to the writer task, starting it if needed (None outside a runtime).
    fn sender(&self, pool: &AnyPool) -> Option<mpsc::UnboundedSender<Queued>> {
        let mut guard = self.tx.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(tx) = guard.as_ref().filter(|t| !t.is_closed()) {
            return Some(tx.clone());
        }
        let runtime = tokio::runtime::Handle::try_current().ok()?;
        let (tx, rx) = mpsc::unbounded_channel();
        runtime.spawn(write_batches(pool.clone(), rx));
        *guard = Some(tx.clone());
        Some(tx)
    }

    /// The channel if the task runs (flushing never starts one).
    fn running(&self) -> Option<mpsc::UnboundedSender<Queued>> {
        self.tx.lock().unwrap_or_else(|p| p.into_inner()).as_ref().filter(|t| !t.is_closed()).cloned()
    }
}

/// The writer task: wait for one message, take everything else already queued (up to
/// [`MAX_BATCH`] events), write the events in one transaction, then answer the flushes
/// that were queued behind them.
async fn write_batches(pool: AnyPool, mut rx: mpsc::UnboundedReceiver<Queued>) {
    let mut events: Vec<(OrgId, NewEvent, Millis)> = Vec::new();
    let mut flushes: Vec<oneshot::Sender<()>> = Vec::new();
    while let Some(first) = rx.recv().await {
        let mut next = Some(first);
        while let Some(m) = next.take() {
            match m {
                Queued::Event(e) => events.push(*e),
                Queued::Flush(done) => flushes.push(done),
            }
            if events.len() < MAX_BATCH {
                next = rx.try_recv().ok();
            }
        }
        if !events.is_empty() {
            let mut attempt = 0;
            loop {
                match write_batch(&pool, &events).await {
                    Ok(()) => break,
                    Err(e) if attempt < 3 => {
                        attempt += 1;
                        tracing::warn!(events = events.len(), "System Log batch not written, retrying: {e}");
                        tokio::time::sleep(std::time::Duration::from_millis(50 * attempt)).await;
                    }
                    Err(e) => {
                        tracing::error!(events = events.len(), "System Log batch lost: {e}");
                        break;
                    }
                }
            }
            events.clear();
        }
        for done in flushes.drain(..) {
            let _ = done.send(());
        }
    }
}

async fn write_batch(pool: &AnyPool, events: &[(OrgId, NewEvent, Millis)]) -> Result<()> {
    let mut tx = pool.begin().await?;
    for (org, e, now) in events {
        insert(&mut tx, org, std::slice::from_ref(e), *now).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Write events (inside the caller's transaction).
pub(crate) async fn insert(conn: &mut AnyConnection, org: &OrgId, events: &[NewEvent], now: Millis) -> Result<()> {
    for e in events {
        let uuid = new_uuid();
        let body = e.to_okta_json(&uuid, now);
        let first = e.targets.first();
        sqlx::query(
            "INSERT INTO log_events (org_id, uuid, published, event_type, severity, display_message, outcome, actor_id, actor_alternate_id, actor_display_name, target_id, target_alternate_id, target_type, client_ip, transaction_id, body) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
        )
        .bind(org.as_str())
        .bind(&uuid)
        .bind(now)
        .bind(&e.event_type)
        .bind(e.severity)
        .bind(&e.display_message)
        .bind(e.outcome)
        .bind(&e.actor.id)
        .bind(&e.actor.alternate_id)
        .bind(&e.actor.display_name)
        .bind(first.map(|t| t.id.clone()))
        .bind(first.map(|t| t.alternate_id.clone()))
        .bind(first.map(|t| t.kind.clone()))
        .bind(e.client.ip_address.clone())
        .bind(e.client.request_id.clone())
        .bind(body.to_string())
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// A random RFC 4122 version-4 UUID.
fn new_uuid() -> String {
    use rand::RngCore;
    let mut b = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!("{}-{}-{}-{}-{}", &h[0..8], &h[8..12], &h[12..16], &h[16..20], &h[20..32])
}

/// What to list.
#[derive(Debug, Clone)]
pub struct LogQuery {
    pub since: Millis,
    pub until: Option<Millis>,
    pub filter: Option<Expr>,
    pub q: Vec<String>,
    pub limit: i64,
    pub after: Option<String>,
    pub descending: bool,
    /// A polling query always returns a next cursor, even at the end.
    pub always_next: bool,
}

fn log_column(attr: &str) -> Option<Column> {
    let text = |c: &str| Some(Column { sql: c.to_string(), kind: ColumnKind::Text });
    match attr {
        "eventType" => text("event_type"),
        "outcome.result" => text("outcome"),
        "severity" => text("severity"),
        "displayMessage" => text("display_message"),
        "uuid" => text("uuid"),
        "actor.id" => text("actor_id"),
        "actor.alternateId" => text("actor_alternate_id"),
        "actor.displayName" => text("actor_display_name"),
        "target.id" => text("target_id"),
        "target.alternateId" => text("target_alternate_id"),
        "target.type" => text("target_type"),
        "client.ipAddress" => text("client_ip"),
        "transaction.id" => text("transaction_id"),
        "published" => Some(Column { sql: "published".into(), kind: ColumnKind::Millis }),
        _ => None,
    }
}

impl Store {
    /// List System Log events of an org. Returns the events' Okta JSON.
    pub async fn list_events(&self, org: &OrgId, q: &LogQuery) -> Result<Page<serde_json::Value>> {
        self.flush_events().await;
        let mut sql = String::from("SELECT seq, body FROM log_events WHERE org_id = $1 AND published >= $2");
        let mut binds: Vec<Bind> = vec![Bind::Text(org.0.clone()), Bind::Int(q.since)];
        if let Some(until) = q.until {
            binds.push(Bind::Int(until));
            sql.push_str(&format!(" AND published < ${}", binds.len()));
        }
        if let Some(after) = &q.after {
            let seq = decode_cursor(after).ok_or(StoreError::NotFound)?;
            binds.push(Bind::Int(seq));
            sql.push_str(&format!(" AND seq {} ${}", if q.descending { "<" } else { ">" }, binds.len()));
        }
        if let Some(filter) = &q.filter {
            let w = sqlfilter::to_sql(filter, binds.len() + 1, &log_column, false).map_err(|e| StoreError::Config(e.to_string()))?;
            sql.push_str(" AND ");
            sql.push_str(&w.sql);
            binds.extend(w.binds);
        }
        for word in &q.q {
            let pattern = format!("%{}%", crate::sql::escape_like(&word.to_lowercase()));
            binds.push(Bind::Text(pattern));
            let n = binds.len();
            sql.push_str(&format!(
                " AND (LOWER(display_message) LIKE ${n} ESCAPE '\\' OR LOWER(event_type) LIKE ${n} ESCAPE '\\' OR LOWER(actor_alternate_id) LIKE ${n} ESCAPE '\\' OR LOWER(actor_display_name) LIKE ${n} ESCAPE '\\' OR LOWER(COALESCE(target_alternate_id, '')) LIKE ${n} ESCAPE '\\')"
            ));
        }
        sql.push_str(if q.descending { " ORDER BY seq DESC" } else { " ORDER BY seq ASC" });
        binds.push(Bind::Int(q.limit + 1));
        sql.push_str(&format!(" LIMIT ${}", binds.len()));
        let rows = crate::sql::bind_all(sqlx::query(&sql), &binds).fetch_all(self.read_pool()).await?;
        let mut items = Vec::with_capacity(rows.len());
        let mut last_seq = None;
        let more = rows.len() as i64 > q.limit;
        for row in rows.iter().take(q.limit.max(0) as usize) {
            let seq: i64 = get(row, "seq")?;
            let body: String = get(row, "body")?;
            items.push(serde_json::from_str(&body).map_err(|e| StoreError::Corrupt(e.to_string()))?);
            last_seq = Some(seq);
        }
        let next = if more || q.always_next {
            match (last_seq, &q.after) {
                (Some(seq), _) => Some(encode_cursor(seq)),
                (None, Some(after)) => Some(after.clone()),
                (None, None) => Some(encode_cursor(if q.descending { i64::MAX } else { 0 })),
            }
        } else {
            None
        };
        Ok(Page { items, next })
    }
}

impl Store {
    /// Write events on their own (attempts that change nothing else, such as a failed
    /// sign-in of an unknown user).
    pub async fn create_events(&self, org: &OrgId, events: &[NewEvent], now: Millis) -> Result<()> {
        let mut tx = self.write_pool().begin().await?;
        insert(&mut tx, org, events, now).await?;
        tx.commit().await?;
        Ok(())
    }
}

impl Store {
    /// Queue an event for the batching writer (for events that record no change of their
    /// own, at a high rate: SSO outcomes). It is written within milliseconds; a listing or
    /// [`Store::flush_events`] waits for it. Outside a tokio runtime it is written at once.
    pub async fn log_event_batched(&self, org: &OrgId, event: NewEvent, now: Millis) -> Result<()> {
        match self.events.sender(self.write_pool()) {
            Some(tx) => match tx.send(Queued::Event(Box::new((org.clone(), event, now)))) {
                Ok(()) => Ok(()),
                // the task's runtime is gone: write it here
                Err(mpsc::error::SendError(Queued::Event(e))) => self.create_events(&e.0, &[e.1], e.2).await,
                Err(_) => Ok(()),
            },
            None => self.create_events(org, &[event], now).await,
        }
    }

    /// Wait until every event queued so far is written (or its write failed).
    pub async fn flush_events(&self) {
        if let Some(tx) = self.events.running() {
            let (done, wait) = oneshot::channel();
            if tx.send(Queued::Flush(done)).is_ok() {
                let _ = wait.await;
            }
        }
    }
}
