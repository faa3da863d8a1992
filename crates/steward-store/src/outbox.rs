//! The outbox: actions written locally, pushed to the server exactly once.
//!
//! Each enqueue writes the rows and the optimistic change to the cache in one
//! transaction. A row is undoable until the push loop marks it `sending`, which it commits
//! before the request goes out; a crash after that resends it with the same
//! idempotency key, which the server answers with its first response. What the push loop
//! does with a row is in `sending.rs`; what is left unsent, in `unsent.rs`.

use sqlx::Row;
use steward_core::{BulkOutcome, DecisionAction, ItemState, SkippedItem};

use crate::accounts::{AccountRecord, NoteRecord, insert_note};
use crate::jobs::JobRecord;
use crate::rows::ItemRecord;
use crate::{Store, StoreError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutboxKind {
    DecideItem,
    ClaimItem,
    ReleaseItem,
    AccountAction,
    AddAccountNote,
    RetryJob,
    CancelJob,
}

impl OutboxKind {
    pub fn as_str(self) -> &'static str {
        match self {
            OutboxKind::DecideItem => "decide_item",
            OutboxKind::ClaimItem => "claim_item",
            OutboxKind::ReleaseItem => "release_item",
            OutboxKind::AccountAction => "account_action",
            OutboxKind::AddAccountNote => "add_account_note",
            OutboxKind::RetryJob => "retry_job",
            OutboxKind::CancelJob => "cancel_job",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "decide_item" => OutboxKind::DecideItem,
            "claim_item" => OutboxKind::ClaimItem,
            "release_item" => OutboxKind::ReleaseItem,
            "account_action" => OutboxKind::AccountAction,
            "add_account_note" => OutboxKind::AddAccountNote,
            "retry_job" => OutboxKind::RetryJob,
            "cancel_job" => OutboxKind::CancelJob,
            _ => return None,
        })
    }

    /// What the row acts on: "item", "account" or "job". Rows on one target are pushed
    /// in the order they were written; rows on different targets do not wait for each
    /// other (`Store::next_push`).
    pub fn target_type(self) -> &'static str {
        match self {
            OutboxKind::DecideItem | OutboxKind::ClaimItem | OutboxKind::ReleaseItem => "item",
            OutboxKind::AccountAction | OutboxKind::AddAccountNote => "account",
            OutboxKind::RetryJob | OutboxKind::CancelJob => "job",
        }
    }
}

/// What the server's answer to a pushed row says the cache should now hold.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServerChanges {
    pub item: Option<ItemRecord>,
    pub account: Option<AccountRecord>,
    pub note: Option<NoteRecord>,
    pub job: Option<JobRecord>,
}

/// What every enqueued row of one user action shares.
#[derive(Debug, Clone)]
pub struct NewAction<'a> {
    /// One user action; a bulk decision is one group, undone together.
    pub group_id: &'a str,
    pub now: &'a str,
    /// The push waits until then (the undo window).
    pub not_before: &'a str,
}

impl Store {
    /// Queues a decision on each open item of `item_ids`, in one transaction. Items that
    /// are not open, or already have a pending decision, are skipped with a reason.
    pub async fn enqueue_decisions(
        &self,
        item_ids: &[i64],
        action: DecisionAction,
        reason_code: &str,
        note: &str,
        group: &NewAction<'_>,
        mut new_key: impl FnMut() -> String,
    ) -> Result<BulkOutcome, StoreError> {
        let mut tx = self.write().await?;
        let mut queued_ids = Vec::new();
        let mut skipped = Vec::new();
        for &item_id in item_ids {
            let row = sqlx::query("SELECT state, version, pending_action FROM items WHERE id = ?")
                .bind(item_id)
                .fetch_optional(&mut *tx)
                .await?;
            let Some(row) = row else {
                skipped.push(SkippedItem {
                    item_id,
                    reason: StoreError::ItemNotFound(item_id).to_string(),
                });
                continue;
            };
            let state: String = row.get("state");
            let version: i64 = row.get("version");
            let pending: Option<String> = row.get("pending_action");
            if pending.is_some() {
                skipped.push(SkippedItem {
                    item_id,
                    reason: StoreError::DecisionPending(item_id).to_string(),
                });
                continue;
            }
            if state != ItemState::Open.as_str() {
                skipped.push(SkippedItem {
                    item_id,
                    reason: StoreError::ItemNotOpen { item_id, state }.to_string(),
                });
                continue;
            }
            let payload = serde_json::json!({
                "action": action.as_str(),
                "reason_code": reason_code,
                "note": note,
                "base_version": version,
            });
            insert_row(
                &mut tx,
                OutboxKind::DecideItem,
                item_id,
                &payload,
                None,
                version,
                group,
                &new_key(),
            )
            .await?;
            sqlx::query("UPDATE items SET pending_action = ? WHERE id = ?")
                .bind(action.as_str())
                .bind(item_id)
                .execute(&mut *tx)
                .await?;
            queued_ids.push(item_id);
        }
        sqlx::query("UPDATE outbox SET group_size = ? WHERE group_id = ?")
            .bind(queued_ids.len() as i64)
            .bind(group.group_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        let mut queued = Vec::with_capacity(queued_ids.len());
        for item_id in queued_ids {
            queued.push(self.item_summary(item_id).await?);
        }
        Ok(BulkOutcome {
            queued,
            skipped,
            undo_until: group.not_before.to_string(),
        })
    }

    /// Queues a claim (or its release) and shows it at once in the cache.
    pub async fn enqueue_claim(
        &self,
        item_id: i64,
        kind: OutboxKind,
        me: &str,
        claim_until: &str,
        group: &NewAction<'_>,
        key: &str,
    ) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        let row =
            sqlx::query("SELECT version, claim_username, claim_expires_at FROM items WHERE id = ?")
                .bind(item_id)
                .fetch_optional(&mut *tx)
                .await?
                .ok_or(StoreError::ItemNotFound(item_id))?;
        let version: i64 = row.get("version");
        let previous_user: Option<String> = row.get("claim_username");
        let previous_until: Option<String> = row.get("claim_expires_at");
        let local = serde_json::json!({
            "previous_claim_username": previous_user,
            "previous_claim_expires_at": previous_until,
        });
        insert_row(
            &mut tx,
            kind,
            item_id,
            &serde_json::json!({}),
            Some(&local),
            version,
            group,
            key,
        )
        .await?;
        let (user, until) = match kind {
            OutboxKind::ClaimItem => (Some(me), Some(claim_until)),
            _ => (None, None),
        };
        sqlx::query("UPDATE items SET claim_username = ?, claim_expires_at = ? WHERE id = ?")
            .bind(user)
            .bind(until)
            .bind(item_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Queues an action on an account and shows its effect at once.
    pub async fn enqueue_account_action(
        &self,
        account_id: i64,
        action: steward_core::AccountAction,
        args: &serde_json::Value,
        group: &NewAction<'_>,
        key: &str,
    ) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        let pending: Option<Option<String>> =
            sqlx::query_scalar("SELECT pending_action FROM accounts WHERE id = ?")
                .bind(account_id)
                .fetch_optional(&mut *tx)
                .await?;
        match pending {
            None => return Err(StoreError::AccountNotFound(account_id)),
            Some(Some(_)) => return Err(StoreError::AccountActionPending(account_id)),
            Some(None) => {}
        }
        insert_row(
            &mut tx,
            OutboxKind::AccountAction,
            account_id,
            args,
            None,
            0,
            group,
            key,
        )
        .await?;
        sqlx::query("UPDATE accounts SET pending_action = ? WHERE id = ?")
            .bind(action.as_str())
            .bind(account_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Queues a note on an account; it shows at once, marked as pending.
    pub async fn enqueue_account_note(
        &self,
        account_id: i64,
        body: &str,
        author: &str,
        group: &NewAction<'_>,
        key: &str,
    ) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        let exists: Option<i64> = sqlx::query_scalar("SELECT id FROM accounts WHERE id = ?")
            .bind(account_id)
            .fetch_optional(&mut *tx)
            .await?;
        if exists.is_none() {
            return Err(StoreError::AccountNotFound(account_id));
        }
        let outbox_id = insert_row(
            &mut tx,
            OutboxKind::AddAccountNote,
            account_id,
            &serde_json::json!({ "body": body }),
            None,
            0,
            group,
            key,
        )
        .await?;
        // The local note's id is the negative outbox id: unique, and never a server id.
        sqlx::query("UPDATE outbox SET local_json = json_object('note_id', -id) WHERE id = ?")
            .bind(outbox_id)
            .execute(&mut *tx)
            .await?;
        insert_note(
            &mut tx,
            &NoteRecord {
                id: -outbox_id,
                account_id,
                author_username: Some(author.to_string()),
                body: body.to_string(),
                created_at: group.now.to_string(),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Queues a retry or cancel of each job that allows it, as one user action.
    pub async fn enqueue_job_actions(
        &self,
        job_ids: &[i64],
        action: steward_core::JobAction,
        group: &NewAction<'_>,
        mut new_key: impl FnMut() -> String,
    ) -> Result<(Vec<i64>, Vec<steward_core::SkippedItem>), StoreError> {
        let mut tx = self.write().await?;
        let mut queued = Vec::new();
        let mut skipped = Vec::new();
        let kind = match action {
            steward_core::JobAction::Retry => OutboxKind::RetryJob,
            steward_core::JobAction::Cancel => OutboxKind::CancelJob,
        };
        for &job_id in job_ids {
            let row: Option<(String, Option<String>, bool, String, bool)> = sqlx::query_as(
                "SELECT status, pending_action, can_retry, retry_blocked_reason, can_cancel FROM jobs WHERE id = ?",
            )
            .bind(job_id)
            .fetch_optional(&mut *tx)
            .await?;
            // The server says what it can do with a job (it knows its backend); the status
            // checks keep a stale cache from asking for what cannot apply.
            let reason = match (&row, action) {
                (None, _) => Some(format!("job {job_id} is not in the cache")),
                (Some((_, Some(_), ..)), _) => {
                    Some(format!("job {job_id} already has an action waiting"))
                }
                (Some((status, None, ..)), steward_core::JobAction::Retry)
                    if status != "failed" && status != "cancelled" =>
                {
                    Some(format!(
                        "job {job_id} is {status}; only failed or cancelled jobs can be retried"
                    ))
                }
                (Some((_, None, false, why, _)), steward_core::JobAction::Retry) => {
                    Some(if why.is_empty() {
                        format!("job {job_id} cannot be retried")
                    } else {
                        format!("job {job_id} cannot be retried: {why}")
                    })
                }
                (Some((status, None, ..)), steward_core::JobAction::Cancel)
                    if status != "pending" =>
                {
                    Some(format!(
                        "job {job_id} is {status}; only pending jobs can be cancelled"
                    ))
                }
                (Some((_, None, _, _, false)), steward_core::JobAction::Cancel) => Some(format!(
                    "job {job_id} can no longer be cancelled on its backend"
                )),
                _ => None,
            };
            if let Some(reason) = reason {
                skipped.push(steward_core::SkippedItem {
                    item_id: job_id,
                    reason,
                });
                continue;
            }
            insert_row(
                &mut tx,
                kind,
                job_id,
                &serde_json::json!({}),
                None,
                0,
                group,
                &new_key(),
            )
            .await?;
            sqlx::query("UPDATE jobs SET pending_action = ? WHERE id = ?")
                .bind(action.as_str())
                .bind(job_id)
                .execute(&mut *tx)
                .await?;
            queued.push(job_id);
        }
        sqlx::query("UPDATE outbox SET group_size = ? WHERE group_id = ?")
            .bind(queued.len() as i64)
            .bind(group.group_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok((queued, skipped))
    }
}

/// Writes one outbox row; `payload` is sent to the server, `local` stays here.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn insert_row(
    tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
    kind: OutboxKind,
    target_id: i64,
    payload: &serde_json::Value,
    local: Option<&serde_json::Value>,
    base_version: i64,
    group: &NewAction<'_>,
    key: &str,
) -> Result<i64, StoreError> {
    let id = sqlx::query("INSERT INTO outbox (idempotency_key, kind, target_id, payload_json, local_json, base_version, group_id, not_before, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")
        .bind(key)
        .bind(kind.as_str())
        .bind(target_id)
        .bind(payload.to_string())
        .bind(local.map(|l| l.to_string()))
        .bind(base_version)
        .bind(group.group_id)
        .bind(group.not_before)
        .bind(group.now)
        .execute(&mut **tx)
        .await?
        .last_insert_rowid();
    Ok(id)
}

/// Clears the optimistic overlay of whatever an outbox row acted on.
pub(crate) async fn settle_item(
    tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
    outbox_id: i64,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE items SET pending_action = NULL WHERE id = (SELECT target_id FROM outbox WHERE id = ? AND kind = 'decide_item')")
        .bind(outbox_id)
        .execute(&mut **tx)
        .await?;
    sqlx::query("UPDATE accounts SET pending_action = NULL WHERE id = (SELECT target_id FROM outbox WHERE id = ? AND kind = 'account_action')")
        .bind(outbox_id)
        .execute(&mut **tx)
        .await?;
    sqlx::query("UPDATE jobs SET pending_action = NULL WHERE id = (SELECT target_id FROM outbox WHERE id = ? AND kind IN ('retry_job', 'cancel_job'))")
        .bind(outbox_id)
        .execute(&mut **tx)
        .await?;
    sqlx::query("DELETE FROM account_notes WHERE id = (SELECT local_json ->> 'note_id' FROM outbox WHERE id = ? AND kind = 'add_account_note')")
        .bind(outbox_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Undoes a row's optimistic change: a decision's overlay, or a claim's local value.
pub(crate) async fn roll_back(
    tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
    outbox_id: i64,
) -> Result<(), StoreError> {
    settle_item(tx, outbox_id).await?;
    sqlx::query(
        "UPDATE items SET
            claim_username = (SELECT local_json ->> 'previous_claim_username' FROM outbox WHERE id = ?1),
            claim_expires_at = (SELECT local_json ->> 'previous_claim_expires_at' FROM outbox WHERE id = ?1)
         WHERE id = (SELECT target_id FROM outbox WHERE id = ?1 AND kind IN ('claim_item', 'release_item'))",
    )
    .bind(outbox_id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
