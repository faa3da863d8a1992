//! The local cache of one (environment, account): a SQLite file in WAL mode.
//!
//! [`Store`] is the only way into the file. Migrations run on open. Every write that must
//! be atomic (a page of rows with its cursor, outbox rows with their optimistic change, a
//! push result with its cache update) is one transaction here.

mod accounts;
mod audit;
mod items;
mod jobs;
mod outbox;
mod rows;
mod sending;
mod unsent;

use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Row, SqlitePool};
use steward_core::error::sentence;
use steward_core::{AppError, ErrorCode, QueueSummary, ReasonTemplate};

pub use crate::accounts::{AccountRecord, NoteRecord};
pub use crate::audit::{AUDIT_TOTAL_CAP, AuditRecord, fts_query};
pub use crate::items::NewItemsInQueue;
pub use crate::jobs::{JobRecord, NewlyFailed};
pub use crate::outbox::{NewAction, OutboxKind, ServerChanges};
pub use crate::rows::{ItemRecord, OutboxRow, QueueRecord, ReasonTemplateRecord};
pub use crate::sending::NextPush;
pub use crate::unsent::OutboxCounts;

/// Rows written per transaction while a feed has more pages (a first download, or
/// catching up after time offline). Rows land at random places in the indexes, so each
/// commit rewrites many index pages; fewer, larger commits write far less
/// (bench/ingest). The sync writes a feed's first page alone, so the UI has rows at once.
pub const CATCH_UP_BATCH_ROWS: usize = 10_000;

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
    #[error("there is nothing to undo")]
    NothingToUndo,
    #[error("the last action was already sent to the server and cannot be undone here")]
    AlreadySent,
    #[error("account {0} is not in the cache")]
    AccountNotFound(i64),
    #[error("account {0} already has an action waiting to be sent")]
    AccountActionPending(i64),
    #[error("job {0} is not in the cache")]
    JobNotFound(i64),
    #[error("conflict {0} is not in the cache")]
    ConflictNotFound(i64),
    #[error("refused action {0} is not in the cache")]
    RefusedNotFound(i64),
    #[error("this cache belongs to {cache}, not to {asked}")]
    OtherServer { cache: String, asked: String },
    #[error("the cache holds a row it cannot read: {0}")]
    Corrupt(String),
}

/// The one mapping from cache errors to the UI's error codes: a missing row is
/// `not_found`, a row in the wrong state `conflict`, an undo that cannot be done
/// `invalid_input`, anything else `storage`.
impl From<StoreError> for AppError {
    fn from(error: StoreError) -> Self {
        let code = match &error {
            StoreError::ItemNotFound(_)
            | StoreError::ConflictNotFound(_)
            | StoreError::RefusedNotFound(_)
            | StoreError::AccountNotFound(_)
            | StoreError::JobNotFound(_) => ErrorCode::NotFound,
            StoreError::ItemNotOpen { .. }
            | StoreError::DecisionPending(_)
            | StoreError::AccountActionPending(_) => ErrorCode::Conflict,
            StoreError::NothingToUndo | StoreError::AlreadySent => ErrorCode::InvalidInput,
            _ => ErrorCode::Storage,
        };
        match code {
            ErrorCode::Storage => AppError::storage(error),
            _ => AppError::new(code, sentence(&error.to_string())),
        }
    }
}

/// Page cache per connection, in KiB.
const CACHE_KIB: u64 = 64 * 1024;
/// Address space mapped for reading the database file.
const MMAP_BYTES: u64 = 256 * 1024 * 1024;
/// SQLite's own checkpoint only if the log reaches ~200 MB (the checkpoint task stalled).
const WAL_SAFETY_LIMIT_PAGES: u64 = 50_000;
const JOURNAL_SIZE_LIMIT: u64 = 64 * 1024 * 1024;
/// How often the checkpoint task copies the log into the database file.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(500);

#[derive(Debug, Clone)]
pub struct Store {
    pool: SqlitePool,
    /// Stops the checkpoint task when the last clone of this store is dropped.
    _checkpointer: Arc<Checkpointer>,
}

#[derive(Debug)]
struct Checkpointer(tokio::task::JoinHandle<()>);

impl Drop for Checkpointer {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Copies the write-ahead log into the database file in the background. A PASSIVE
/// checkpoint takes no write lock and skips pages a reader still needs, so it never
/// blocks a write; what it leaves is copied on a later round. On an idle cache a round
/// finds nothing to copy and costs a few microseconds.
async fn checkpoint_loop(pool: SqlitePool) {
    let mut every = tokio::time::interval(CHECKPOINT_EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        if pool.is_closed() {
            return;
        }
        if let Err(error) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
            .execute(&pool)
            .await
        {
            if pool.is_closed() {
                return;
            }
            tracing::warn!(%error, "cache checkpoint failed; retrying on the next round");
        }
    }
}

impl Store {
    /// Opens (creating if needed) the cache file and brings its schema up to date.
    pub async fn open(path: &Path) -> Result<Self, StoreError> {
        let open_error = |source| StoreError::Open {
            path: path.display().to_string(),
            source,
        };
        let options = SqliteConnectOptions::from_str(&format!("sqlite://{}", path.display()))
            .map_err(open_error)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10))
            // Large downloads touch index pages all over the file: keep them in memory
            // (per connection; the cache only grows as far as it is used) and read the
            // database file through mmap instead of one pread per page.
            .pragma("cache_size", format!("-{}", CACHE_KIB))
            .pragma("mmap_size", MMAP_BYTES.to_string())
            // Checkpoints run on their own task (`checkpoint_loop`), not inside whichever
            // commit crosses SQLite's threshold, so neither a download nor a moderator's
            // decision waits for one. This limit only bounds the log if that task stalls.
            .pragma("wal_autocheckpoint", WAL_SAFETY_LIMIT_PAGES.to_string())
            // After a checkpoint the log file is cut back to this size.
            .pragma("journal_size_limit", JOURNAL_SIZE_LIMIT.to_string());
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await
            .map_err(open_error)?;
        sqlx::migrate!("../../migrations").run(&pool).await?;
        let checkpointer = Arc::new(Checkpointer(tokio::spawn(checkpoint_loop(pool.clone()))));
        Ok(Self {
            pool,
            _checkpointer: checkpointer,
        })
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }

    pub(crate) fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// A write transaction. BEGIN IMMEDIATE takes the write lock up front: a deferred
    /// transaction that reads first cannot upgrade once another connection has written,
    /// and SQLite then fails it at once ("database is locked") instead of waiting out the
    /// busy timeout, e.g. when an action lands in the middle of a large download.
    pub(crate) async fn write(
        &self,
    ) -> Result<sqlx::Transaction<'static, sqlx::Sqlite>, sqlx::Error> {
        self.pool.begin_with("BEGIN IMMEDIATE").await
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

    /// Binds this cache to the server it mirrors, or checks that it already is: a cache
    /// and its outbox (item ids, versions, cursors) mean nothing to another server.
    pub async fn bind_server(&self, server_url: &str) -> Result<(), StoreError> {
        match self.get_meta("server_url").await? {
            None => self.set_meta("server_url", server_url).await,
            Some(cache) if cache == server_url => Ok(()),
            Some(cache) => Err(StoreError::OtherServer {
                cache,
                asked: server_url.to_string(),
            }),
        }
    }

    /// Drops a mirrored collection ("accounts", "audit" or "jobs") and its cursor, when
    /// the user may no longer read it; a later grant downloads it again from the start.
    pub async fn forget_collection(&self, collection: &str) -> Result<(), StoreError> {
        let statements: &[&'static str] = match collection {
            // Rows an outbox entry is about stay (pending, in conflict or refused): the
            // user's own actions still name what they were about.
            "accounts" => &[
                "DELETE FROM account_notes WHERE id > 0",
                "DELETE FROM accounts WHERE id NOT IN (SELECT target_id FROM outbox WHERE kind IN ('account_action', 'add_account_note'))",
            ],
            "audit" => &[
                "DELETE FROM audit_events",
                "INSERT INTO audit_fts (audit_fts) VALUES ('delete-all')",
            ],
            "jobs" => &[
                "DELETE FROM jobs WHERE id NOT IN (SELECT target_id FROM outbox WHERE kind IN ('retry_job', 'cancel_job'))",
            ],
            other => return Err(StoreError::Corrupt(format!("no collection {other:?}"))),
        };
        let mut tx = self.write().await?;
        for statement in statements {
            sqlx::query(*statement).execute(&mut *tx).await?;
        }
        sqlx::query("DELETE FROM sync_cursors WHERE collection = ?")
            .bind(collection)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
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
        let mut tx = self.write().await?;
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

    /// How many items the cache mirrors, in any state (a complete first download has them all).
    pub async fn item_count(&self) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar("SELECT count(*) FROM items")
            .fetch_one(self.pool())
            .await?)
    }

    /// Queues sorted by priority, with counts computed from the mirrored items so they
    /// agree with what the item list shows, offline and with pending decisions.
    pub async fn list_queues(&self) -> Result<Vec<QueueSummary>, StoreError> {
        let rows = sqlx::query(
            "SELECT q.id, q.slug, q.name, q.priority,
                    (SELECT count(*) FROM items i WHERE i.queue_id = q.id AND i.effective_state = 'open') AS open_count,
                    (SELECT min(i.created_at) FROM items i WHERE i.queue_id = q.id AND i.effective_state = 'open') AS oldest_open_at
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

    pub async fn queue(&self, queue_id: i64) -> Result<Option<QueueRecord>, StoreError> {
        let row = sqlx::query("SELECT * FROM queues WHERE id = ?")
            .bind(queue_id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|row| QueueRecord {
            id: row.get("id"),
            slug: row.get("slug"),
            name: row.get("name"),
            priority: row.get("priority"),
            open_count: row.get("open_count"),
            oldest_open_at: row.get("oldest_open_at"),
        }))
    }

    /// Replaces the reason templates with the server's (they are few). Returns whether
    /// they differ from what the cache held, so the UI re-reads them only then.
    pub async fn replace_reason_templates(
        &self,
        templates: &[ReasonTemplateRecord],
    ) -> Result<bool, StoreError> {
        let mut tx = self.write().await?;
        let held: Vec<ReasonTemplateRecord> = sqlx::query_as(
            "SELECT id, scope, code, label, text, actions_json, position, updated_at FROM reason_templates ORDER BY id",
        )
        .fetch_all(&mut *tx)
        .await?;
        let mut incoming = templates.to_vec();
        incoming.sort_by_key(|t| t.id);
        if held == incoming {
            return Ok(false);
        }
        sqlx::query("DELETE FROM reason_templates")
            .execute(&mut *tx)
            .await?;
        for template in templates {
            sqlx::query("INSERT INTO reason_templates (id, scope, code, label, text, actions_json, position, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
                .bind(template.id)
                .bind(&template.scope)
                .bind(&template.code)
                .bind(&template.label)
                .bind(&template.text)
                .bind(&template.actions_json)
                .bind(template.position)
                .bind(&template.updated_at)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    pub async fn list_reason_templates(
        &self,
        scope: &str,
    ) -> Result<Vec<ReasonTemplate>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, scope, code, label, text, actions_json FROM reason_templates WHERE scope = ? ORDER BY position, label, id",
        )
        .bind(scope)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let actions: String = row.get("actions_json");
                Ok(ReasonTemplate {
                    id: row.get("id"),
                    scope: row.get("scope"),
                    code: row.get("code"),
                    label: row.get("label"),
                    text: row.get("text"),
                    actions: serde_json::from_str(&actions)
                        .map_err(|e| StoreError::Corrupt(format!("template actions: {e}")))?,
                })
            })
            .collect()
    }
}

/// Moves a delta feed's cursor, inside the transaction that stored the rows it covers.
pub(crate) async fn set_cursor(
    tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
    collection: &str,
    cursor: &str,
    now: &str,
) -> Result<(), StoreError> {
    sqlx::query("INSERT INTO sync_cursors (collection, cursor, synced_at) VALUES (?, ?, ?) ON CONFLICT(collection) DO UPDATE SET cursor = excluded.cursor, synced_at = excluded.synced_at")
        .bind(collection)
        .bind(cursor)
        .bind(now)
        .execute(&mut **tx)
        .await?;
    Ok(())
}
