//! The signed-in session of the active profile: its cache, its session with the server,
//! who the user is, the sync status the UI sees, and the two tasks that keep the cache
//! in step (the worker in `sync.rs`, the live-update listener in `listen.rs`).

use std::sync::Arc;

use steward_core::{AppError, BootstrapProgress, SessionInfo, SyncStatus, UserInfo};
use steward_store::Store;
use tokio::sync::{Mutex, Notify, broadcast};
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::EngineEvent;
use crate::profile::ProfileRecord;
use crate::session::Session;
use crate::sync::WorkerConfig;

pub struct Active {
    pub profile: ProfileRecord,
    /// The profile's production flag, which the user may change while signed in.
    pub(crate) production: std::sync::atomic::AtomicBool,
    pub store: Store,
    pub session: Session,
    /// Who is signed in and what they may do: re-read from `/me` when the session starts
    /// and after any 403, so a role given or taken shows without signing out.
    pub(crate) user: std::sync::RwLock<UserInfo>,
    /// Set when `/me` must be read again before the next pull.
    pub(crate) me_stale: std::sync::atomic::AtomicBool,
    /// When `/me` was last read; it is read again after `ME_READ_EVERY`, so a role
    /// granted on the server shows without a 403 to prompt it.
    pub(crate) me_read_at: Mutex<Option<Instant>>,
    pub(crate) config: WorkerConfig,
    pub(crate) events: broadcast::Sender<EngineEvent>,
    pub(crate) status: Mutex<SyncStatus>,
    /// Set when the refresh token was refused; the worker stops until a new sign-in.
    pub(crate) expired: Mutex<Option<AppError>>,
    /// One sync at a time, whether the worker or `sync_now` started it.
    pub(crate) sync_lock: Mutex<()>,
    /// When the last pull began (`PULL_MIN_GAP`).
    pub(crate) last_pull: Mutex<Option<Instant>>,
    pub(crate) wake: Notify,
    /// The push/pull worker and the live-update listener.
    pub(crate) worker: Mutex<Option<(JoinHandle<()>, JoinHandle<()>)>>,
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

    pub(crate) fn may(&self, permission: &str) -> bool {
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

    /// Reports bootstrap progress of a collection, when it is being downloaded the first time.
    pub(crate) async fn progress(&self, collection: &str, done: i64, total: Option<i64>) {
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

    pub(crate) fn changed(&self) {
        let _ = self.events.send(EngineEvent::CollectionChanged("items"));
        let _ = self.events.send(EngineEvent::CollectionChanged("queues"));
    }

    pub(crate) async fn refresh_counts(&self) {
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

    pub(crate) async fn update_status(&self, change: impl FnOnce(&mut SyncStatus)) {
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
