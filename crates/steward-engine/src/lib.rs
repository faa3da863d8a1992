//! The engine of Steward: the facade the desktop shell (and later a CLI) calls.
//!
//! It owns the profiles (environments), the signed-in session of the active one, its
//! local cache, and one background worker that pushes the outbox and pulls delta feeds.
//! Every read the UI makes is served from the cache; every action is written to the
//! outbox first and pushed later, so nothing the user does waits on, or is lost to, the
//! network.
//!
//! `Engine` is one type with an `impl` block per domain: `sign_in.rs` (profiles and the
//! session), `triage.rs`, `conflicts.rs` (conflicts and refusals), `accounts.rs`,
//! `audit.rs`, `jobs.rs`, `sign_out.rs` and `sync.rs` (sync now, the status, the tray).
//! The signed-in session's state is `active::Active`; its worker is `sync.rs`, its
//! delta feeds `feeds.rs` and its live-update listener `listen.rs`.

mod accounts;
mod active;
mod audit;
mod caches;
mod conflicts;
mod feeds;
mod images;
mod jobs;
mod keychain;
mod listen;
pub mod logging;
pub mod outbox;
mod profile;
mod pushing;
mod records;
#[cfg(test)]
mod records_fuzz;
mod sanitize;
pub mod session;
mod sign_in;
mod sign_out;
mod sync;
mod triage;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

pub use steward_core::Decided;
use steward_core::{AppError, SessionInfo, SyncStatus};
use tokio::sync::{Mutex, broadcast};

use crate::active::Active;
pub use crate::keychain::KeychainEntry;
pub use crate::profile::ProfileRecord;
pub use crate::sanitize::{SanitizedHtml, sanitize_html};
pub use crate::sync::SyncOutcome;
pub use crate::triage::MAX_NOTE_CHARS;

/// What the engine tells the shell about, as it happens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EngineEvent {
    SyncStatusChanged(SyncStatus),
    /// A cached collection changed: "queues", "items", "reason_templates", "accounts",
    /// "audit" or "jobs".
    CollectionChanged(&'static str),
    /// New open items arrived in a queue at or above the high-priority threshold.
    NewHighPriorityItems {
        queue_id: i64,
        queue_name: String,
        count: i64,
    },
    /// The server refused an action for good (403, 422, a lost claim); it was rolled back.
    /// `kind` is the outbox operation (e.g. "account_action") and `target_id` its subject.
    ActionRefused {
        error: AppError,
        kind: String,
        target_id: i64,
    },
    /// The session ended by itself; the UI should ask the user to sign in again.
    SessionExpired,
    /// The signed-in user's roles changed on the server (re-read from `/me`): the UI
    /// shows and hides screens by the new permissions.
    SessionChanged(SessionInfo),
    /// Jobs of `kind` failed since the last pull.
    JobsFailed {
        kind: String,
        count: i64,
    },
    /// An audit export wrote `done` of `total` rows.
    ExportProgress {
        done: i64,
        total: Option<i64>,
    },
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
    /// How long a decision waits before it is pushed, so it can be undone.
    pub undo_window: Duration,
    /// How long a claim made by opening an item lasts locally until the server answers.
    pub claim_lease: Duration,
    /// Queues at or above this priority raise "new item" events.
    pub high_priority: i64,
    /// Where the shell's log lines go; the engine points it at the active profile.
    pub log_sink: Option<logging::LogSink>,
    /// "Show images" may fetch from private, loopback and link-local addresses too (a
    /// product whose images live on its intranet). Off: content cannot reach into the
    /// moderator's network.
    pub allow_private_images: bool,
}

impl EngineConfig {
    pub fn new(data_dir: PathBuf) -> Self {
        Self {
            data_dir,
            default_server_url: None,
            keychain_service: "dev.steward.desktop".to_string(),
            poll_interval: Duration::from_secs(15),
            undo_window: Duration::from_secs(5),
            claim_lease: Duration::from_secs(300),
            high_priority: 10,
            log_sink: None,
            allow_private_images: false,
        }
    }
}

pub struct Engine {
    pub(crate) config: EngineConfig,
    pub(crate) events: broadcast::Sender<EngineEvent>,
    /// Profiles and the active one; held while switching so two switches never interleave.
    pub(crate) profiles: Mutex<profile::Profiles>,
    pub(crate) active: Mutex<Option<Arc<Active>>>,
    /// Why the last session ended without the user signing out.
    pub(crate) sign_in_reason: Mutex<Option<AppError>>,
}

impl Engine {
    /// Opens the engine and, when the active profile has a saved session, restores it.
    pub async fn open(config: EngineConfig) -> Result<Arc<Self>, AppError> {
        std::fs::create_dir_all(&config.data_dir).map_err(|e| {
            AppError::storage(format!("cannot create {}: {e}", config.data_dir.display()))
        })?;
        let profiles = profile::load(&config.data_dir)?;
        caches::adopt_legacy_caches(&config.data_dir, &profiles).await;
        let (events, _) = broadcast::channel(1024);
        let engine = Arc::new(Self {
            config,
            events,
            profiles: Mutex::new(profiles.clone()),
            active: Mutex::new(None),
            sign_in_reason: Mutex::new(None),
        });
        if let Some(record) = profiles.active().cloned() {
            engine.activate(record).await;
        }
        Ok(engine)
    }

    pub fn subscribe(&self) -> broadcast::Receiver<EngineEvent> {
        self.events.subscribe()
    }

    pub fn data_dir(&self) -> &std::path::Path {
        &self.config.data_dir
    }

    pub(crate) async fn require_active(&self) -> Result<Arc<Active>, AppError> {
        self.active
            .lock()
            .await
            .clone()
            .ok_or_else(AppError::not_signed_in)
    }
}

/// One user action that is due at once (no undo window: claims, account and job
/// actions): a new group, the time, and an idempotency key for its outbox row.
pub(crate) struct DueAction {
    group: String,
    now: String,
    pub key: String,
}

impl DueAction {
    pub(crate) fn new() -> Self {
        Self {
            group: uuid::Uuid::new_v4().to_string(),
            now: records::now(),
            key: uuid::Uuid::new_v4().to_string(),
        }
    }

    pub(crate) fn action(&self) -> steward_store::NewAction<'_> {
        steward_store::NewAction {
            group_id: &self.group,
            now: &self.now,
            not_before: &self.now,
        }
    }
}
