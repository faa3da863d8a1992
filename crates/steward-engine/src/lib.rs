//! The engine of Steward: the facade the desktop shell (and later a CLI) calls.
//!
//! It owns the signed-in session of the active profile, the local cache, and one
//! background worker that pushes the outbox and pulls delta feeds. Every read the UI makes
//! is served from the cache; every action is written to the outbox first and pushed
//! later, so nothing the user does waits on, or is lost to, the network.

mod keychain;
mod profile;
mod records;
mod sanitize;
mod session;
mod sync;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use steward_client::Client;
use steward_core::{
    AppError, AppState, AuthorInfo, ClaimInfo, DecisionAction, ErrorCode, ItemDetail, ItemSummary,
    QueueSummary, ReportInfo, SessionInfo, SyncStatus, UserInfo,
};
use steward_store::{NewDecision, Store, StoreError};
use tokio::sync::{Mutex, broadcast};

pub use crate::keychain::KeychainEntry;
pub use crate::profile::ProfileRecord;
pub use crate::sanitize::sanitize_html;
use crate::session::Session;
use crate::sync::Active;
pub use crate::sync::SyncOutcome;

/// What the engine tells the shell about, as it happens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EngineEvent {
    SyncStatusChanged(SyncStatus),
    /// A cached collection changed: "queues" or "items".
    CollectionChanged(&'static str),
}

#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// Where profiles and caches live (one SQLite file per environment and account).
    pub data_dir: PathBuf,
    /// The server URL to prefill on the sign-in screen.
    pub default_server_url: Option<String>,
    /// The keychain service name the refresh tokens are stored under.
    pub keychain_service: String,
    /// How often to pull when nothing else wakes the worker.
    pub poll_interval: Duration,
}

impl EngineConfig {
    pub fn new(data_dir: PathBuf) -> Self {
        Self {
            data_dir,
            default_server_url: None,
            keychain_service: "dev.steward.desktop".to_string(),
            poll_interval: Duration::from_secs(15),
        }
    }
}

pub struct Engine {
    config: EngineConfig,
    events: broadcast::Sender<EngineEvent>,
    active: Mutex<Option<Arc<Active>>>,
    /// Why the last session ended without the user signing out.
    sign_in_reason: Mutex<Option<AppError>>,
}

/// The only profile the walking skeleton keeps; profiles per environment come next.
const DEFAULT_PROFILE: &str = "default";

impl Engine {
    /// Opens the engine and, when a session was saved, restores it from the keychain.
    pub async fn open(config: EngineConfig) -> Result<Arc<Self>, AppError> {
        std::fs::create_dir_all(&config.data_dir).map_err(|e| {
            AppError::storage(format!("cannot create {}: {e}", config.data_dir.display()))
        })?;
        let (events, _) = broadcast::channel(256);
        let engine = Arc::new(Self {
            config,
            events,
            active: Mutex::new(None),
            sign_in_reason: Mutex::new(None),
        });
        if let Some(record) = profile::load_active(&engine.config.data_dir)? {
            match engine.restore(record).await {
                Ok(active) => *engine.active.lock().await = Some(active),
                Err(reason) => {
                    tracing::warn!(code = ?reason.code, "saved session not restored");
                    *engine.sign_in_reason.lock().await = Some(reason);
                }
            }
        }
        Ok(engine)
    }

    pub fn subscribe(&self) -> broadcast::Receiver<EngineEvent> {
        self.events.subscribe()
    }

    pub async fn app_state(&self) -> AppState {
        let active = self.active.lock().await.clone();
        let mut reason = self.sign_in_reason.lock().await.clone();
        let session = match active {
            Some(active) => match active.expired().await {
                Some(expired) => {
                    reason = Some(expired);
                    None
                }
                None => Some(active.session_info()),
            },
            None => None,
        };
        AppState {
            session,
            default_server_url: self.config.default_server_url.clone(),
            needs_sign_in_reason: reason,
        }
    }

    pub async fn sign_in(
        &self,
        server_url: &str,
        username: &str,
        password: &str,
    ) -> Result<SessionInfo, AppError> {
        let username = username.trim();
        if username.is_empty() || password.is_empty() {
            return Err(AppError::new(
                ErrorCode::InvalidInput,
                "Enter a username and a password.",
            ));
        }
        let client = Client::new(server_url).map_err(|e| e.to_app_error())?;
        let pair = client
            .login(username, password)
            .await
            .map_err(|e| e.to_app_error())?;
        let record = ProfileRecord {
            name: DEFAULT_PROFILE.to_string(),
            server_url: client.base_url(),
            username: pair.user.username.clone(),
            production: false,
        };
        let keychain = record.keychain_entry(&self.config.keychain_service);
        if let Err(error) = keychain.store(&pair.refresh_token).await {
            // Without the keychain the session could not survive; do not leave it alive
            // on the server either.
            if let Err(logout) = client.logout(&pair.refresh_token).await {
                tracing::warn!(%logout, "could not revoke the session the keychain refused");
            }
            return Err(error);
        }
        self.stop_active().await;
        let store = self.open_store(&record).await?;
        let user = records::user_info(&pair.user);
        store
            .set_meta("user", &records::user_json(&user))
            .await
            .map_err(store_error)?;
        profile::save_active(&self.config.data_dir, Some(&record))?;
        let session = Session::new(
            client,
            keychain,
            Some(pair.access_token),
            pair.refresh_token,
        );
        let active = Active::start(
            record,
            store,
            session,
            user,
            self.events.clone(),
            self.config.poll_interval,
        );
        let info = active.session_info();
        *self.active.lock().await = Some(active);
        *self.sign_in_reason.lock().await = None;
        tracing::info!(server = %info.server_url, user = %info.user.username, "signed in");
        Ok(info)
    }

    /// Revokes the session on the server, deletes the keychain item and wipes the cache.
    pub async fn sign_out(&self) -> Result<(), AppError> {
        let Some(active) = self.active.lock().await.take() else {
            return Ok(());
        };
        active.stop().await;
        let refresh = active.session.refresh_token().await;
        if let Err(error) = active.session.client.logout(&refresh).await {
            tracing::warn!(%error, "could not revoke the session on the server");
        }
        active.session.keychain.delete().await?;
        active.store.close().await;
        let path = profile::cache_path(&self.config.data_dir, &active.profile);
        for suffix in ["", "-wal", "-shm"] {
            let file = PathBuf::from(format!("{}{suffix}", path.display()));
            if file.exists() {
                std::fs::remove_file(&file).map_err(|e| {
                    AppError::storage(format!("cannot wipe {}: {e}", file.display()))
                })?;
            }
        }
        profile::save_active(&self.config.data_dir, None)?;
        tracing::info!("signed out and wiped the cache");
        Ok(())
    }

    pub async fn list_queues(&self) -> Result<Vec<QueueSummary>, AppError> {
        self.require_active()
            .await?
            .store
            .list_queues()
            .await
            .map_err(store_error)
    }

    pub async fn list_queue_items(&self, queue_id: i64) -> Result<Vec<ItemSummary>, AppError> {
        self.require_active()
            .await?
            .store
            .list_open_items(queue_id)
            .await
            .map_err(store_error)
    }

    pub async fn get_item(&self, item_id: i64) -> Result<ItemDetail, AppError> {
        let active = self.require_active().await?;
        let record = active.store.item(item_id).await.map_err(store_error)?;
        let summary = active
            .store
            .item_summary(item_id)
            .await
            .map_err(store_error)?;
        let reports: Vec<ReportInfo> = serde_json::from_str(&record.reports_json)
            .map_err(|e| AppError::storage(format!("reports of item {item_id}: {e}")))?;
        Ok(ItemDetail {
            summary,
            safe_html: sanitize_html(&record.body_html),
            author: AuthorInfo {
                id: record.author_id,
                username: record.author_username,
                status: record.author_status,
            },
            reports,
            claim: record.claim_username.zip(record.claim_expires_at).map(
                |(username, expires_at)| ClaimInfo {
                    username,
                    expires_at,
                },
            ),
        })
    }

    /// Records a decision locally (outbox row and optimistic change in one transaction)
    /// and wakes the worker to push it.
    pub async fn decide_item(
        &self,
        item_id: i64,
        action: DecisionAction,
        reason_code: Option<String>,
        note: Option<String>,
    ) -> Result<ItemSummary, AppError> {
        let active = self.require_active().await?;
        let key = uuid::Uuid::new_v4().to_string();
        let now = records::now();
        let summary = active
            .store
            .enqueue_decision(&NewDecision {
                item_id,
                action,
                reason_code: reason_code.as_deref().unwrap_or(""),
                note: note.as_deref().unwrap_or(""),
                idempotency_key: &key,
                now: &now,
            })
            .await
            .map_err(store_error)?;
        tracing::info!(item_id, action = action.as_str(), "decision queued");
        active.after_local_change().await;
        Ok(summary)
    }

    /// Pushes and pulls now, and returns the status afterwards.
    pub async fn sync_now(&self) -> Result<SyncStatus, AppError> {
        let active = self.require_active().await?;
        active.sync_once().await;
        Ok(active.status().await)
    }

    pub async fn sync_status(&self) -> SyncStatus {
        match self.active.lock().await.clone() {
            Some(active) => active.status().await,
            None => SyncStatus::default(),
        }
    }

    async fn restore(&self, record: ProfileRecord) -> Result<Arc<Active>, AppError> {
        let client = Client::new(&record.server_url).map_err(|e| e.to_app_error())?;
        let keychain = record.keychain_entry(&self.config.keychain_service);
        let Some(refresh) = keychain.load().await? else {
            return Err(AppError::new(
                ErrorCode::SessionExpired,
                "Your saved session is no longer in the system keychain. Sign in again.",
            ));
        };
        let store = self.open_store(&record).await?;
        let user: UserInfo = match store.get_meta("user").await.map_err(store_error)? {
            Some(json) => serde_json::from_str(&json)
                .map_err(|e| AppError::storage(format!("the saved user is unreadable: {e}")))?,
            None => return Err(AppError::not_signed_in()),
        };
        let session = Session::new(client, keychain, None, refresh);
        tracing::info!(server = %record.server_url, user = %user.username, "session restored");
        Ok(Active::start(
            record,
            store,
            session,
            user,
            self.events.clone(),
            self.config.poll_interval,
        ))
    }

    async fn open_store(&self, record: &ProfileRecord) -> Result<Store, AppError> {
        let path = profile::cache_path(&self.config.data_dir, record);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| {
                AppError::storage(format!("cannot create {}: {e}", parent.display()))
            })?;
        }
        Store::open(&path).await.map_err(store_error)
    }

    async fn stop_active(&self) {
        if let Some(active) = self.active.lock().await.take() {
            active.stop().await;
            active.store.close().await;
        }
    }

    async fn require_active(&self) -> Result<Arc<Active>, AppError> {
        self.active
            .lock()
            .await
            .clone()
            .ok_or_else(AppError::not_signed_in)
    }
}

/// The one mapping from cache errors to the UI's error codes.
fn store_error(error: StoreError) -> AppError {
    let code = match &error {
        StoreError::ItemNotFound(_) => ErrorCode::NotFound,
        StoreError::ItemNotOpen { .. } | StoreError::DecisionPending(_) => ErrorCode::Conflict,
        _ => ErrorCode::Storage,
    };
    match code {
        ErrorCode::Storage => AppError::storage(error),
        _ => AppError::new(code, capitalize(&error.to_string())),
    }
}

fn capitalize(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect::<String>() + ".",
        None => String::new(),
    }
}
