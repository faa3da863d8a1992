//! The active session's background worker: push the outbox, then pull the delta feeds.

use std::sync::Arc;
use std::time::Duration;

use rand::Rng;
use steward_client::ClientError;
use steward_client::wire::DecisionRequest;
use steward_core::push::{PushAnswer, PushDisposition, backoff_delay, classify_push};
use steward_core::{AppError, ErrorCode, SessionInfo, SyncStatus, UserInfo};
use steward_store::{OutboxRow, Store};
use tokio::sync::{Mutex, Notify, broadcast};
use tokio::task::JoinHandle;

use crate::profile::ProfileRecord;
use crate::records;
use crate::session::{Session, SessionError};
use crate::{EngineEvent, store_error};

/// Rows per page of a delta feed.
const PAGE_SIZE: u32 = 200;
const BACKOFF_BASE: Duration = Duration::from_millis(500);
const BACKOFF_CAP: Duration = Duration::from_secs(30);

pub struct Active {
    pub profile: ProfileRecord,
    pub store: Store,
    pub session: Session,
    user: UserInfo,
    events: broadcast::Sender<EngineEvent>,
    status: Mutex<SyncStatus>,
    /// Set when the refresh token was refused; the worker stops until a new sign-in.
    expired: Mutex<Option<AppError>>,
    /// One sync at a time, whether the worker or `sync_now` started it.
    sync_lock: Mutex<()>,
    wake: Notify,
    worker: Mutex<Option<JoinHandle<()>>>,
}

/// Why a sync round stopped early.
enum RoundError {
    /// Try again after a backoff (offline, 5xx, malformed answer).
    Retry(AppError),
    /// The session is over; wait for the user to sign in again.
    Expired(AppError),
}

impl Active {
    pub fn start(
        profile: ProfileRecord,
        store: Store,
        session: Session,
        user: UserInfo,
        events: broadcast::Sender<EngineEvent>,
        poll_interval: Duration,
    ) -> Arc<Self> {
        let active = Arc::new(Self {
            profile,
            store,
            session,
            user,
            events,
            status: Mutex::new(SyncStatus::default()),
            expired: Mutex::new(None),
            sync_lock: Mutex::new(()),
            wake: Notify::new(),
            worker: Mutex::new(None),
        });
        let worker = tokio::spawn(Arc::clone(&active).run(poll_interval));
        // The lock is fresh and uncontended: try_lock cannot fail here.
        if let Ok(mut slot) = active.worker.try_lock() {
            *slot = Some(worker);
        }
        active
    }

    pub fn session_info(&self) -> SessionInfo {
        SessionInfo {
            profile: self.profile.name.clone(),
            server_url: self.profile.server_url.clone(),
            production: self.profile.production,
            user: self.user.clone(),
        }
    }

    pub async fn stop(&self) {
        if let Some(worker) = self.worker.lock().await.take() {
            worker.abort();
            let _ = worker.await;
        }
    }

    pub async fn expired(&self) -> Option<AppError> {
        self.expired.lock().await.clone()
    }

    pub async fn status(&self) -> SyncStatus {
        self.status.lock().await.clone()
    }

    /// Called after a local write: refresh the counts and wake the worker to push.
    pub async fn after_local_change(&self) {
        self.refresh_counts().await;
        let _ = self.events.send(EngineEvent::CollectionChanged("items"));
        let _ = self.events.send(EngineEvent::CollectionChanged("queues"));
        self.wake.notify_one();
    }

    async fn run(self: Arc<Self>, poll_interval: Duration) {
        let mut failures: u32 = 0;
        loop {
            let delay = match self.sync_once().await {
                SyncOutcome::Ok => {
                    failures = 0;
                    poll_interval
                }
                SyncOutcome::Retry => {
                    failures = failures.saturating_add(1);
                    let jitter: f64 = rand::rng().random();
                    // Never spin: at least a fifth of a second between failed rounds.
                    backoff_delay(failures, BACKOFF_BASE, BACKOFF_CAP, jitter)
                        .max(Duration::from_millis(200))
                }
                SyncOutcome::Expired => return,
            };
            tokio::select! {
                () = self.wake.notified() => {}
                () = tokio::time::sleep(delay) => {}
            }
        }
    }

    /// One round: push every pending outbox row in order, then pull the delta feeds.
    pub async fn sync_once(&self) -> SyncOutcome {
        let _guard = self.sync_lock.lock().await;
        if self.expired.lock().await.is_some() {
            return SyncOutcome::Expired;
        }
        self.update_status(|status| status.syncing = true).await;
        let result = match self.push_outbox().await {
            Ok(()) => self.pull().await,
            Err(error) => Err(error),
        };
        let outcome = match result {
            Ok(()) => {
                let now = records::now();
                self.update_status(|status| {
                    status.online = true;
                    status.last_synced_at = Some(now);
                    if status
                        .last_error
                        .as_ref()
                        .is_some_and(|e| is_transient(e.code))
                    {
                        status.last_error = None;
                    }
                })
                .await;
                SyncOutcome::Ok
            }
            Err(RoundError::Retry(error)) => {
                tracing::warn!(code = ?error.code, %error, "sync round failed; will retry");
                self.update_status(|status| {
                    status.online = error.code != ErrorCode::ServerUnreachable;
                    status.last_error = Some(error);
                })
                .await;
                SyncOutcome::Retry
            }
            Err(RoundError::Expired(error)) => {
                tracing::warn!("session expired; waiting for a new sign-in");
                *self.expired.lock().await = Some(error.clone());
                self.update_status(|status| status.last_error = Some(error))
                    .await;
                SyncOutcome::Expired
            }
        };
        self.refresh_counts().await;
        self.update_status(|status| status.syncing = false).await;
        outcome
    }

    async fn push_outbox(&self) -> Result<(), RoundError> {
        while let Some(row) = self.store.next_pending().await.map_err(storage)? {
            self.push_one(&row).await?;
            self.refresh_counts().await;
        }
        Ok(())
    }

    async fn push_one(&self, row: &OutboxRow) -> Result<(), RoundError> {
        let request: DecisionRequest = serde_json::from_value(row.payload.clone())
            .map_err(|e| storage(format!("outbox row {} is unreadable: {e}", row.id)))?;
        let client = &self.session.client;
        let request = &request;
        let result = self
            .session
            .authorized(|access| async move {
                client
                    .decide(&access, row.target_id, request, &row.idempotency_key)
                    .await
            })
            .await;
        let error = match result {
            Ok(response) => {
                self.store
                    .complete_push(row.id, &records::item_record(&response.item))
                    .await
                    .map_err(storage)?;
                tracing::info!(item_id = row.target_id, "decision pushed");
                self.changed();
                return Ok(());
            }
            Err(SessionError::Expired(error)) => return Err(RoundError::Expired(error)),
            Err(SessionError::Keychain(error)) => return Err(RoundError::Retry(error)),
            Err(SessionError::Client(error)) => error,
        };
        let message = error.to_app_error();
        match classify_push(answer_of(&error)) {
            PushDisposition::Conflict => {
                let current = conflict_current_item(&error);
                self.store
                    .mark_conflict(row.id, current.as_ref(), &message.message)
                    .await
                    .map_err(storage)?;
                tracing::info!(item_id = row.target_id, "decision became a conflict");
                self.changed();
                Ok(())
            }
            PushDisposition::Rejected => {
                self.store
                    .reject_push(row.id, &message.message)
                    .await
                    .map_err(storage)?;
                tracing::info!(item_id = row.target_id, code = ?message.code, "decision refused by the server");
                self.update_status(|status| status.last_error = Some(message))
                    .await;
                self.changed();
                Ok(())
            }
            PushDisposition::RetryLater
            | PushDisposition::Reauthenticate
            | PushDisposition::Done => {
                self.store
                    .record_push_failure(row.id, &message.message)
                    .await
                    .map_err(storage)?;
                Err(RoundError::Retry(message))
            }
        }
    }

    async fn pull(&self) -> Result<(), RoundError> {
        let client = &self.session.client;
        let queues = self
            .session
            .authorized(|access| async move { client.queues(&access).await })
            .await
            .map_err(round_error)?;
        let now = records::now();
        let queue_records: Vec<_> = queues.iter().map(records::queue_record).collect();
        self.store
            .replace_queues(&queue_records, &now)
            .await
            .map_err(storage)?;
        let mut changed = false;
        loop {
            let cursor = self.store.cursor("items").await.map_err(storage)?;
            let page = self
                .session
                .authorized(|access| {
                    let cursor = cursor.clone();
                    async move {
                        client
                            .items_page(&access, cursor.as_deref(), PAGE_SIZE)
                            .await
                    }
                })
                .await
                .map_err(round_error)?;
            if page.results.is_empty() {
                break;
            }
            let items: Vec<_> = page.results.iter().map(records::item_record).collect();
            self.store
                .apply_items_page(&items, page.next_cursor.as_deref(), &records::now())
                .await
                .map_err(storage)?;
            changed = true;
            if !page.has_more || page.next_cursor.is_none() {
                break;
            }
        }
        let _ = self.events.send(EngineEvent::CollectionChanged("queues"));
        if changed {
            let _ = self.events.send(EngineEvent::CollectionChanged("items"));
        }
        Ok(())
    }

    fn changed(&self) {
        let _ = self.events.send(EngineEvent::CollectionChanged("items"));
        let _ = self.events.send(EngineEvent::CollectionChanged("queues"));
    }

    async fn refresh_counts(&self) {
        match self.store.outbox_counts().await {
            Ok((pending, conflicts)) => {
                self.update_status(|status| {
                    status.pending = pending;
                    status.conflicts = conflicts;
                })
                .await
            }
            Err(error) => tracing::error!(%error, "cannot count the outbox"),
        }
    }

    async fn update_status(&self, change: impl FnOnce(&mut SyncStatus)) {
        let snapshot = {
            let mut status = self.status.lock().await;
            let before = status.clone();
            change(&mut status);
            if *status == before {
                return;
            }
            status.clone()
        };
        let _ = self.events.send(EngineEvent::SyncStatusChanged(snapshot));
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncOutcome {
    Ok,
    Retry,
    Expired,
}

fn is_transient(code: ErrorCode) -> bool {
    matches!(
        code,
        ErrorCode::ServerUnreachable | ErrorCode::BadResponse | ErrorCode::KeychainUnavailable
    )
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

/// A 409 carries the server's current item; keep it so the user sees what changed.
fn conflict_current_item(error: &ClientError) -> Option<steward_store::ItemRecord> {
    let ClientError::Api { body, .. } = error else {
        return None;
    };
    let current = body.get("current")?;
    let item: steward_client::wire::ApiItem = serde_json::from_value(current.clone()).ok()?;
    Some(records::item_record(&item))
}

fn round_error(error: SessionError) -> RoundError {
    match error {
        SessionError::Expired(error) => RoundError::Expired(error),
        other => RoundError::Retry(other.to_app_error()),
    }
}

fn storage(error: impl Into<StorageMessage>) -> RoundError {
    RoundError::Retry(error.into().0)
}

/// Lets `storage` take either a store error or a plain message.
struct StorageMessage(AppError);

impl From<steward_store::StoreError> for StorageMessage {
    fn from(error: steward_store::StoreError) -> Self {
        Self(store_error(error))
    }
}

impl From<String> for StorageMessage {
    fn from(message: String) -> Self {
        Self(AppError::storage(message))
    }
}
