//! What the push loop does with the outbox: pick the next row that is due, mark it as
//! going out, and apply the server's answer, each with its cache change in one
//! transaction. Undo lives here too, because it races the push for the same rows.

use crate::accounts::{insert_note, upsert_accounts};
use crate::items::upsert_items;
use crate::jobs::upsert_jobs;
use crate::outbox::{ServerChanges, roll_back, settle_item};
use crate::rows::{self, ItemRecord, OutboxRow};
use crate::{Store, StoreError};

/// What the push loop should do next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NextPush {
    /// Push this row now.
    Due(OutboxRow),
    /// Rows are pending, but none may go before this time (an undo window).
    Waiting(String),
    /// Nothing is pending.
    Idle,
}

/// No earlier pending row acts on the same target as the row aliased `o`. A target is a
/// target id within one of three families (the CASE, as `OutboxKind::target_type`):
/// item ids, account ids and job ids are different numbers.
macro_rules! first_on_its_target {
    () => {
        "NOT EXISTS (
           SELECT 1 FROM outbox e
           WHERE e.status = 'pending' AND e.target_id = o.target_id AND e.id < o.id
             AND (CASE WHEN e.kind IN ('decide_item', 'claim_item', 'release_item') THEN 'item'
                       WHEN e.kind IN ('account_action', 'add_account_note') THEN 'account'
                       ELSE 'job' END)
               = (CASE WHEN o.kind IN ('decide_item', 'claim_item', 'release_item') THEN 'item'
                       WHEN o.kind IN ('account_action', 'add_account_note') THEN 'account'
                       ELSE 'job' END))"
    };
}

/// The oldest due rows that are first on their targets, at most ?2 of them.
const DUE_ROWS: &str = concat!(
    "SELECT o.* FROM outbox o WHERE o.status = 'pending' AND (o.sending = 1 OR o.not_before <= ?1) AND ",
    first_on_its_target!(),
    " ORDER BY o.id LIMIT ?2"
);

/// When the first row of some target comes due (rows behind it wait for it anyway).
const EARLIEST_HEAD: &str = concat!(
    "SELECT min(o.not_before) FROM outbox o WHERE o.status = 'pending' AND ",
    first_on_its_target!()
);

impl Store {
    /// The next row to push: the oldest pending row that is due (its undo window has
    /// passed, or it already went out once before a crash) and has no earlier pending row
    /// on the same target. Rows on one target keep their order (a claim before the
    /// decision, a suspension before the note about it); rows on different targets do not
    /// wait for each other, so the claim on the item a moderator just opened goes out
    /// while the decision on the previous one is still in its undo window.
    pub async fn next_push(&self, now: &str) -> Result<NextPush, StoreError> {
        let mut due = self.due_rows(now, 1).await?;
        if let Some(row) = due.pop() {
            return Ok(NextPush::Due(row));
        }
        // The earliest a row can go: the first row of each target's chain decides it.
        let waiting: Option<String> = sqlx::query_scalar(EARLIEST_HEAD)
            .fetch_one(self.pool())
            .await?;
        Ok(waiting.map_or(NextPush::Idle, NextPush::Waiting))
    }

    /// The rows `next_push` would send one after another, up to `limit`, oldest first:
    /// every due row that is first on its target. No two name the same target, so they
    /// can go out together and each answer settles only its own row; a row waiting
    /// behind another on its target goes in a later batch, after that one's answer.
    pub async fn due_rows(&self, now: &str, limit: usize) -> Result<Vec<OutboxRow>, StoreError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        sqlx::query(DUE_ROWS)
            .bind(now)
            .bind(limit)
            .fetch_all(self.pool())
            .await?
            .iter()
            .map(rows::outbox_from_row)
            .collect()
    }

    /// Commits that these rows are going out, in one commit. Returns the ids it marked: rows
    /// missing from it were withdrawn (undone) and must not be sent.
    pub async fn mark_sending_many(&self, outbox_ids: &[i64]) -> Result<Vec<i64>, StoreError> {
        let mut tx = self.write().await?;
        let mut marked = Vec::with_capacity(outbox_ids.len());
        for &id in outbox_ids {
            let done =
                sqlx::query("UPDATE outbox SET sending = 1 WHERE id = ? AND status = 'pending'")
                    .bind(id)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
            if done == 1 {
                marked.push(id);
            }
        }
        tx.commit().await?;
        Ok(marked)
    }

    /// Commits that the row is going out: from now on it cannot be undone. False when the
    /// row is no longer pending (an undo withdrew it after `next_push` read it): then it
    /// must not be sent.
    pub async fn mark_sending(&self, outbox_id: i64) -> Result<bool, StoreError> {
        Ok(self.mark_sending_many(&[outbox_id]).await? == [outbox_id])
    }

    /// The push failed in a way worth retrying; the row stays first in line.
    pub async fn record_push_failure(&self, outbox_id: i64, error: &str) -> Result<(), StoreError> {
        self.record_push_failures(&[outbox_id], error).await
    }

    /// A whole batch failed (offline, a 5xx): every row in it stays first in line.
    pub async fn record_push_failures(
        &self,
        outbox_ids: &[i64],
        error: &str,
    ) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        for &id in outbox_ids {
            sqlx::query("UPDATE outbox SET attempts = attempts + 1, last_error = ? WHERE id = ?")
                .bind(error)
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The server applied the action: store its answer and drop the row, atomically.
    pub async fn complete_push(
        &self,
        outbox_id: i64,
        changes: &ServerChanges,
    ) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        roll_back(&mut tx, outbox_id).await?;
        apply_changes(&mut tx, changes).await?;
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
        let mut tx = self.write().await?;
        settle_item(&mut tx, outbox_id).await?;
        if let Some(item) = server_item {
            upsert_items(&mut tx, std::slice::from_ref(item)).await?;
        }
        sqlx::query("UPDATE outbox SET status = 'conflict', sending = 0, last_error = ?, server_state_json = ? WHERE id = ?")
            .bind(message)
            .bind(server_item.map(|item| item.to_json().to_string()))
            .bind(outbox_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The server refused the action for good: roll the optimistic change back, store
    /// whatever current state the server sent with its refusal, and keep the row (with
    /// what the user wrote and the server's reason) until the user dismisses it.
    pub async fn reject_push(
        &self,
        outbox_id: i64,
        changes: &ServerChanges,
        message: &str,
    ) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        roll_back(&mut tx, outbox_id).await?;
        apply_changes(&mut tx, changes).await?;
        mark_rejected(&mut tx, outbox_id, message).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Takes out of the push every pending row queued before `cutoff`: the server may have
    /// applied it and already forgotten its idempotency key, so sending it again could
    /// apply it twice. Each is rolled back; a claim is dropped (nobody asked for it), any
    /// other row is kept as refused with `message`, for the user to check and redo.
    /// Returns the refused rows' (kind, target id), claims left out.
    pub async fn refuse_rows_queued_before(
        &self,
        cutoff: &str,
        message: &str,
    ) -> Result<Vec<(String, i64)>, StoreError> {
        let mut tx = self.write().await?;
        let stale: Vec<(i64, String, i64)> = sqlx::query_as(
            "SELECT id, kind, target_id FROM outbox WHERE status = 'pending' AND created_at < ? ORDER BY id",
        )
        .bind(cutoff)
        .fetch_all(&mut *tx)
        .await?;
        let mut refused = Vec::new();
        for (outbox_id, kind, target_id) in stale {
            roll_back(&mut tx, outbox_id).await?;
            if matches!(kind.as_str(), "claim_item" | "release_item") {
                sqlx::query("DELETE FROM outbox WHERE id = ?")
                    .bind(outbox_id)
                    .execute(&mut *tx)
                    .await?;
                continue;
            }
            mark_rejected(&mut tx, outbox_id, message).await?;
            refused.push((kind, target_id));
        }
        tx.commit().await?;
        Ok(refused)
    }

    /// Withdraws the most recent user action if none of its rows has gone out yet.
    /// Returns the items it touched.
    pub async fn undo_last(&self) -> Result<Vec<i64>, StoreError> {
        let mut tx = self.write().await?;
        let group: Option<String> = sqlx::query_scalar(
            "SELECT group_id FROM outbox WHERE status = 'pending' AND kind = 'decide_item' ORDER BY id DESC LIMIT 1",
        )
        .fetch_optional(&mut *tx)
        .await?;
        let group = group.ok_or(StoreError::NothingToUndo)?;
        // Every row of the group must still be waiting: a row that was pushed (and so
        // left the outbox) or is being sent makes the group no longer undoable.
        let (unsent, size): (i64, i64) = sqlx::query_as(
            "SELECT coalesce(sum(sending = 0 AND status = 'pending'), 0), max(group_size) FROM outbox WHERE group_id = ?",
        )
        .bind(&group)
        .fetch_one(&mut *tx)
        .await?;
        if unsent != size {
            return Err(StoreError::AlreadySent);
        }
        let ids: Vec<(i64, i64)> =
            sqlx::query_as("SELECT id, target_id FROM outbox WHERE group_id = ? ORDER BY id")
                .bind(&group)
                .fetch_all(&mut *tx)
                .await?;
        for (outbox_id, _) in &ids {
            roll_back(&mut tx, *outbox_id).await?;
        }
        sqlx::query("DELETE FROM outbox WHERE group_id = ?")
            .bind(&group)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(ids.into_iter().map(|(_, item_id)| item_id).collect())
    }
}

/// Keeps the row as refused, with the reason, until the user dismisses it.
async fn mark_rejected(
    tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
    outbox_id: i64,
    message: &str,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE outbox SET status = 'rejected', sending = 0, last_error = ? WHERE id = ?")
        .bind(message)
        .bind(outbox_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

async fn apply_changes(
    tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
    changes: &ServerChanges,
) -> Result<(), StoreError> {
    if let Some(item) = &changes.item {
        upsert_items(tx, std::slice::from_ref(item)).await?;
    }
    if let Some(account) = &changes.account {
        upsert_accounts(tx, std::slice::from_ref(account)).await?;
    }
    if let Some(note) = &changes.note {
        insert_note(tx, note).await?;
    }
    if let Some(job) = &changes.job {
        upsert_jobs(tx, std::slice::from_ref(job)).await?;
    }
    Ok(())
}
