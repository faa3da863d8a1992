//! Accounts for support staff: search (through the server when it answers, always from
//! the cache), an account's detail, actions on it and notes, all through the outbox.

use std::time::Duration;

use steward_core::{
    AccountAction, AccountDetail, AccountNote, AccountSummary, AppError, AuditQuery, ErrorCode,
};

use crate::triage::check_reason_and_note;
use crate::{DueAction, Engine, records, session};

impl Engine {
    /// Accounts matching `query`: from the server when it answers (refreshing the cache),
    /// always served from the cache, so search works offline.
    pub async fn search_accounts(
        &self,
        query: &str,
        status: Option<String>,
    ) -> Result<Vec<AccountSummary>, AppError> {
        let active = self.require_active().await?;
        let query = query.trim();
        if !query.is_empty() {
            let client = &active.session.client;
            let online = tokio::time::timeout(
                Duration::from_secs(3),
                active.session.authorized(|access| async move {
                    client.search_accounts(&access, query, 100).await
                }),
            )
            .await;
            if let Ok(Ok(found)) = online {
                let records: Vec<_> = found.iter().map(records::account_record).collect();
                active.store.upsert_accounts(&records).await?;
            }
        }
        Ok(active
            .store
            .search_accounts(query, status.as_deref(), 200)
            .await?)
    }

    /// An account with its notes, moderation history and audit trail. Notes are refreshed
    /// from the server when it answers; everything else comes from the cache.
    pub async fn get_account(&self, account_id: i64) -> Result<AccountDetail, AppError> {
        let active = self.require_active().await?;
        let client = &active.session.client;
        let fresh = tokio::time::timeout(Duration::from_secs(3), async {
            let account = active
                .session
                .authorized(|access| async move { client.account(&access, account_id).await })
                .await?;
            let notes = active
                .session
                .authorized(|access| async move { client.account_notes(&access, account_id).await })
                .await?;
            Ok::<_, session::SessionError>((account, notes))
        })
        .await;
        if let Ok(Ok((account, notes))) = fresh {
            active
                .store
                .upsert_accounts(&[records::account_record(&account)])
                .await?;
            let notes: Vec<_> = notes.iter().map(records::note_record).collect();
            active
                .store
                .replace_account_notes(account_id, &notes)
                .await?;
        }
        let account = active.store.account(account_id).await?;
        let notes = active.store.account_notes(account_id).await?;
        let (history, _) = active.store.author_history(account_id, 50).await?;
        let trail = active
            .store
            .search_audit(
                &AuditQuery {
                    target_type: Some("account".into()),
                    target_id: Some(account_id.to_string()),
                    ..AuditQuery::default()
                },
                0,
                100,
            )
            .await?;
        Ok(AccountDetail {
            account,
            notes,
            moderation_history: history,
            audit_trail: trail.events,
        })
    }

    /// Queues an action on an account (suspend, reactivate, force logout, password reset).
    pub async fn act_on_account(
        &self,
        account_id: i64,
        action: AccountAction,
        duration_hours: Option<i64>,
        reason_code: Option<String>,
        note: Option<String>,
    ) -> Result<AccountSummary, AppError> {
        if let Some(hours) = duration_hours
            && !(1..=87_600).contains(&hours)
        {
            return Err(AppError::new(
                ErrorCode::InvalidInput,
                "A suspension lasts from 1 hour to 10 years (87600 hours).",
            ));
        }
        check_reason_and_note(reason_code.as_deref(), note.as_deref())?;
        let active = self.require_active().await?;
        let mut args = serde_json::json!({
            "action": action.as_str(),
            "reason_code": reason_code.unwrap_or_default(),
            "note": note.unwrap_or_default(),
        });
        if action == AccountAction::Suspend {
            args["duration_hours"] = serde_json::json!(duration_hours);
        }
        let due = DueAction::new();
        active
            .store
            .enqueue_account_action(account_id, action, &args, &due.action(), &due.key)
            .await?;
        tracing::info!(
            account_id,
            action = action.as_str(),
            "account action queued"
        );
        active.after_local_change().await;
        Ok(active.store.account(account_id).await?)
    }

    /// Queues a note on an account; it shows at once as pending.
    pub async fn add_account_note(
        &self,
        account_id: i64,
        body: &str,
    ) -> Result<Vec<AccountNote>, AppError> {
        let body = body.trim();
        if body.is_empty() || body.chars().count() > 10_000 {
            return Err(AppError::new(
                ErrorCode::InvalidInput,
                "A note needs between 1 and 10000 characters.",
            ));
        }
        let active = self.require_active().await?;
        let due = DueAction::new();
        active
            .store
            .enqueue_account_note(
                account_id,
                body,
                &active.user().username,
                &due.action(),
                &due.key,
            )
            .await?;
        active.after_local_change().await;
        Ok(active.store.account_notes(account_id).await?)
    }
}
