//! One step of the push loop: send the oldest outbox row and apply the server's answer.
//!
//! The step is written against [`PushTransport`] so the same code runs against the real
//! server (through the session) and, in the model-based test, against a reference model.

use std::future::Future;

use steward_client::ClientError;
use steward_client::wire::{ApiAccount, ApiItem, ApiJob, ApiNote};
use steward_core::push::{PushAnswer, PushDisposition, classify_push};
use steward_core::{AppError, ErrorCode};
use steward_store::{NextPush, OutboxRow, ServerChanges, Store, StoreError};

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
    /// The row was undone after it was chosen and before it went out: nothing was sent.
    Withdrawn,
    /// The server's state had moved on; the row is kept as a conflict.
    Conflict,
    /// The action met a state that moved on (a claim held by someone else, a job no
    /// longer failed); the server's state was applied. A lost claim leaves the outbox;
    /// anything else the user asked for is kept as refused until dismissed.
    Refused {
        error: AppError,
        kind: String,
        target_id: i64,
    },
    /// The server refused the action for good (403, 404, 422); the optimistic change was
    /// rolled back and the row kept as refused until the user dismisses it.
    Rejected {
        error: AppError,
        kind: String,
        target_id: i64,
    },
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
    match store.next_push(now).await? {
        NextPush::Idle => Ok(PushStep::Idle),
        NextPush::Waiting(until) => Ok(PushStep::Waiting(until)),
        NextPush::Due(row) => push_row(store, transport, row).await,
    }
}

/// Sends one row that `Store::next_push` chose and applies the answer. The row is marked
/// as going out first, in its own commit; when that mark finds the row no longer pending
/// (an undo won the race), nothing is sent.
pub async fn push_row(
    store: &Store,
    transport: &impl PushTransport,
    row: OutboxRow,
) -> Result<PushStep, StoreError> {
    if !row.sending && !store.mark_sending(row.id).await? {
        return Ok(PushStep::Withdrawn);
    }
    let error = match transport.push(&row).await {
        Ok(body) => {
            let Some(changes) = changes_in(&row.kind, &body) else {
                // A 2xx whose body is unreadable: resend later; the key makes it safe.
                return retry(store, &row, malformed()).await;
            };
            store.complete_push(row.id, &changes).await?;
            return Ok(PushStep::Pushed);
        }
        Err(SessionError::Expired(error)) => return Ok(PushStep::Expired(error)),
        Err(SessionError::Keychain(error)) => return retry(store, &row, error).await,
        Err(SessionError::Client(error)) => error,
    };
    let message = error.to_app_error();
    match classify_push(answer_of(&error)) {
        PushDisposition::Conflict => {
            let body = match &error {
                ClientError::Api { body, .. } => body.clone(),
                _ => serde_json::Value::Null,
            };
            let current = body.get("current").and_then(item_of);
            if row.kind == "decide_item" {
                store
                    .mark_conflict(row.id, current.as_ref(), &message.message)
                    .await?;
                Ok(PushStep::Conflict)
            } else {
                // Other actions met a state that moved on (a claim held by someone else, a
                // job that is no longer failed): apply the server's state and say so.
                let changes = ServerChanges {
                    item: current,
                    job: body.get("current_job").and_then(job_of),
                    ..ServerChanges::default()
                };
                if is_claim(&row.kind) {
                    store.complete_push(row.id, &changes).await?;
                } else {
                    store
                        .reject_push(row.id, &changes, &message.message)
                        .await?;
                }
                Ok(PushStep::Refused {
                    error: message,
                    kind: row.kind.clone(),
                    target_id: row.target_id,
                })
            }
        }
        PushDisposition::Rejected if is_claim(&row.kind) => {
            // A claim is not something the user asked for: roll it back and say so once.
            store
                .complete_push(row.id, &ServerChanges::default())
                .await?;
            Ok(PushStep::Refused {
                error: message,
                kind: row.kind.clone(),
                target_id: row.target_id,
            })
        }
        PushDisposition::Rejected => {
            store
                .reject_push(row.id, &ServerChanges::default(), &message.message)
                .await?;
            Ok(PushStep::Rejected {
                error: message,
                kind: row.kind.clone(),
                target_id: row.target_id,
            })
        }
        PushDisposition::RetryLater | PushDisposition::Reauthenticate | PushDisposition::Done => {
            retry(store, &row, message).await
        }
    }
}

/// Claims are taken and given back as the moderator moves, not asked for: a refused one
/// is rolled back and reported, never kept in the list of refused actions.
fn is_claim(kind: &str) -> bool {
    matches!(kind, "claim_item" | "release_item")
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

/// Reads what the server's 2xx answer to a row of `kind` says the cache should hold.
/// None when the answer is not what the API promises.
fn changes_in(kind: &str, body: &serde_json::Value) -> Option<ServerChanges> {
    let mut changes = ServerChanges::default();
    match kind {
        "decide_item" | "claim_item" | "release_item" => {
            changes.item = Some(item_of(body.get("item")?)?)
        }
        "account_action" => {
            let account: ApiAccount = serde_json::from_value(body.get("account")?.clone()).ok()?;
            changes.account = Some(records::account_record(&account));
            changes.job = body.get("job").and_then(job_of);
        }
        "add_account_note" => {
            let note: ApiNote = serde_json::from_value(body.clone()).ok()?;
            changes.note = Some(records::note_record(&note));
        }
        "retry_job" | "cancel_job" => changes.job = Some(job_of(body)?),
        _ => return None,
    }
    Some(changes)
}

fn job_of(value: &serde_json::Value) -> Option<steward_store::JobRecord> {
    let job: ApiJob = serde_json::from_value(value.clone()).ok()?;
    Some(records::job_record(&job))
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
