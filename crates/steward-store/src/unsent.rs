//! What is left in the outbox that the server has not taken: counts for the status bar
//! and for signing out, conflicts to resolve and refusals to read.

use sqlx::Row;
use steward_core::{ConflictInfo, DecisionAction, ItemState, RefusedAction, UnsentWork};

use crate::outbox::OutboxKind;
use crate::{Store, StoreError};

/// What the status bar counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OutboxCounts {
    /// Rows waiting to be sent (claims included).
    pub pending: i64,
    pub conflicts: i64,
    pub refused: i64,
}

impl Store {
    /// What the status bar counts: actions waiting to be sent, conflicts, refusals.
    pub async fn outbox_counts(&self) -> Result<OutboxCounts, StoreError> {
        let row = sqlx::query(
            "SELECT coalesce(sum(status = 'pending'), 0) AS pending,
                    coalesce(sum(status = 'conflict'), 0) AS conflicts,
                    coalesce(sum(status = 'rejected'), 0) AS refused
             FROM outbox",
        )
        .fetch_one(self.pool())
        .await?;
        Ok(OutboxCounts {
            pending: row.get("pending"),
            conflicts: row.get("conflicts"),
            refused: row.get("refused"),
        })
    }

    /// The user's actions that live only in this cache, by kind. Claims and releases
    /// are left out: they are automatic, and a claim ends by itself when its lease does.
    pub async fn unsent_work(&self) -> Result<UnsentWork, StoreError> {
        let row = sqlx::query(
            "SELECT
               coalesce(sum(status = 'pending' AND kind = 'decide_item'), 0) AS decisions,
               coalesce(sum(status = 'pending' AND kind = 'account_action'), 0) AS account_actions,
               coalesce(sum(status = 'pending' AND kind = 'add_account_note'), 0) AS notes,
               coalesce(sum(status = 'pending' AND kind IN ('retry_job', 'cancel_job')), 0) AS job_actions,
               coalesce(sum(status = 'conflict'), 0) AS conflicts,
               coalesce(sum(status = 'rejected'), 0) AS refused
             FROM outbox",
        )
        .fetch_one(self.pool())
        .await?;
        Ok(UnsentWork {
            decisions: row.get("decisions"),
            account_actions: row.get("account_actions"),
            notes: row.get("notes"),
            job_actions: row.get("job_actions"),
            conflicts: row.get("conflicts"),
            refused: row.get("refused"),
        })
    }

    /// Ends every undo window now, so the push loop sends everything it holds (signing
    /// out with "send first").
    pub async fn make_all_due(&self, now: &str) -> Result<u64, StoreError> {
        Ok(sqlx::query(
            "UPDATE outbox SET not_before = ?1 WHERE status = 'pending' AND not_before > ?1",
        )
        .bind(now)
        .execute(self.pool())
        .await?
        .rows_affected())
    }

    /// The claims signing out must give back: items whose claim the cache says `me`
    /// holds at `now`, and items whose release is still queued. A queued release already
    /// cleared the claim in the cache, but the server holds it until the release is sent,
    /// and the outbox is about to be wiped (leaving the item on screen as the user clicks
    /// "Sign out" queues exactly such a release).
    pub async fn claims_to_give_back(&self, me: &str, now: &str) -> Result<Vec<i64>, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT id FROM items WHERE claim_username = ?1 AND claim_expires_at > ?2
             UNION
             SELECT target_id FROM outbox WHERE status = 'pending' AND kind = 'release_item'
             ORDER BY 1",
        )
        .bind(me)
        .bind(now)
        .fetch_all(self.pool())
        .await?)
    }

    /// Items whose claim the cache says `me` holds at `now`.
    pub async fn held_claims(&self, me: &str, now: &str) -> Result<Vec<i64>, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT id FROM items WHERE claim_username = ? AND claim_expires_at > ? ORDER BY id",
        )
        .bind(me)
        .bind(now)
        .fetch_all(self.pool())
        .await?)
    }

    /// The actions the server refused for good, oldest first, with what the user wrote.
    pub async fn list_refused(&self) -> Result<Vec<RefusedAction>, StoreError> {
        let found = sqlx::query(
            "SELECT o.id, o.kind, o.target_id, o.payload_json, o.last_error, o.created_at,
                    CASE
                      WHEN o.kind IN ('decide_item', 'claim_item', 'release_item') THEN (SELECT title FROM items WHERE id = o.target_id)
                      WHEN o.kind IN ('account_action', 'add_account_note') THEN (SELECT username FROM accounts WHERE id = o.target_id)
                      ELSE (SELECT kind FROM jobs WHERE id = o.target_id)
                    END AS label
             FROM outbox o WHERE o.status = 'rejected' ORDER BY o.id",
        )
        .fetch_all(self.pool())
        .await?;
        found
            .iter()
            .map(|row| {
                let kind: String = row.get("kind");
                let kind = OutboxKind::parse(&kind)
                    .ok_or_else(|| StoreError::Corrupt(format!("outbox kind {kind:?}")))?;
                let payload: String = row.get("payload_json");
                let payload: serde_json::Value = serde_json::from_str(&payload)
                    .map_err(|e| StoreError::Corrupt(format!("outbox payload: {e}")))?;
                let text = |key: &str| payload[key].as_str().unwrap_or_default().to_string();
                let action = match kind {
                    OutboxKind::DecideItem | OutboxKind::AccountAction => text("action"),
                    OutboxKind::AddAccountNote => "note".to_string(),
                    OutboxKind::RetryJob => "retry".to_string(),
                    OutboxKind::CancelJob => "cancel".to_string(),
                    OutboxKind::ClaimItem => "claim".to_string(),
                    OutboxKind::ReleaseItem => "release".to_string(),
                };
                let written = match kind {
                    OutboxKind::AddAccountNote => text("body"),
                    _ => text("note"),
                };
                Ok(RefusedAction {
                    outbox_id: row.get("id"),
                    target_type: kind.target_type().to_string(),
                    target_id: row.get("target_id"),
                    target_label: row.get("label"),
                    action,
                    reason_code: text("reason_code"),
                    text: written,
                    message: row
                        .get::<Option<String>, _>("last_error")
                        .unwrap_or_default(),
                    created_at: row.get("created_at"),
                })
            })
            .collect()
    }

    /// Forgets a refused action once the user has read it.
    pub async fn dismiss_refused(&self, outbox_id: i64) -> Result<(), StoreError> {
        let deleted = sqlx::query("DELETE FROM outbox WHERE id = ? AND status = 'rejected'")
            .bind(outbox_id)
            .execute(self.pool())
            .await?
            .rows_affected();
        if deleted == 0 {
            return Err(StoreError::RefusedNotFound(outbox_id));
        }
        Ok(())
    }

    /// The decisions the server refused because its state had moved on, oldest first.
    pub async fn list_conflicts(&self) -> Result<Vec<ConflictInfo>, StoreError> {
        let found = sqlx::query(
            "SELECT o.id, o.target_id, o.payload_json, o.base_version, o.last_error, o.created_at,
                    i.title, i.state, i.version
             FROM outbox o JOIN items i ON i.id = o.target_id
             WHERE o.status = 'conflict' AND o.kind = 'decide_item' ORDER BY o.id",
        )
        .fetch_all(self.pool())
        .await?;
        found
            .iter()
            .map(|row| {
                let payload: String = row.get("payload_json");
                let payload: serde_json::Value = serde_json::from_str(&payload)
                    .map_err(|e| StoreError::Corrupt(format!("outbox payload: {e}")))?;
                let text = |key: &str| payload[key].as_str().unwrap_or_default().to_string();
                let action = DecisionAction::parse(&text("action"))
                    .ok_or_else(|| StoreError::Corrupt("outbox action".into()))?;
                let state: String = row.get("state");
                Ok(ConflictInfo {
                    outbox_id: row.get("id"),
                    item_id: row.get("target_id"),
                    title: row.get("title"),
                    my_action: action,
                    my_reason_code: text("reason_code"),
                    my_note: text("note"),
                    my_base_version: row.get("base_version"),
                    server_state: ItemState::parse(&state)
                        .ok_or_else(|| StoreError::Corrupt(format!("item state {state:?}")))?,
                    server_version: row.get("version"),
                    message: row
                        .get::<Option<String>, _>("last_error")
                        .unwrap_or_default(),
                    created_at: row.get("created_at"),
                })
            })
            .collect()
    }

    /// Forgets a conflict: the server's state stands.
    pub async fn drop_conflict(&self, outbox_id: i64) -> Result<(), StoreError> {
        let deleted = sqlx::query("DELETE FROM outbox WHERE id = ? AND status = 'conflict'")
            .bind(outbox_id)
            .execute(self.pool())
            .await?
            .rows_affected();
        if deleted == 0 {
            return Err(StoreError::ConflictNotFound(outbox_id));
        }
        Ok(())
    }

    /// The item id a conflict is about.
    pub async fn conflict_item(&self, outbox_id: i64) -> Result<i64, StoreError> {
        sqlx::query_scalar("SELECT target_id FROM outbox WHERE id = ? AND status = 'conflict'")
            .bind(outbox_id)
            .fetch_optional(self.pool())
            .await?
            .ok_or(StoreError::ConflictNotFound(outbox_id))
    }
}
