//! The active session's background worker: push the outbox, then pull the delta feeds.

use std::sync::Arc;
use std::time::Duration;

use rand::Rng;
use steward_client::wire::{ApiAccount, ApiAuditEvent, ApiJob, Page};
use steward_core::push::backoff_delay;
use steward_core::{
    AppError, BootstrapProgress, ErrorCode, SessionInfo, SyncStatus, UnsentWork, UserInfo,
};
use steward_store::{NextPush, OutboxRow, Store};
use tokio::sync::{Mutex, Notify, broadcast};
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::outbox::{PushStep, PushTransport, push_step};
use crate::profile::ProfileRecord;
use crate::records;
use crate::session::{Session, SessionError};
use crate::{EngineEvent, store_error};

/// Rows per page of a delta feed.
const PAGE_SIZE: u32 = 500;
/// Whether the rows gathered from a feed are written now: a feed's first page alone, so
/// the UI has rows at once; then every `CATCH_UP_BATCH_ROWS` rows (see the store's
/// constant for why); and the last page ends a batch.
fn write_batch_now(done: i64, pending: usize, last_page: bool) -> bool {
    done == 0 || pending >= steward_store::CATCH_UP_BATCH_ROWS || last_page
}
const BACKOFF_BASE: Duration = Duration::from_millis(500);
const BACKOFF_CAP: Duration = Duration::from_secs(30);
/// The worker's rounds pull at most this often. A moderator deciding at speed makes an
/// outbox row come due every keystroke or two, and the server pokes back after each push;
/// pulling every feed after each of those (six requests) kept the server and the
/// machine busy while the moderator waited for the next item. Pushes are never held
/// back, and a sync the user asks for pulls at once.
const PULL_MIN_GAP: Duration = Duration::from_secs(1);

/// How long a round's pull must wait: `None` when it may pull now (never pulled, the last
/// pull began `PULL_MIN_GAP` ago or more, or the pull is forced).
fn pull_wait(last_pull: Option<Instant>, now: Instant, force: bool) -> Option<Duration> {
    let since = now.saturating_duration_since(last_pull?);
    (!force && since < PULL_MIN_GAP).then(|| PULL_MIN_GAP - since)
}

/// How often the user's roles are read again (`/me`) while nothing prompts it.
const ME_READ_EVERY: Duration = Duration::from_secs(300);

/// How the worker behaves; the engine's config decides.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    pub poll_interval: Duration,
    /// Queues at or above this priority raise "new item" events.
    pub high_priority: i64,
}

pub struct Active {
    pub profile: ProfileRecord,
    /// The profile's production flag, which the user may change while signed in.
    production: std::sync::atomic::AtomicBool,
    pub store: Store,
    pub session: Session,
    /// Who is signed in and what they may do: re-read from `/me` when the session starts
    /// and after any 403, so a role given or taken shows without signing out.
    user: std::sync::RwLock<UserInfo>,
    /// Set when `/me` must be read again before the next pull.
    me_stale: std::sync::atomic::AtomicBool,
    /// When `/me` was last read; it is read again after `ME_READ_EVERY`, so a role
    /// granted on the server shows without a 403 to prompt it.
    me_read_at: Mutex<Option<Instant>>,
    config: WorkerConfig,
    events: broadcast::Sender<EngineEvent>,
    status: Mutex<SyncStatus>,
    /// Set when the refresh token was refused; the worker stops until a new sign-in.
    expired: Mutex<Option<AppError>>,
    /// One sync at a time, whether the worker or `sync_now` started it.
    sync_lock: Mutex<()>,
    /// When the last pull began (`PULL_MIN_GAP`).
    last_pull: Mutex<Option<Instant>>,
    wake: Notify,
    /// The push/pull worker and the live-update listener.
    worker: Mutex<Option<(JoinHandle<()>, JoinHandle<()>)>>,
}

enum ListenError {
    /// The server has no live-update stream.
    Unsupported,
    /// The connection failed or dropped; try again after a backoff.
    Failed,
}

/// Why a sync round stopped early.
enum RoundError {
    /// Try again after a backoff (offline, 5xx, malformed answer).
    Retry(AppError),
    /// The session is over; wait for the user to sign in again.
    Expired(AppError),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SyncOutcome {
    Ok,
    /// Pushed and pulled; the next outbox row waits for its undo window to pass.
    WaitingUntil(String),
    /// Pushed; the pull waits `pull_in` (`PULL_MIN_GAP`), and the next outbox row, if
    /// any, until `waiting`.
    PullDeferred {
        pull_in: Duration,
        waiting: Option<String>,
    },
    Retry,
    Expired,
}

/// Pushes through the session, so a 401 refreshes and retries.
struct SessionTransport<'a>(&'a Session);

impl PushTransport for SessionTransport<'_> {
    async fn push(&self, row: &OutboxRow) -> Result<serde_json::Value, SessionError> {
        let client = &self.0.client;
        self.0
            .authorized(|access| async move {
                client
                    .push_operation(
                        &access,
                        &row.kind,
                        row.target_id,
                        &row.payload,
                        &row.idempotency_key,
                    )
                    .await
            })
            .await
    }
}

impl Active {
    pub fn start(
        profile: ProfileRecord,
        store: Store,
        session: Session,
        user: UserInfo,
        events: broadcast::Sender<EngineEvent>,
        config: WorkerConfig,
    ) -> Arc<Self> {
        let active = Arc::new(Self {
            production: std::sync::atomic::AtomicBool::new(profile.production),
            profile,
            store,
            session,
            user: std::sync::RwLock::new(user),
            me_stale: std::sync::atomic::AtomicBool::new(true),
            me_read_at: Mutex::new(None),
            config,
            events,
            status: Mutex::new(SyncStatus::default()),
            expired: Mutex::new(None),
            sync_lock: Mutex::new(()),
            last_pull: Mutex::new(None),
            wake: Notify::new(),
            worker: Mutex::new(None),
        });
        let worker = tokio::spawn(Arc::clone(&active).run());
        let live = tokio::spawn(Arc::clone(&active).listen());
        // The lock is fresh and uncontended: try_lock cannot fail here.
        if let Ok(mut slot) = active.worker.try_lock() {
            *slot = Some((worker, live));
        }
        active
    }

    pub fn user(&self) -> UserInfo {
        self.user
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    fn may(&self, permission: &str) -> bool {
        self.user
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .permissions
            .iter()
            .any(|p| p == permission)
    }

    pub fn session_info(&self) -> SessionInfo {
        SessionInfo {
            profile: self.profile.name.clone(),
            server_url: self.profile.server_url.clone(),
            production: self.production.load(std::sync::atomic::Ordering::Relaxed),
            user: self.user(),
        }
    }

    pub async fn set_production(&self, production: bool) {
        self.production
            .store(production, std::sync::atomic::Ordering::Relaxed);
    }

    pub async fn stop(&self) {
        if let Some((worker, live)) = self.worker.lock().await.take() {
            worker.abort();
            live.abort();
            let _ = worker.await;
            let _ = live.await;
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
        self.changed();
        self.wake.notify_one();
    }

    async fn run(self: Arc<Self>) {
        let mut failures: u32 = 0;
        loop {
            let delay = match self.round(false).await {
                SyncOutcome::Ok => {
                    failures = 0;
                    self.config.poll_interval
                }
                SyncOutcome::WaitingUntil(until) => {
                    failures = 0;
                    records::until(&until).min(self.config.poll_interval)
                }
                SyncOutcome::PullDeferred { pull_in, waiting } => {
                    // A round that only waited for the pull gap says nothing about the
                    // server: after a failed pull, the backoff must keep growing.
                    waiting.map_or(pull_in, |until| records::until(&until).min(pull_in))
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

    /// Listens to the server's live-update stream and wakes the worker when a collection
    /// moved past what the cache holds. Pokes only: the delta feeds stay the truth, and
    /// without a stream (an older server, a proxy that buffers) polling carries on alone.
    async fn listen(self: Arc<Self>) {
        let mut failures: u32 = 0;
        loop {
            let delay = match self.listen_once().await {
                Ok(retry) => {
                    failures = 0;
                    retry
                }
                Err(ListenError::Unsupported) => {
                    tracing::info!("the server offers no live updates; polling only");
                    return;
                }
                Err(ListenError::Failed) => {
                    failures = failures.saturating_add(1);
                    let jitter: f64 = rand::rng().random();
                    backoff_delay(failures, BACKOFF_BASE, BACKOFF_CAP, jitter)
                        .max(Duration::from_secs(1))
                }
            };
            tokio::time::sleep(delay).await;
        }
    }

    /// One connection of the stream. Returns how long to wait before reconnecting.
    async fn listen_once(&self) -> Result<Duration, ListenError> {
        if self.expired.lock().await.is_some() {
            return Err(ListenError::Failed);
        }
        let client = &self.session.client;
        let mut stream = match self
            .session
            .authorized(|access| async move { client.open_events(&access).await })
            .await
        {
            Ok(stream) => stream,
            Err(SessionError::Client(error)) if error.status() == Some(404) => {
                return Err(ListenError::Unsupported);
            }
            Err(_) => return Err(ListenError::Failed),
        };
        let mut parser = steward_core::sse::SseParser::new();
        loop {
            // Keep-alives come every 15 s; silence past 45 s means a dead connection.
            let chunk =
                match tokio::time::timeout(Duration::from_secs(45), stream.next_chunk()).await {
                    Ok(Ok(Some(chunk))) => chunk,
                    Ok(Ok(None)) => break,
                    Ok(Err(_)) | Err(_) => return Err(ListenError::Failed),
                };
            for event in parser.feed(&chunk) {
                if event.event == "changed" && self.is_news(&event.data).await {
                    self.wake.notify_one();
                }
            }
        }
        Ok(Duration::from_millis(parser.retry_ms.unwrap_or(5000)))
    }

    /// Whether a poke names a cursor the cache has not reached.
    async fn is_news(&self, data: &str) -> bool {
        #[derive(serde::Deserialize)]
        struct Poke {
            collection: String,
            cursor: Option<String>,
        }
        let Ok(poke) = serde_json::from_str::<Poke>(data) else {
            return false;
        };
        match poke.collection.as_str() {
            // Queues and templates are pulled whole every round; items carry their changes.
            "queues" | "reason_templates" => false,
            collection => match (poke.cursor, self.store.cursor(collection).await) {
                (None, _) => false,
                (Some(theirs), Ok(Some(ours))) => theirs != ours,
                (Some(_), _) => true,
            },
        }
    }

    /// One round: push every due outbox row in order, then pull the delta feeds.
    pub async fn sync_once(&self) -> SyncOutcome {
        self.round(true).await
    }

    /// A round whose pull, unless `force_pull`, waits for `PULL_MIN_GAP` since the last.
    async fn round(&self, force_pull: bool) -> SyncOutcome {
        let _guard = self.sync_lock.lock().await;
        if self.expired.lock().await.is_some() {
            return SyncOutcome::Expired;
        }
        // Nothing to send and the pull must wait (the server's poke after our own push, a
        // row still in its undo window): a quiet round, with no status change for the UI.
        if let Some(pull_in) = pull_wait(*self.last_pull.lock().await, Instant::now(), force_pull) {
            match self.store.next_push(&records::now()).await {
                Ok(NextPush::Idle) => {
                    return SyncOutcome::PullDeferred {
                        pull_in,
                        waiting: None,
                    };
                }
                Ok(NextPush::Waiting(until)) => {
                    return SyncOutcome::PullDeferred {
                        pull_in,
                        waiting: Some(until),
                    };
                }
                _ => {}
            }
        }
        let result = match self.push_outbox().await {
            Ok(waiting) => {
                let wait = {
                    let mut last_pull = self.last_pull.lock().await;
                    let now = Instant::now();
                    let wait = pull_wait(*last_pull, now, force_pull);
                    if wait.is_none() {
                        *last_pull = Some(now);
                    }
                    wait
                };
                match wait {
                    None => {
                        // Only a pull shows as syncing: a push is one short request, and
                        // during fast triage one ends every keystroke or two; the
                        // pending count already shows the outbox draining.
                        self.update_status(|status| status.syncing = true).await;
                        self.pull().await.map(|()| (waiting, None))
                    }
                    Some(pull_in) => Ok((waiting, Some(pull_in))),
                }
            }
            Err(error) => Err(error),
        };
        let outcome = match result {
            Ok((waiting, deferred)) => {
                // "Last synced" is when the cache last caught up with the server: a pull.
                let pulled = deferred.is_none().then(records::now);
                self.update_status(|status| {
                    status.online = true;
                    if pulled.is_some() {
                        status.last_synced_at = pulled;
                    }
                    status.last_error = None;
                })
                .await;
                match (deferred, waiting) {
                    (Some(pull_in), waiting) => SyncOutcome::PullDeferred { pull_in, waiting },
                    (None, Some(until)) => SyncOutcome::WaitingUntil(until),
                    (None, None) => SyncOutcome::Ok,
                }
            }
            Err(RoundError::Retry(error)) => {
                tracing::warn!(code = ?error.code, %error, "sync round failed; will retry");
                if error.code == ErrorCode::PermissionDenied {
                    // A role may have been taken away: read `/me` before the next pull.
                    self.me_stale
                        .store(true, std::sync::atomic::Ordering::SeqCst);
                }
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
                let _ = self.events.send(EngineEvent::SessionExpired);
                SyncOutcome::Expired
            }
        };
        self.refresh_counts().await;
        self.update_status(|status| {
            status.syncing = false;
            status.bootstrap = None;
        })
        .await;
        outcome
    }

    /// Pushes due rows in order. Returns the time the next row's undo window ends, if one waits.
    async fn push_outbox(&self) -> Result<Option<String>, RoundError> {
        loop {
            let step = push_step(
                &self.store,
                &SessionTransport(&self.session),
                &records::now(),
            )
            .await
            .map_err(storage)?;
            match step {
                PushStep::Idle => return Ok(None),
                PushStep::Waiting(until) => return Ok(Some(until)),
                PushStep::Pushed | PushStep::Conflict | PushStep::Withdrawn => self.changed(),
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
                    tracing::info!(code = ?error.code, %kind, target_id, "an action was refused by the server");
                    if error.code == ErrorCode::PermissionDenied {
                        self.me_stale
                            .store(true, std::sync::atomic::Ordering::SeqCst);
                    }
                    let _ = self.events.send(EngineEvent::ActionRefused {
                        error,
                        kind,
                        target_id,
                    });
                    self.changed();
                }
                PushStep::Retry(error) => return Err(RoundError::Retry(error)),
                PushStep::Expired(error) => return Err(RoundError::Expired(error)),
            }
            self.refresh_counts().await;
        }
    }

    async fn pull(&self) -> Result<(), RoundError> {
        let me_due = self
            .me_read_at
            .lock()
            .await
            .is_none_or(|at| at.elapsed() >= ME_READ_EVERY);
        if me_due || self.me_stale.load(std::sync::atomic::Ordering::SeqCst) {
            self.refresh_me().await?;
        }
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
        let templates = self
            .session
            .authorized(|access| async move { client.reason_templates(&access).await })
            .await
            .map_err(round_error)?;
        let template_records: Vec<_> = templates.iter().map(records::template_record).collect();
        let templates_changed = self
            .store
            .replace_reason_templates(&template_records)
            .await
            .map_err(storage)?;
        let _ = self.events.send(EngineEvent::CollectionChanged("queues"));
        if templates_changed {
            let _ = self
                .events
                .send(EngineEvent::CollectionChanged("reason_templates"));
        }
        self.pull_items().await?;
        if self.may("accounts.view") {
            self.pull_accounts().await?;
        }
        if self.may("jobs.view") {
            self.pull_jobs().await?;
        }
        if self.may("audit.view") {
            self.pull_audit().await?;
        }
        Ok(())
    }

    /// Reads who the user is now. When their roles changed, the session shows it at once
    /// (the UI's screens follow `SessionChanged`), collections they may no longer read
    /// leave the cache, and ones they may now read download on this pull.
    async fn refresh_me(&self) -> Result<(), RoundError> {
        let client = &self.session.client;
        let me = self
            .session
            .authorized(|access| async move { client.me(&access).await })
            .await
            .map_err(round_error)?;
        self.me_stale
            .store(false, std::sync::atomic::Ordering::SeqCst);
        *self.me_read_at.lock().await = Some(Instant::now());
        let fresh = records::user_info(&me);
        let before = self.user();
        if fresh == before {
            return Ok(());
        }
        tracing::info!(roles = ?fresh.roles, "the user's roles changed");
        self.store
            .set_meta("user", &records::user_json(&fresh))
            .await
            .map_err(storage)?;
        *self
            .user
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = fresh.clone();
        for (permission, collection) in [
            ("accounts.view", "accounts"),
            ("audit.view", "audit"),
            ("jobs.view", "jobs"),
        ] {
            let had = before.permissions.iter().any(|p| p == permission);
            if had && !self.may(permission) {
                self.store
                    .forget_collection(collection)
                    .await
                    .map_err(storage)?;
                let _ = self.events.send(EngineEvent::CollectionChanged(collection));
            }
        }
        let _ = self
            .events
            .send(EngineEvent::SessionChanged(self.session_info()));
        Ok(())
    }

    /// Sends every queued action now, undo windows or not, and gives back the claims the
    /// user holds, waiting for the server's answers: signing out with "send first".
    /// Returns what is left unsent (conflicts the answers raised, refusals); fails, with
    /// everything still queued, when the server cannot be reached.
    pub async fn send_everything(&self, claims: &[i64]) -> Result<UnsentWork, AppError> {
        let _guard = self.sync_lock.lock().await;
        self.store
            .make_all_due(&records::now())
            .await
            .map_err(store_error)?;
        for &item_id in claims {
            crate::queue_claim(
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
        self.store.unsent_work().await.map_err(store_error)
    }

    /// Reports bootstrap progress of a collection, when it is being downloaded the first time.
    async fn progress(&self, collection: &str, done: i64, total: Option<i64>) {
        let collection = collection.to_string();
        self.update_status(|status| {
            status.bootstrap = Some(BootstrapProgress {
                collection,
                done,
                total,
            })
        })
        .await;
    }

    /// One page of the `collection` delta feed after `cursor`, refreshing the session if needed.
    async fn delta_page<T: serde::de::DeserializeOwned>(
        &self,
        collection: &str,
        cursor: Option<&str>,
    ) -> Result<Page<T>, RoundError> {
        let client = &self.session.client;
        self.session
            .authorized(|access| async move {
                client
                    .delta_page(&access, collection, cursor, PAGE_SIZE)
                    .await
            })
            .await
            .map_err(round_error)
    }

    async fn pull_accounts(&self) -> Result<(), RoundError> {
        let mut cursor = self.store.cursor("accounts").await.map_err(storage)?;
        let bootstrapping = cursor.is_none();
        let mut done = 0;
        let mut total: Option<i64> = None;
        loop {
            let page: Page<ApiAccount> = self.delta_page("accounts", cursor.as_deref()).await?;
            if page.results.is_empty() {
                break;
            }
            let records: Vec<_> = page.results.iter().map(records::account_record).collect();
            self.store
                .apply_accounts_page(&records, page.next_cursor.as_deref(), &records::now())
                .await
                .map_err(storage)?;
            total = page.total.or(total);
            done += records.len() as i64;
            if bootstrapping {
                self.progress("accounts", done, total).await;
            }
            let _ = self.events.send(EngineEvent::CollectionChanged("accounts"));
            if !page.has_more || page.next_cursor.is_none() {
                break;
            }
            cursor = page.next_cursor;
        }
        Ok(())
    }

    async fn pull_jobs(&self) -> Result<(), RoundError> {
        let mut cursor = self.store.cursor("jobs").await.map_err(storage)?;
        let bootstrapping = cursor.is_none();
        let mut done = 0;
        let mut total: Option<i64> = None;
        loop {
            let page: Page<ApiJob> = self.delta_page("jobs", cursor.as_deref()).await?;
            if page.results.is_empty() {
                break;
            }
            let records: Vec<_> = page.results.iter().map(records::job_record).collect();
            let failed = self
                .store
                .apply_jobs_page(&records, page.next_cursor.as_deref(), &records::now())
                .await
                .map_err(storage)?;
            total = page.total.or(total);
            done += records.len() as i64;
            if bootstrapping {
                self.progress("jobs", done, total).await;
            } else {
                for entry in failed {
                    let _ = self.events.send(EngineEvent::JobsFailed {
                        kind: entry.kind,
                        count: entry.count,
                    });
                }
            }
            let _ = self.events.send(EngineEvent::CollectionChanged("jobs"));
            if !page.has_more || page.next_cursor.is_none() {
                break;
            }
            cursor = page.next_cursor;
        }
        Ok(())
    }

    async fn pull_audit(&self) -> Result<(), RoundError> {
        let client = &self.session.client;
        let mut cursor = self.store.cursor("audit").await.map_err(storage)?;
        let bootstrapping = cursor.is_none();
        let mut done = 0;
        let mut total: Option<i64> = None;
        let mut pending: Vec<steward_store::AuditRecord> = Vec::new();
        loop {
            let mut filters = vec![("limit", PAGE_SIZE.to_string())];
            if let Some(cursor) = &cursor {
                filters.push(("cursor", cursor.clone()));
            }
            let page: Page<ApiAuditEvent> = self
                .session
                .authorized(|access| {
                    let filters = &filters;
                    async move { client.audit_page(&access, filters).await }
                })
                .await
                .map_err(round_error)?;
            if page.results.is_empty() {
                break;
            }
            pending.extend(page.results.iter().map(records::audit_record));
            total = page.total.or(total);
            // As for items: while more pages follow, they are written in batches.
            if write_batch_now(done, pending.len(), !page.has_more) {
                self.store
                    .apply_audit_page(&pending, page.next_cursor.as_deref(), &records::now())
                    .await
                    .map_err(storage)?;
                done += pending.len() as i64;
                pending.clear();
                if bootstrapping {
                    self.progress("audit", done, total).await;
                }
                let _ = self.events.send(EngineEvent::CollectionChanged("audit"));
            }
            if !page.has_more || page.next_cursor.is_none() {
                break;
            }
            cursor = page.next_cursor;
        }
        Ok(())
    }

    async fn pull_items(&self) -> Result<(), RoundError> {
        let client = &self.session.client;
        let first_cursor = self.store.cursor("items").await.map_err(storage)?;
        let bootstrapping = first_cursor.is_none();
        let mut cursor = first_cursor;
        let mut done: i64 = 0;
        let mut total: Option<i64> = None;
        // While the feed has more pages (a first download, or catching up after time
        // offline), pages are written in batches: items land at random places in the
        // indexes, so each commit rewrites many pages, and fewer commits write less
        // (bench/ingest: about three times the rows per second). The first page is
        // written alone, so the UI has items at once; a feed's last page ends a batch.
        let mut pending: Vec<steward_store::ItemRecord> = Vec::new();
        loop {
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
            let last_page = !page.has_more || page.next_cursor.is_none();
            pending.extend(page.results.iter().map(records::item_record));
            total = page.total.or(total);
            if write_batch_now(done, pending.len(), last_page) {
                let new_items = self
                    .store
                    .apply_items_page(&pending, page.next_cursor.as_deref(), &records::now())
                    .await
                    .map_err(storage)?;
                done += pending.len() as i64;
                pending.clear();
                if bootstrapping {
                    self.progress("items", done, total).await;
                } else {
                    self.announce_new_items(&new_items).await;
                }
                let _ = self.events.send(EngineEvent::CollectionChanged("items"));
            }
            if last_page {
                break;
            }
            cursor = page.next_cursor;
        }
        Ok(())
    }

    /// Tells the shell about new open items in high-priority queues.
    async fn announce_new_items(&self, new_items: &[steward_store::NewItemsInQueue]) {
        for entry in new_items {
            let Ok(Some(queue)) = self.store.queue(entry.queue_id).await else {
                continue;
            };
            if queue.priority >= self.config.high_priority {
                let _ = self.events.send(EngineEvent::NewHighPriorityItems {
                    queue_id: queue.id,
                    queue_name: queue.name,
                    count: entry.count,
                });
            }
        }
    }

    fn changed(&self) {
        let _ = self.events.send(EngineEvent::CollectionChanged("items"));
        let _ = self.events.send(EngineEvent::CollectionChanged("queues"));
    }

    async fn refresh_counts(&self) {
        match self.store.outbox_counts().await {
            Ok(counts) => {
                self.update_status(|status| {
                    status.pending = counts.pending;
                    status.conflicts = counts.conflicts;
                    status.refused = counts.refused;
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

fn storage(error: steward_store::StoreError) -> RoundError {
    RoundError::Retry(store_error(error))
}

fn round_error(error: SessionError) -> RoundError {
    match error {
        SessionError::Expired(error) => RoundError::Expired(error),
        other => RoundError::Retry(other.to_app_error()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_pull_and_a_forced_one_never_wait() {
        let now = Instant::now();
        assert_eq!(pull_wait(None, now, false), None);
        assert_eq!(pull_wait(Some(now), now, true), None);
    }

    #[test]
    fn a_pull_within_the_gap_waits_for_the_rest_of_it() {
        let began = Instant::now();
        let now = began + Duration::from_millis(300);
        assert_eq!(
            pull_wait(Some(began), now, false),
            Some(PULL_MIN_GAP - Duration::from_millis(300))
        );
        assert_eq!(pull_wait(Some(began), began + PULL_MIN_GAP, false), None);
        assert_eq!(
            pull_wait(Some(began), began + PULL_MIN_GAP * 3, false),
            None
        );
    }
}
