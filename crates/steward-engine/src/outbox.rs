//! One step of the push loop: send the due outbox rows in one batch and apply the
//! server's answer to each.
//!
//! The step is written against [`PushTransport`] so the same code runs against the real
//! server (through the session) and, in the model-based test, against a reference model.

use std::collections::HashSet;
use std::future::Future;

use steward_client::ClientError;
use steward_client::wire::{ApiAccount, ApiItem, ApiJob, ApiNote};
use steward_core::push::{PushAnswer, PushDisposition, classify_push};
use steward_core::{AppError, ErrorCode};
use steward_store::{NextPush, OutboxRow, ServerChanges, Store, StoreError};

use crate::records;
use crate::session::SessionError;

/// The most rows one batch carries (the server takes up to 100 operations).
pub const BATCH_MAX_ROWS: usize = steward_client::MAX_BATCH;
/// A batch stops growing past this many bytes of request bodies, so a run of long notes
/// stays well under the body limits of servers and proxies (nginx's default is 1 MB).
pub const BATCH_MAX_BYTES: usize = 256 * 1024;

/// Sends outbox rows to the server in one request.
pub trait PushTransport {
    /// One answer per row, in the rows' order: the body of a 2xx, or the error the row's
    /// single endpoint would have answered. An outer error is about the request as a
    /// whole (offline, an expired session, a 5xx): then no row has an answer.
    fn push_batch(
        &self,
        rows: &[OutboxRow],
    ) -> impl Future<Output = Result<Vec<Result<serde_json::Value, ClientError>>, SessionError>>;
}

/// What one step of the push loop found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PushRound {
    /// The outbox is empty.
    Idle,
    /// Rows are pending, but the next one is inside its undo window, until this time.
    Waiting(String),
    /// A batch went out (or was withdrawn before it did): what became of each row.
    Sent(Vec<PushStep>),
}

/// What became of one row of a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PushStep {
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
    /// The session is over: the rows wait for the next sign-in.
    Expired(AppError),
}

/// The cache key under which the server's idempotency retention (seconds) is kept.
pub const RETENTION_META: &str = "idempotency_retention_seconds";

/// Rows queued so long ago that the server may have applied them and already forgotten
/// their keys (its retention, less an hour for clocks that disagree) are not sent: each
/// is refused with the reason, for the user to check and redo. Nothing happens while the
/// retention is unknown (a server that does not state it keeps keys for good).
pub async fn refuse_rows_past_retention(
    store: &Store,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Vec<PushStep>, StoreError> {
    let Some(seconds) = store
        .get_meta(RETENTION_META)
        .await?
        .and_then(|value| value.parse::<i64>().ok())
    else {
        return Ok(Vec::new());
    };
    let margin = 3600.min(seconds / 10);
    let cutoff = now - chrono::Duration::seconds(seconds - margin);
    let days = seconds as f64 / 86_400.0;
    let message = format!(
        "Not sent: it was queued before {}, longer ago than the server remembers the actions it \
         applied ({days:.0} days), so it may have been applied already. Check it and do it again \
         if it is still needed.",
        cutoff.format("%Y-%m-%d %H:%M UTC"),
    );
    let cutoff = cutoff.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let refused = store.refuse_rows_queued_before(&cutoff, &message).await?;
    Ok(refused
        .into_iter()
        .map(|(kind, target_id)| PushStep::Rejected {
            error: AppError::new(ErrorCode::Conflict, message.clone()),
            kind,
            target_id,
        })
        .collect())
}

/// Sends the due rows (see [`Store::due_rows`]) as one batch of at most `max_rows`.
pub async fn push_step(
    store: &Store,
    transport: &impl PushTransport,
    now: &str,
    max_rows: usize,
) -> Result<PushRound, StoreError> {
    let mut rows = store.due_rows(now, max_rows.max(1)).await?;
    if rows.is_empty() {
        return match store.next_push(now).await? {
            NextPush::Idle => Ok(PushRound::Idle),
            NextPush::Waiting(until) => Ok(PushRound::Waiting(until)),
            // A row came due in between: the next step sends it.
            NextPush::Due(_) => Ok(PushRound::Sent(Vec::new())),
        };
    }
    let mut bytes = 0;
    let fits = rows
        .iter()
        .position(|row| {
            bytes += row.payload.to_string().len();
            bytes > BATCH_MAX_BYTES
        })
        .unwrap_or(rows.len());
    rows.truncate(fits.max(1));
    Ok(PushRound::Sent(push_rows(store, transport, rows).await?))
}

/// Sends rows that `Store::due_rows` chose, in one request, and applies each answer. The
/// rows are marked as going out first, in one commit; a row that mark finds no longer
/// pending (an undo won the race) is not sent.
pub async fn push_rows(
    store: &Store,
    transport: &impl PushTransport,
    rows: Vec<OutboxRow>,
) -> Result<Vec<PushStep>, StoreError> {
    let fresh: Vec<i64> = rows.iter().filter(|r| !r.sending).map(|r| r.id).collect();
    let marked: HashSet<i64> = store.mark_sending_many(&fresh).await?.into_iter().collect();
    let mut steps = Vec::with_capacity(rows.len());
    let mut going = Vec::with_capacity(rows.len());
    for row in rows {
        if row.sending || marked.contains(&row.id) {
            going.push(row);
        } else {
            steps.push(PushStep::Withdrawn);
        }
    }
    if going.is_empty() {
        return Ok(steps);
    }
    steps.extend(send(store, transport, &going, true).await?);
    Ok(steps)
}

/// Sends rows already marked as going out, in one request, and settles each. A batch
/// refused as too large (413, from the server or a proxy with a smaller body limit) is
/// sent again row by row when `may_split`; a single row too large to ever go is refused.
async fn send(
    store: &Store,
    transport: &impl PushTransport,
    going: &[OutboxRow],
    may_split: bool,
) -> Result<Vec<PushStep>, StoreError> {
    let mut steps = Vec::with_capacity(going.len());
    let error = match transport.push_batch(going).await {
        Ok(answers) if answers.len() == going.len() => {
            for (row, answer) in going.iter().zip(answers) {
                steps.push(settle(store, row, answer).await?);
            }
            return Ok(steps);
        }
        Ok(_) => malformed(),
        Err(SessionError::Expired(error)) => {
            // The rows stay marked as sent: the next sign-in resends them, same keys.
            steps.push(PushStep::Expired(error));
            return Ok(steps);
        }
        Err(SessionError::Keychain(error)) => error,
        Err(SessionError::Client(error)) if error.status() == Some(413) => {
            if may_split && going.len() > 1 {
                for row in going {
                    let one = std::slice::from_ref(row);
                    steps.extend(Box::pin(send(store, transport, one, false)).await?);
                }
                return Ok(steps);
            }
            if let [row] = going {
                let error = AppError::new(
                    ErrorCode::InvalidInput,
                    "Not sent: the server (or a proxy in front of it) refuses a request this \
                     large. Shorten the note and do it again.",
                );
                store
                    .reject_push(row.id, &ServerChanges::default(), &error.message)
                    .await?;
                steps.push(PushStep::Rejected {
                    error,
                    kind: row.kind.clone(),
                    target_id: row.target_id,
                });
                return Ok(steps);
            }
            error.to_app_error()
        }
        // The request as a whole failed: whatever the status, no row was refused, so
        // every row is kept and retried (a 4xx here is the server or a proxy refusing
        // the batch itself, and the user's work must not pay for that).
        Err(SessionError::Client(error)) => error.to_app_error(),
    };
    let ids: Vec<i64> = going.iter().map(|row| row.id).collect();
    store.record_push_failures(&ids, &error.message).await?;
    steps.push(PushStep::Retry(error));
    Ok(steps)
}

/// Applies the server's answer to one row.
async fn settle(
    store: &Store,
    row: &OutboxRow,
    answer: Result<serde_json::Value, ClientError>,
) -> Result<PushStep, StoreError> {
    let error = match answer {
        Ok(body) => {
            let Some(changes) = changes_in(&row.kind, &body) else {
                // A 2xx whose body is unreadable: resend later; the key makes it safe.
                return retry(store, row, malformed()).await;
            };
            store.complete_push(row.id, &changes).await?;
            return Ok(PushStep::Pushed);
        }
        Err(error) => error,
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
            retry(store, row, message).await
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
