//! Items: the mirrored delta feed, the lists the UI shows, and the author's history.

use sqlx::{QueryBuilder, Row};
use steward_core::{AuthorHistoryEntry, ItemPage, ItemSort, ItemState, ItemSummary};

use crate::rows::{self, ItemRecord};
use crate::{Store, StoreError};

/// Rows per statement: the whole page of a delta feed (the server's maximum) in one
/// multi-row insert; 16 columns x 500 rows stays below SQLite's 32766 parameters.
const INSERT_CHUNK: usize = 500;

/// Open items that a page brought in for the first time, per queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewItemsInQueue {
    pub queue_id: i64,
    pub count: i64,
}

impl Store {
    /// Stores one page of the items delta feed and, in the same transaction, its cursor,
    /// so a crash leaves either both or neither. Returns the open items that are new.
    pub async fn apply_items_page(
        &self,
        items: &[ItemRecord],
        cursor: Option<&str>,
        now: &str,
    ) -> Result<Vec<NewItemsInQueue>, StoreError> {
        let mut tx = self.write().await?;
        let mut new_items: Vec<NewItemsInQueue> = Vec::new();
        for chunk in items.chunks(INSERT_CHUNK) {
            let mut known = QueryBuilder::new("SELECT id FROM items WHERE id IN (");
            let mut separated = known.separated(", ");
            for item in chunk {
                separated.push_bind(item.id);
            }
            separated.push_unseparated(")");
            let known: std::collections::HashSet<i64> = known
                .build_query_scalar()
                .fetch_all(&mut *tx)
                .await?
                .into_iter()
                .collect();
            for item in chunk
                .iter()
                .filter(|i| i.state == "open" && !known.contains(&i.id))
            {
                match new_items.iter_mut().find(|n| n.queue_id == item.queue_id) {
                    Some(entry) => entry.count += 1,
                    None => new_items.push(NewItemsInQueue {
                        queue_id: item.queue_id,
                        count: 1,
                    }),
                }
            }
            upsert_items(&mut tx, chunk).await?;
        }
        if let Some(cursor) = cursor {
            crate::set_cursor(&mut tx, "items", cursor, now).await?;
        }
        tx.commit().await?;
        Ok(new_items)
    }

    /// A window of a queue's items in one (effective) state, for a virtualized list.
    pub async fn list_items_page(
        &self,
        queue_id: i64,
        state: ItemState,
        sort: ItemSort,
        offset: i64,
        limit: i64,
    ) -> Result<ItemPage, StoreError> {
        let total: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM items WHERE queue_id = ? AND effective_state = ?",
        )
        .bind(queue_id)
        .bind(state.as_str())
        .fetch_one(self.pool())
        .await?;
        let query = match sort {
            ItemSort::OldestFirst => concat!(
                "SELECT ",
                rows::summary_columns!(),
                " FROM items WHERE queue_id = ? AND effective_state = ? ORDER BY created_at, id LIMIT ? OFFSET ?"
            ),
            ItemSort::NewestFirst => concat!(
                "SELECT ",
                rows::summary_columns!(),
                " FROM items WHERE queue_id = ? AND effective_state = ? ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?"
            ),
            ItemSort::MostReported => concat!(
                "SELECT ",
                rows::summary_columns!(),
                " FROM items WHERE queue_id = ? AND effective_state = ? ORDER BY report_count DESC, created_at, id LIMIT ? OFFSET ?"
            ),
        };
        let found = sqlx::query(query)
            .bind(queue_id)
            .bind(state.as_str())
            .bind(limit.clamp(0, 1000))
            .bind(offset.max(0))
            .fetch_all(self.pool())
            .await?;
        Ok(ItemPage {
            total,
            offset: offset.max(0),
            items: found
                .iter()
                .map(rows::summary_from_row)
                .collect::<Result<_, _>>()?,
        })
    }

    /// Open items of a queue that have no local decision waiting, oldest first.
    pub async fn list_open_items(&self, queue_id: i64) -> Result<Vec<ItemSummary>, StoreError> {
        Ok(self
            .list_items_page(queue_id, ItemState::Open, ItemSort::OldestFirst, 0, 1000)
            .await?
            .items)
    }

    pub async fn item(&self, item_id: i64) -> Result<ItemRecord, StoreError> {
        let row = sqlx::query("SELECT * FROM items WHERE id = ?")
            .bind(item_id)
            .fetch_optional(self.pool())
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
        .fetch_optional(self.pool())
        .await?
        .ok_or(StoreError::ItemNotFound(item_id))?;
        rows::summary_from_row(&row)
    }

    /// The author's decided items (newest first, at most `limit`) and strikes (removals).
    pub async fn author_history(
        &self,
        author_id: i64,
        limit: i64,
    ) -> Result<(Vec<AuthorHistoryEntry>, i64), StoreError> {
        let found = sqlx::query(
            "SELECT id, title, effective_state, updated_at FROM items
             WHERE author_id = ? AND effective_state != 'open' ORDER BY updated_at DESC, id DESC LIMIT ?",
        )
        .bind(author_id)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        let strikes: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM items WHERE author_id = ? AND effective_state = 'removed'",
        )
        .bind(author_id)
        .fetch_one(self.pool())
        .await?;
        let history = found
            .iter()
            .map(|row| {
                let state: String = row.get("effective_state");
                Ok(AuthorHistoryEntry {
                    item_id: row.get("id"),
                    title: row.get("title"),
                    state: ItemState::parse(&state)
                        .ok_or_else(|| StoreError::Corrupt(format!("item state {state:?}")))?,
                    updated_at: row.get("updated_at"),
                })
            })
            .collect::<Result<_, StoreError>>()?;
        Ok((history, strikes))
    }
}

/// Inserts or updates items; an older version never overwrites a newer one.
pub(crate) async fn upsert_items(
    tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
    items: &[ItemRecord],
) -> Result<(), StoreError> {
    if items.is_empty() {
        return Ok(());
    }
    let mut builder = QueryBuilder::new(
        "INSERT INTO items (id, queue_id, state, version, title, body_html, author_id, author_username, author_status, reports_json, report_count, top_reason, claim_username, claim_expires_at, created_at, updated_at, object_json) ",
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
            .push_bind(&item.updated_at)
            .push_bind(&item.object_json);
    });
    // Claims move updated_at without bumping the version, so equal versions still update.
    builder.push(
        " ON CONFLICT(id) DO UPDATE SET queue_id = excluded.queue_id, state = excluded.state, version = excluded.version,
          title = excluded.title, body_html = excluded.body_html, author_id = excluded.author_id,
          author_username = excluded.author_username, author_status = excluded.author_status,
          reports_json = excluded.reports_json, report_count = excluded.report_count, top_reason = excluded.top_reason,
          claim_username = excluded.claim_username, claim_expires_at = excluded.claim_expires_at,
          created_at = excluded.created_at, updated_at = excluded.updated_at,
          object_json = excluded.object_json
          WHERE excluded.version > items.version
             OR (excluded.version = items.version AND excluded.updated_at >= items.updated_at)",
    );
    builder.build().execute(&mut **tx).await?;
    Ok(())
}
