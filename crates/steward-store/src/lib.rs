//! The local cache of one (environment, account): a SQLite file in WAL mode.
//!
//! [`Store`] is the only way into the file. Migrations run on open. Every write that must
//! be atomic (a page of rows with its cursor, an outbox row with its optimistic change, a
//! push result with its cache update) is one transaction here.

mod rows;

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{QueryBuilder, Row, SqlitePool};
use steward_core::{DecisionAction, ItemState, ItemSummary, QueueSummary};

pub use crate::rows::{ItemRecord, OutboxRow, QueueRecord};

/// Rows per multi-VALUES statement: 17 columns x 100 rows stays far below SQLite's limit.
const INSERT_CHUNK: usize = 100;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open the cache at {path}: {source}")]
    Open { path: String, source: sqlx::Error },
    #[error("cannot migrate the cache: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("cache query failed: {0}")]
    Query(#[from] sqlx::Error),
    #[error("item {0} is not in the cache")]
    ItemNotFound(i64),
    #[error("item {item_id} is {state} already; only open items can be decided")]
    ItemNotOpen { item_id: i64, state: String },
    #[error("item {0} already has a decision waiting to be sent")]
    DecisionPending(i64),
    #[error("the cache holds a row it cannot read: {0}")]
    Corrupt(String),
}

#[derive(Debug, Clone)]
pub struct Store {
    pool: SqlitePool,
}

/// A decision to write into the outbox.
#[derive(Debug, Clone)]
pub struct NewDecision<'a> {
    pub item_id: i64,
    pub action: DecisionAction,
    pub reason_code: &'a str,
    pub note: &'a str,
    pub idempotency_key: &'a str,
    pub now: &'a str,
}

impl Store {
    /// Opens (creating if needed) the cache file and brings its schema up to date.
    pub async fn open(path: &Path) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::from_str(&format!("sqlite://{}", path.display()))
            .map_err(|source| StoreError::Open {
                path: path.display().to_string(),
                source,
            })?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await
            .map_err(|source| StoreError::Open {
                path: path.display().to_string(),
                source,
            })?;
        sqlx::migrate!("../../migrations").run(&pool).await?;
        Ok(Self { pool })
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }

    pub async fn get_meta(&self, key: &str) -> Result<Option<String>, StoreError> {
        Ok(sqlx::query_scalar("SELECT value FROM meta WHERE key = ?")
            .bind(key)
            .fetch_optional(&self.pool)
            .await?)
    }

    pub async fn set_meta(&self, key: &str, value: &str) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value")
            .bind(key)
            .bind(value)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn cursor(&self, collection: &str) -> Result<Option<String>, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT cursor FROM sync_cursors WHERE collection = ?")
                .bind(collection)
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    /// Replaces the queue list with the server's (queues are few; the list is pulled whole).
    pub async fn replace_queues(
        &self,
        queues: &[QueueRecord],
        now: &str,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("DELETE FROM queues").execute(&mut *tx).await?;
        for queue in queues {
            sqlx::query("INSERT INTO queues (id, slug, name, priority, open_count, oldest_open_at, synced_at) VALUES (?, ?, ?, ?, ?, ?, ?)")
                .bind(queue.id)
                .bind(&queue.slug)
                .bind(&queue.name)
                .bind(queue.priority)
                .bind(queue.open_count)
                .bind(&queue.oldest_open_at)
                .bind(now)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Stores one page of the items delta feed and, in the same transaction, its cursor,
    /// so a crash leaves either both or neither.
    pub async fn apply_items_page(
        &self,
        items: &[ItemRecord],
        cursor: Option<&str>,
        now: &str,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        for chunk in items.chunks(INSERT_CHUNK) {
            upsert_items(&mut tx, chunk).await?;
        }
        if let Some(cursor) = cursor {
            sqlx::query("INSERT INTO sync_cursors (collection, cursor, synced_at) VALUES ('items', ?, ?) ON CONFLICT(collection) DO UPDATE SET cursor = excluded.cursor, synced_at = excluded.synced_at")
                .bind(cursor)
                .bind(now)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Queues sorted by priority, with counts computed from the mirrored items so they
    /// agree with what the item list shows, offline and with pending decisions.
    pub async fn list_queues(&self) -> Result<Vec<QueueSummary>, StoreError> {
        let rows = sqlx::query(
            "SELECT q.id, q.slug, q.name, q.priority,
                    (SELECT count(*) FROM items i WHERE i.queue_id = q.id AND i.state = 'open' AND i.pending_action IS NULL) AS open_count,
                    (SELECT min(i.created_at) FROM items i WHERE i.queue_id = q.id AND i.state = 'open' AND i.pending_action IS NULL) AS oldest_open_at
             FROM queues q ORDER BY q.priority DESC, q.name, q.id",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|row| QueueSummary {
                id: row.get("id"),
                slug: row.get("slug"),
                name: row.get("name"),
                priority: row.get("priority"),
                open_count: row.get("open_count"),
                oldest_open_at: row.get("oldest_open_at"),
            })
            .collect())
    }

    /// Open items of a queue that have no local decision waiting, oldest first.
    pub async fn list_open_items(&self, queue_id: i64) -> Result<Vec<ItemSummary>, StoreError> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            rows::summary_columns!(),
            " FROM items WHERE queue_id = ? AND state = 'open' AND pending_action IS NULL ORDER BY created_at, id"
        ))
        .bind(queue_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(rows::summary_from_row).collect()
    }

    pub async fn item(&self, item_id: i64) -> Result<ItemRecord, StoreError> {
        let row = sqlx::query("SELECT * FROM items WHERE id = ?")
            .bind(item_id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::ItemNotFound(item_id))?;
        rows::record_from_row(&row)
    }

    pub async fn item_summary(&self, item_id: i64) -> Result<ItemSummary, StoreError> {
        let row = sqlx::query(concat!(
            "SELECT ",
            rows::summary_columns!(),
            " FROM items WHERE id = ?"
        ))
        .bind(item_id)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::ItemNotFound(item_id))?;
        rows::summary_from_row(&row)
    }

    /// Writes the outbox row and the optimistic change in one transaction.
    pub async fn enqueue_decision(
        &self,
        decision: &NewDecision<'_>,
    ) -> Result<ItemSummary, StoreError> {
        let mut tx = self.pool.begin().await?;
        let row = sqlx::query("SELECT state, version, pending_action FROM items WHERE id = ?")
            .bind(decision.item_id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(StoreError::ItemNotFound(decision.item_id))?;
        let state: String = row.get("state");
        let version: i64 = row.get("version");
        let pending: Option<String> = row.get("pending_action");
        if state != ItemState::Open.as_str() {
            return Err(StoreError::ItemNotOpen {
                item_id: decision.item_id,
                state,
            });
        }
        if pending.is_some() {
            return Err(StoreError::DecisionPending(decision.item_id));
        }
        let payload = serde_json::json!({
            "action": decision.action.as_str(),
            "reason_code": decision.reason_code,
            "note": decision.note,
            "base_version": version,
        });
        sqlx::query("INSERT INTO outbox (idempotency_key, kind, target_id, payload_json, base_version, created_at) VALUES (?, 'decide_item', ?, ?, ?, ?)")
            .bind(decision.idempotency_key)
            .bind(decision.item_id)
            .bind(payload.to_string())
            .bind(version)
            .bind(decision.now)
            .execute(&mut *tx)
            .await?;
        sqlx::query("UPDATE items SET pending_action = ? WHERE id = ?")
            .bind(decision.action.as_str())
            .bind(decision.item_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        self.item_summary(decision.item_id).await
    }

    /// The oldest outbox row still waiting to be pushed.
    pub async fn next_pending(&self) -> Result<Option<OutboxRow>, StoreError> {
        let row = sqlx::query("SELECT * FROM outbox WHERE status = 'pending' ORDER BY id LIMIT 1")
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(rows::outbox_from_row).transpose()
    }

    pub async fn record_push_failure(&self, outbox_id: i64, error: &str) -> Result<(), StoreError> {
        sqlx::query("UPDATE outbox SET attempts = attempts + 1, last_error = ? WHERE id = ?")
            .bind(error)
            .bind(outbox_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The server applied the action: store its item and drop the row, atomically.
    pub async fn complete_push(&self, outbox_id: i64, item: &ItemRecord) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        upsert_items(&mut tx, std::slice::from_ref(item)).await?;
        settle_item(&mut tx, outbox_id).await?;
        sqlx::query("DELETE FROM outbox WHERE id = ?")
            .bind(outbox_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The server's state moved on: keep the row as a conflict next to the server's item.
    pub async fn mark_conflict(
        &self,
        outbox_id: i64,
        server_item: Option<&ItemRecord>,
        message: &str,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        if let Some(item) = server_item {
            upsert_items(&mut tx, std::slice::from_ref(item)).await?;
        }
        settle_item(&mut tx, outbox_id).await?;
        sqlx::query("UPDATE outbox SET status = 'conflict', last_error = ?, server_state_json = ? WHERE id = ?")
            .bind(message)
            .bind(server_item.map(|item| item.to_json().to_string()))
            .bind(outbox_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The server refused the action for good: roll the optimistic change back.
    pub async fn reject_push(&self, outbox_id: i64, message: &str) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        settle_item(&mut tx, outbox_id).await?;
        sqlx::query("UPDATE outbox SET status = 'rejected', last_error = ? WHERE id = ?")
            .bind(message)
            .bind(outbox_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// (pending, conflicts) counts for the status bar.
    pub async fn outbox_counts(&self) -> Result<(i64, i64), StoreError> {
        let row = sqlx::query(
            "SELECT coalesce(sum(status = 'pending'), 0) AS pending, coalesce(sum(status = 'conflict'), 0) AS conflicts FROM outbox",
        )
        .fetch_one(&self.pool)
        .await?;
        Ok((row.get("pending"), row.get("conflicts")))
    }
}

/// Clears the optimistic overlay of the item an outbox row acted on.
async fn settle_item(
    tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
    outbox_id: i64,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE items SET pending_action = NULL WHERE id = (SELECT target_id FROM outbox WHERE id = ?)")
        .bind(outbox_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Inserts or updates items; an older version never overwrites a newer one.
async fn upsert_items(
    tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
    items: &[ItemRecord],
) -> Result<(), StoreError> {
    if items.is_empty() {
        return Ok(());
    }
    let mut builder = QueryBuilder::new(
        "INSERT INTO items (id, queue_id, state, version, title, body_html, author_id, author_username, author_status, reports_json, report_count, top_reason, claim_username, claim_expires_at, created_at, updated_at) ",
    );
    builder.push_values(items, |mut row, item| {
        row.push_bind(item.id)
            .push_bind(item.queue_id)
            .push_bind(&item.state)
            .push_bind(item.version)
            .push_bind(&item.title)
            .push_bind(&item.body_html)
            .push_bind(item.author_id)
            .push_bind(&item.author_username)
            .push_bind(&item.author_status)
            .push_bind(&item.reports_json)
            .push_bind(item.report_count)
            .push_bind(&item.top_reason)
            .push_bind(&item.claim_username)
            .push_bind(&item.claim_expires_at)
            .push_bind(&item.created_at)
            .push_bind(&item.updated_at);
    });
    builder.push(
        " ON CONFLICT(id) DO UPDATE SET queue_id = excluded.queue_id, state = excluded.state, version = excluded.version,
          title = excluded.title, body_html = excluded.body_html, author_id = excluded.author_id,
          author_username = excluded.author_username, author_status = excluded.author_status,
          reports_json = excluded.reports_json, report_count = excluded.report_count, top_reason = excluded.top_reason,
          claim_username = excluded.claim_username, claim_expires_at = excluded.claim_expires_at,
          created_at = excluded.created_at, updated_at = excluded.updated_at
          WHERE excluded.version >= items.version",
    );
    builder.build().execute(&mut **tx).await?;
    Ok(())
}
