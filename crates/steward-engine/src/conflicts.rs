//! What the server would not take: conflicts (a decision on an item that changed there
//! first), resolved by dropping the decision or deciding again, and refusals, kept with
//! the user's text until they have read them.

use steward_core::{
    AppError, ConflictInfo, ConflictResolution, ErrorCode, ItemState, RefusedAction,
};

use crate::Engine;

impl Engine {
    pub async fn list_conflicts(&self) -> Result<Vec<ConflictInfo>, AppError> {
        Ok(self.require_active().await?.store.list_conflicts().await?)
    }

    /// Drops a conflict, or decides again on the server's current version.
    pub async fn resolve_conflict(
        &self,
        outbox_id: i64,
        resolution: ConflictResolution,
    ) -> Result<(), AppError> {
        let active = self.require_active().await?;
        let item_id = active.store.conflict_item(outbox_id).await?;
        // Deciding again needs an item that is still open: check before the conflict is
        // dropped, so a refusal leaves it in place for the user.
        if let ConflictResolution::DecideAgain { .. } = &resolution {
            let current = active.store.item_summary(item_id).await?;
            if current.state != ItemState::Open || current.pending_action.is_some() {
                return Err(AppError::new(
                    ErrorCode::Conflict,
                    format!(
                        "Item {item_id} is {} on the server now; only open items can be decided again. Drop your decision to keep the server's.",
                        current.state.as_str()
                    ),
                ));
            }
        }
        active.store.drop_conflict(outbox_id).await?;
        match resolution {
            ConflictResolution::Drop => {
                active.after_local_change().await;
                Ok(())
            }
            ConflictResolution::DecideAgain {
                action,
                reason_code,
                note,
            } => self
                .decide_item(item_id, action, reason_code, note)
                .await
                .map(|_| ()),
        }
    }

    /// Actions the server refused for good, with what the user wrote and its reason.
    pub async fn list_refused(&self) -> Result<Vec<RefusedAction>, AppError> {
        Ok(self.require_active().await?.store.list_refused().await?)
    }

    /// Forgets a refused action the user has read.
    pub async fn dismiss_refused(&self, outbox_id: i64) -> Result<(), AppError> {
        let active = self.require_active().await?;
        active.store.dismiss_refused(outbox_id).await?;
        active.after_local_change().await;
        Ok(())
    }
}
