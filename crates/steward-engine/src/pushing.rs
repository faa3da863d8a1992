//! The push half of a sync round: due outbox rows go out through the session, a batch at
//! a time, and what became of each row reaches the UI.

use steward_client::ClientError;
use steward_client::wire::MutationOperation;
use steward_core::{AppError, ErrorCode, UnsentWork};
use steward_store::OutboxRow;

use crate::EngineEvent;
use crate::active::Active;
use crate::outbox::{
    BATCH_MAX_ROWS, PushRound, PushStep, PushTransport, push_step, refuse_rows_past_retention,
};
use crate::records;
use crate::session::{Session, SessionError};
use crate::sync::{RoundError, storage};

/// Pushes through the session, so a 401 refreshes and retries.
struct SessionTransport<'a>(&'a Session);

impl PushTransport for SessionTransport<'_> {
    async fn push_batch(
        &self,
        rows: &[OutboxRow],
    ) -> Result<Vec<Result<serde_json::Value, ClientError>>, SessionError> {
        let client = &self.0.client;
        let operations: Vec<MutationOperation<'_>> = rows
            .iter()
            .map(|row| MutationOperation {
                idempotency_key: &row.idempotency_key,
                op: &row.kind,
                target_id: row.target_id,
                args: &row.payload,
            })
            .collect();
        let operations = &operations;
        self.0
            .authorized(|access| async move { client.push_batch(&access, operations).await })
            .await
    }
}

impl Active {
    /// Pushes due rows, a batch at a time, oldest first. Returns the time the next row's
    /// undo window ends, if one waits.
    pub(crate) async fn push_outbox(&self) -> Result<Option<String>, RoundError> {
        if self.me_read_at.lock().await.is_none() {
            // The first round of a session learns the server's rules (roles, how long it
            // remembers applied actions) before anything is sent.
            self.refresh_me().await?;
        }
        let too_old = refuse_rows_past_retention(&self.store, chrono::Utc::now())
            .await
            .map_err(storage)?;
        if !too_old.is_empty() {
            tracing::warn!(
                count = too_old.len(),
                "actions queued past the server's retention were not sent"
            );
            self.settled(too_old).await?;
        }
        loop {
            let round = push_step(
                &self.store,
                &SessionTransport(&self.session),
                &records::now(),
                BATCH_MAX_ROWS,
            )
            .await
            .map_err(storage)?;
            let steps = match round {
                PushRound::Idle => return Ok(None),
                PushRound::Waiting(until) => return Ok(Some(until)),
                PushRound::Sent(steps) => steps,
            };
            self.settled(steps).await?;
        }
    }

    /// Tells the UI what became of the rows of a batch. Every answered row is settled
    /// before a failure (the first one met) ends the round.
    async fn settled(&self, steps: Vec<PushStep>) -> Result<(), RoundError> {
        let mut failure = None;
        for step in steps {
            match step {
                PushStep::Pushed | PushStep::Conflict | PushStep::Withdrawn => {}
                PushStep::Refused {
                    error,
                    kind,
                    target_id,
                }
                | PushStep::Rejected {
                    error,
                    kind,
                    target_id,
                } => {
                    tracing::info!(code = ?error.code, %kind, target_id, "an action was refused");
                    if error.code == ErrorCode::PermissionDenied {
                        self.me_stale
                            .store(true, std::sync::atomic::Ordering::SeqCst);
                    }
                    let _ = self.events.send(EngineEvent::ActionRefused {
                        error,
                        kind,
                        target_id,
                    });
                }
                PushStep::Retry(error) => {
                    failure.get_or_insert(RoundError::Retry(error));
                }
                PushStep::Expired(error) => failure = Some(RoundError::Expired(error)),
            }
        }
        self.changed();
        self.refresh_counts().await;
        failure.map_or(Ok(()), Err)
    }

    /// Sends every queued action now, undo windows or not, and gives back the claims the
    /// user holds, waiting for the server's answers: signing out with "send first".
    /// Returns what is left unsent (conflicts the answers raised, refusals); fails, with
    /// everything still queued, when the server cannot be reached.
    pub async fn send_everything(&self, claims: &[i64]) -> Result<UnsentWork, AppError> {
        let _guard = self.sync_lock.lock().await;
        self.store.make_all_due(&records::now()).await?;
        for &item_id in claims {
            crate::triage::queue_claim(
                &self.store,
                item_id,
                steward_store::OutboxKind::ReleaseItem,
                &self.user().username,
                &records::now(),
            )
            .await?;
        }
        match self.push_outbox().await {
            Ok(_) => {}
            Err(RoundError::Retry(error) | RoundError::Expired(error)) => {
                self.refresh_counts().await;
                return Err(error);
            }
        }
        self.refresh_counts().await;
        Ok(self.store.unsent_work().await?)
    }
}
