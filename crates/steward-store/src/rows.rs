//! Rows as the cache stores them, and their conversions.

use sqlx::Row;
use sqlx::sqlite::SqliteRow;
use steward_core::{DecisionAction, ItemState, ItemSummary};

use crate::StoreError;

/// The columns `summary_from_row` reads, as a macro so queries stay static strings.
macro_rules! summary_columns {
    () => {
        "id, queue_id, state, version, title, author_username, report_count, top_reason, created_at, updated_at, pending_action"
    };
}
pub(crate) use summary_columns;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueRecord {
    pub id: i64,
    pub slug: String,
    pub name: String,
    pub priority: i64,
    pub open_count: i64,
    pub oldest_open_at: Option<String>,
}

/// An item exactly as the server last described it (plus nothing local).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ItemRecord {
    pub id: i64,
    pub queue_id: i64,
    pub state: String,
    pub version: i64,
    pub title: String,
    /// Untrusted HTML as submitted by the product's user. Sanitize before showing.
    pub body_html: String,
    /// None when the product does not know who wrote it; the name and status are then ''.
    pub author_id: Option<i64>,
    pub author_username: String,
    pub author_status: String,
    /// The reports as a JSON array of `{reason, note, created_at}`.
    pub reports_json: String,
    pub report_count: i64,
    pub top_reason: Option<String>,
    pub claim_username: Option<String>,
    pub claim_expires_at: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    /// The product object the item is about, as the server's JSON
    /// (`{type, label, key, url, deleted}`).
    pub object_json: Option<String>,
}

impl ItemRecord {
    pub(crate) fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "id": self.id, "queue": self.queue_id, "state": self.state, "version": self.version,
            "title": self.title, "author_username": self.author_username, "updated_at": self.updated_at,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxRow {
    pub id: i64,
    pub idempotency_key: String,
    pub kind: String,
    pub target_id: i64,
    pub payload: serde_json::Value,
    pub base_version: i64,
    pub attempts: i64,
    pub group_id: String,
    /// The row waits until then before it is pushed (the undo window).
    pub not_before: String,
    /// The row went out at least once (maybe just before a crash).
    pub sending: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ReasonTemplateRecord {
    pub id: i64,
    pub scope: String,
    pub code: String,
    pub label: String,
    pub text: String,
    pub actions_json: String,
    pub position: i64,
    pub updated_at: String,
}

pub(crate) fn summary_from_row(row: &SqliteRow) -> Result<ItemSummary, StoreError> {
    let state: String = row.get("state");
    let pending: Option<String> = row.get("pending_action");
    Ok(ItemSummary {
        id: row.get("id"),
        queue_id: row.get("queue_id"),
        state: ItemState::parse(&state)
            .ok_or_else(|| StoreError::Corrupt(format!("unknown item state {state:?}")))?,
        version: row.get("version"),
        title: row.get("title"),
        author_username: row.get("author_username"),
        report_count: row.get("report_count"),
        top_reason: row.get("top_reason"),
        created_at: row.get("created_at"),
        updated_at: row.get("updated_at"),
        pending_action: pending
            .map(|text| {
                DecisionAction::parse(&text)
                    .ok_or_else(|| StoreError::Corrupt(format!("unknown pending action {text:?}")))
            })
            .transpose()?,
    })
}

pub(crate) fn record_from_row(row: &SqliteRow) -> Result<ItemRecord, StoreError> {
    Ok(ItemRecord {
        id: row.get("id"),
        queue_id: row.get("queue_id"),
        state: row.get("state"),
        version: row.get("version"),
        title: row.get("title"),
        body_html: row.get("body_html"),
        author_id: row.get("author_id"),
        author_username: row.get("author_username"),
        author_status: row.get("author_status"),
        reports_json: row.get("reports_json"),
        report_count: row.get("report_count"),
        top_reason: row.get("top_reason"),
        claim_username: row.get("claim_username"),
        claim_expires_at: row.get("claim_expires_at"),
        created_at: row.get("created_at"),
        updated_at: row.get("updated_at"),
        object_json: row.get("object_json"),
    })
}

pub(crate) fn outbox_from_row(row: &SqliteRow) -> Result<OutboxRow, StoreError> {
    let payload: String = row.get("payload_json");
    Ok(OutboxRow {
        id: row.get("id"),
        idempotency_key: row.get("idempotency_key"),
        kind: row.get("kind"),
        target_id: row.get("target_id"),
        payload: serde_json::from_str(&payload)
            .map_err(|e| StoreError::Corrupt(format!("outbox payload: {e}")))?,
        base_version: row.get("base_version"),
        attempts: row.get("attempts"),
        group_id: row.get("group_id"),
        not_before: row.get("not_before"),
        sending: row.get::<i64, _>("sending") != 0,
    })
}
