//! One step of the push loop: send the oldest outbox row and apply the server's answer.
//!
//! The step is written against [`PushTransport`] so the same code runs against the real
//! server (through the session) and, in the model-based test, against a reference model.

use std::future::Future;

use steward_client::ClientError;
use steward_client::wire::ApiItem;
use steward_core::push::{PushAnswer, PushDisposition, classify_push};
use steward_core::{AppError, ErrorCode};
use steward_store::{OutboxRow, Store, StoreError};

use crate::records;
use crate::session::SessionError;

/// Sends one outbox row to the server.
pub trait PushTransport {
    fn push(
        &self,
        row: &OutboxRow,
    ) -> impl Future<Output = Result<serde_json::Value, SessionError>>;
}

/// What one step did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PushStep {
    /// The outbox is empty.
    Idle,
    /// The next row is still inside its undo window, until this time.
    Waiting(String),
    /// The row was applied by the server and left the outbox.
    Pushed,
    /// The server's state had moved on; the row is kept as a conflict.
    Conflict,
    /// A claim or release lost to someone else's claim; the server's state was applied.
    ClaimRefused(AppError),
    /// The server refused the action for good; the optimistic change was rolled back.
    Rejected(AppError),
    /// Worth retrying later (offline, 5xx, malformed answer); the row stays first.
    Retry(AppError),
    /// The session is over: the row waits for the next sign-in.
    Expired(AppError),
}

pub async fn push_step(
    store: &Store,
    transport: &impl PushTransport,
    now: &str,
) -> Result<PushStep, StoreError> {
    let Some(row) = store.next_pending().await? else {
        return Ok(PushStep::Idle);
    };
    if row.not_before.as_str() > now {
        return Ok(PushStep::Waiting(row.not_before));
    }
    if !row.sending {
        store.mark_sending(row.id).await?;
    }
    let error = match transport.push(&row).await {
        Ok(body) => {
            let item = item_in(&body);
            if item.is_none() && body.get("item").is_some() {
                // A 2xx whose item is unreadable: resend later; the key makes it safe.
                return retry(store, &row, malformed()).await;
            }
            store.complete_push(row.id, item.as_ref()).await?;
            return Ok(PushStep::Pushed);
        }
        Err(SessionError::Expired(error)) => return Ok(PushStep::Expired(error)),
        Err(SessionError::Keychain(error)) => return retry(store, &row, error).await,
        Err(SessionError::Client(error)) => error,
    };
    let message = error.to_app_error();
    match classify_push(answer_of(&error)) {
        PushDisposition::Conflict => {
            let current = match &error {
                ClientError::Api { body, .. } => body.get("current").and_then(item_of),
                _ => None,
            };
            if row.kind == "decide_item" {
                store
                    .mark_conflict(row.id, current.as_ref(), &message.message)
                    .await?;
                Ok(PushStep::Conflict)
            } else {
                store.complete_push(row.id, current.as_ref()).await?;
                Ok(PushStep::ClaimRefused(message))
            }
        }
        PushDisposition::Rejected => {
            store.reject_push(row.id, &message.message).await?;
            Ok(PushStep::Rejected(message))
        }
        PushDisposition::RetryLater | PushDisposition::Reauthenticate | PushDisposition::Done => {
            retry(store, &row, message).await
        }
    }
}

async fn retry(store: &Store, row: &OutboxRow, error: AppError) -> Result<PushStep, StoreError> {
    store.record_push_failure(row.id, &error.message).await?;
    Ok(PushStep::Retry(error))
}

fn malformed() -> AppError {
    AppError::new(
        ErrorCode::BadResponse,
        "The server accepted an action but its answer could not be read; it will be sent again.",
    )
}

fn item_in(body: &serde_json::Value) -> Option<steward_store::ItemRecord> {
    body.get("item").and_then(item_of)
}

fn item_of(value: &serde_json::Value) -> Option<steward_store::ItemRecord> {
    let item: ApiItem = serde_json::from_value(value.clone()).ok()?;
    Some(records::item_record(&item))
}

fn answer_of(error: &ClientError) -> PushAnswer {
    match error {
        ClientError::Unreachable { .. } => PushAnswer::NetworkError,
        ClientError::BadResponse { status, .. } if (200..300).contains(status) => {
            PushAnswer::MalformedBody
        }
        other => match other.status() {
            Some(status) => PushAnswer::Status(status),
            None => PushAnswer::NetworkError,
        },
    }
}
