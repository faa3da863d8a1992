//! The engine of Steward: the facade the desktop shell (and later a CLI) calls.
//!
//! It owns the profiles (environments), the signed-in session of the active one, its
//! local cache, and one background worker that pushes the outbox and pulls delta feeds.
//! Every read the UI makes is served from the cache; every action is written to the
//! outbox first and pushed later, so nothing the user does waits on, or is lost to, the
//! network.

mod caches;
mod images;
mod keychain;
pub mod logging;
pub mod outbox;
mod profile;
mod records;
mod sanitize;
pub mod session;
mod sign_out;
mod sync;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use steward_client::Client;
pub use steward_core::Decided;
use steward_core::{
    AccountAction, AccountDetail, AccountNote, AccountSummary, AppError, AppState, AuditPage,
    AuditQuery, AuthorInfo, BulkOutcome, ClaimInfo, ConflictInfo, ConflictResolution,
    DecisionAction, ErrorCode, ItemDetail, ItemPage, ItemSort, ItemState, ItemSummary, JobAction,
    JobBulkOutcome, JobDetail, JobPage, JobQuery, JobStats, ProfileInfo, QueueSummary,
    ReasonTemplate, ReportInfo, SessionInfo, SyncStatus, UndoOutcome, UserInfo,
};
use steward_store::{NewAction, OutboxKind, Store, StoreError};
use tokio::sync::{Mutex, broadcast};

pub use crate::keychain::KeychainEntry;
pub use crate::profile::ProfileRecord;
pub use crate::sanitize::{SanitizedHtml, sanitize_html};
use crate::session::Session;
pub use crate::sync::SyncOutcome;
use crate::sync::{Active, WorkerConfig};

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
        }
    }
}

pub struct Engine {
    config: EngineConfig,
    events: broadcast::Sender<EngineEvent>,
    /// Profiles and the active one; held while switching so two switches never interleave.
    profiles: Mutex<profile::Profiles>,
    active: Mutex<Option<Arc<Active>>>,
    /// Why the last session ended without the user signing out.
    sign_in_reason: Mutex<Option<AppError>>,
}

/// The profile created on first sign-in when the user has not made one.
const DEFAULT_PROFILE: &str = "default";

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
        let default_server_url = match self.profiles.lock().await.active() {
            Some(profile) => Some(profile.server_url.clone()),
            None => self.config.default_server_url.clone(),
        };
        AppState {
            session,
            default_server_url,
            needs_sign_in_reason: reason,
        }
    }

    pub async fn list_profiles(&self) -> Vec<ProfileInfo> {
        self.profiles.lock().await.infos()
    }

    /// Adds a profile or changes one. The server of a signed-in profile cannot change:
    /// its cache and keychain entry belong to that server.
    pub async fn save_profile(
        &self,
        name: &str,
        server_url: &str,
        production: bool,
    ) -> Result<ProfileInfo, AppError> {
        let name = profile::validate_name(name)?;
        let server_url = Client::new(server_url)
            .map_err(|e| e.to_app_error())?
            .base_url();
        let mut profiles = self.profiles.lock().await;
        let mut record = match profiles.get(name) {
            Some(existing) => existing.clone(),
            None => ProfileRecord {
                name: name.to_string(),
                server_url: server_url.clone(),
                production,
                username: None,
            },
        };
        if record.server_url != server_url && record.username.is_some() {
            return Err(AppError::new(
                ErrorCode::InvalidInput,
                format!("Sign out of \"{name}\" before pointing it at another server."),
            ));
        }
        record.server_url = server_url;
        record.production = production;
        profiles.upsert(record.clone());
        profile::save(&self.config.data_dir, &profiles)?;
        let active = profiles.active.as_deref() == Some(name);
        drop(profiles);
        if active && let Some(current) = self.active.lock().await.as_ref() {
            // The badge must follow at once; the running session keeps its server.
            current.set_production(production).await;
        }
        Ok(record.info(active))
    }

    /// Makes another profile active, without a restart. Its session comes back from the
    /// keychain when it has one; its cache is its own.
    pub async fn switch_profile(&self, name: &str) -> Result<AppState, AppError> {
        let record = {
            let mut profiles = self.profiles.lock().await;
            let record = profiles.get(name).cloned().ok_or_else(|| {
                AppError::new(
                    ErrorCode::NotFound,
                    format!("There is no profile \"{name}\"."),
                )
            })?;
            profiles.active = Some(record.name.clone());
            profile::save(&self.config.data_dir, &profiles)?;
            record
        };
        self.stop_active().await;
        *self.sign_in_reason.lock().await = None;
        self.activate(record).await;
        Ok(self.app_state().await)
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
        let previous = self.profiles.lock().await.active().cloned();
        let mut record = previous.clone().unwrap_or_else(|| ProfileRecord {
            name: DEFAULT_PROFILE.to_string(),
            server_url: client.base_url(),
            production: false,
            username: None,
        });
        if record.server_url != client.base_url() {
            self.check_server_change(&record, &client.base_url())
                .await?;
            // What the flag said was about the old server. A server that is not this
            // machine is treated as production (confirmations on) until the user says
            // otherwise in the profile; the badge shows it either way.
            record.production = !profile::is_loopback(&client.base_url());
        }
        let pair = client
            .login(username, password)
            .await
            .map_err(|e| e.to_app_error())?;
        record.server_url = client.base_url();
        record.username = Some(pair.user.username.clone());
        let keychain = record.keychain_entry(&self.config.keychain_service, &pair.user.username);
        if let Err(error) = keychain.store(&pair.refresh_token).await {
            // Without the keychain the session could not survive; do not leave it alive
            // on the server either.
            if let Err(logout) = client.logout(&pair.refresh_token).await {
                tracing::warn!(%logout, "could not revoke the session the keychain refused");
            }
            return Err(error);
        }
        self.stop_active().await;
        let store = self.open_store(&record, &pair.user.username).await?;
        let user = records::user_info(&pair.user);
        store
            .set_meta("user", &records::user_json(&user))
            .await
            .map_err(store_error)?;
        {
            let mut profiles = self.profiles.lock().await;
            profiles.upsert(record.clone());
            profiles.active = Some(record.name.clone());
            profile::save(&self.config.data_dir, &profiles)?;
        }
        let session = Session::new(
            client,
            keychain,
            Some(pair.access_token),
            pair.refresh_token,
        );
        let active = self.start(record, store, session, user);
        let info = active.session_info();
        *self.active.lock().await = Some(active);
        *self.sign_in_reason.lock().await = None;
        tracing::info!(server = %info.server_url, user = %info.user.username, "signed in");
        Ok(info)
    }

    pub async fn list_queues(&self) -> Result<Vec<QueueSummary>, AppError> {
        self.require_active()
            .await?
            .store
            .list_queues()
            .await
            .map_err(store_error)
    }

    /// Open items of a queue without a pending decision, oldest first (up to 1000).
    pub async fn list_queue_items(&self, queue_id: i64) -> Result<Vec<ItemSummary>, AppError> {
        self.require_active()
            .await?
            .store
            .list_open_items(queue_id)
            .await
            .map_err(store_error)
    }

    /// A window of a queue's items in one state, for a virtualized list.
    pub async fn list_items(
        &self,
        queue_id: i64,
        state: ItemState,
        sort: ItemSort,
        offset: i64,
        limit: i64,
    ) -> Result<ItemPage, AppError> {
        self.require_active()
            .await?
            .store
            .list_items_page(queue_id, state, sort, offset, limit)
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
        let (history, strikes) = active
            .store
            .author_history(record.author_id, 20)
            .await
            .map_err(store_error)?;
        let reports: Vec<ReportInfo> = serde_json::from_str(&record.reports_json)
            .map_err(|e| AppError::storage(format!("reports of item {item_id}: {e}")))?;
        let sanitized = sanitize_html(&record.body_html);
        let claimed_by_me =
            record.claim_username.as_deref() == Some(active.user().username.as_str());
        Ok(ItemDetail {
            summary,
            safe_html: sanitized.html,
            blocked_images: sanitized.blocked_images,
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
            claimed_by_me,
            author_history: history
                .into_iter()
                .filter(|entry| entry.item_id != item_id)
                .collect(),
            author_strikes: strikes,
        })
    }

    /// The item's content with its images, fetched by the engine (never by the webview)
    /// and inlined; for the moderator who clicked "show images".
    pub async fn load_item_images(&self, item_id: i64) -> Result<String, AppError> {
        let active = self.require_active().await?;
        let record = active.store.item(item_id).await.map_err(store_error)?;
        Ok(
            images::inline_images(&active.session.client, &record.body_html)
                .await
                .html,
        )
    }

    /// Records a decision locally (outbox row and optimistic change in one transaction)
    /// and wakes the worker, which pushes it once the undo window has passed.
    pub async fn decide_item(
        &self,
        item_id: i64,
        action: DecisionAction,
        reason_code: Option<String>,
        note: Option<String>,
    ) -> Result<Decided, AppError> {
        let mut outcome = self
            .decide_items(&[item_id], action, reason_code, note)
            .await?;
        match (outcome.queued.pop(), outcome.skipped.pop()) {
            (Some(item), _) => Ok(Decided {
                item,
                undo_until: outcome.undo_until,
            }),
            (None, Some(skipped)) => Err(AppError::new(
                ErrorCode::Conflict,
                capitalize(&skipped.reason),
            )),
            (None, None) => Err(AppError::internal(
                "a decision was neither queued nor skipped",
            )),
        }
    }

    /// Records the same decision on many items as one undoable action.
    pub async fn decide_items(
        &self,
        item_ids: &[i64],
        action: DecisionAction,
        reason_code: Option<String>,
        note: Option<String>,
    ) -> Result<BulkOutcome, AppError> {
        if item_ids.is_empty() {
            return Err(AppError::new(
                ErrorCode::InvalidInput,
                "Select at least one item.",
            ));
        }
        check_reason_and_note(reason_code.as_deref(), note.as_deref())?;
        let active = self.require_active().await?;
        let group = uuid::Uuid::new_v4().to_string();
        let now = records::now();
        let not_before = records::later(self.config.undo_window);
        let outcome = active
            .store
            .enqueue_decisions(
                item_ids,
                action,
                reason_code.as_deref().unwrap_or(""),
                note.as_deref().unwrap_or(""),
                &NewAction {
                    group_id: &group,
                    now: &now,
                    not_before: &not_before,
                },
                || uuid::Uuid::new_v4().to_string(),
            )
            .await
            .map_err(store_error)?;
        tracing::info!(
            queued = outcome.queued.len(),
            skipped = outcome.skipped.len(),
            action = action.as_str(),
            "decisions queued"
        );
        active.after_local_change().await;
        Ok(outcome)
    }

    /// Withdraws the most recent (bulk) decision if it has not been sent yet.
    pub async fn undo_last(&self) -> Result<UndoOutcome, AppError> {
        let active = self.require_active().await?;
        let item_ids = active.store.undo_last().await.map_err(store_error)?;
        tracing::info!(items = item_ids.len(), "decision undone");
        active.after_local_change().await;
        Ok(UndoOutcome { item_ids })
    }

    /// Claims an item for the signed-in user (opening an item does this).
    pub async fn claim_item(&self, item_id: i64) -> Result<(), AppError> {
        self.enqueue_claim(item_id, OutboxKind::ClaimItem).await
    }

    /// Releases the signed-in user's claim (leaving an item does this).
    pub async fn release_item(&self, item_id: i64) -> Result<(), AppError> {
        self.enqueue_claim(item_id, OutboxKind::ReleaseItem).await
    }

    pub async fn list_reason_templates(
        &self,
        scope: &str,
    ) -> Result<Vec<ReasonTemplate>, AppError> {
        self.require_active()
            .await?
            .store
            .list_reason_templates(scope)
            .await
            .map_err(store_error)
    }

    pub async fn list_conflicts(&self) -> Result<Vec<ConflictInfo>, AppError> {
        self.require_active()
            .await?
            .store
            .list_conflicts()
            .await
            .map_err(store_error)
    }

    /// Drops a conflict, or decides again on the server's current version.
    pub async fn resolve_conflict(
        &self,
        outbox_id: i64,
        resolution: ConflictResolution,
    ) -> Result<(), AppError> {
        let active = self.require_active().await?;
        let item_id = active
            .store
            .conflict_item(outbox_id)
            .await
            .map_err(store_error)?;
        // Deciding again needs an item that is still open: check before the conflict is
        // dropped, so a refusal leaves it in place for the user.
        if let ConflictResolution::DecideAgain { .. } = &resolution {
            let current = active
                .store
                .item_summary(item_id)
                .await
                .map_err(store_error)?;
            if current.state != ItemState::Open || current.pending_action.is_some() {
                return Err(AppError::new(
                    ErrorCode::Conflict,
                    format!(
                        "Item {item_id} is {} on the server now; only open items can be decided again. Drop your decision to keep the server's.",
                        current.state.as_str()
                    ),
                ));
            }
        }
        active
            .store
            .drop_conflict(outbox_id)
            .await
            .map_err(store_error)?;
        match resolution {
            ConflictResolution::Drop => {
                active.after_local_change().await;
                Ok(())
            }
            ConflictResolution::DecideAgain {
                action,
                reason_code,
                note,
            } => self
                .decide_item(item_id, action, reason_code, note)
                .await
                .map(|_| ()),
        }
    }

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
                active
                    .store
                    .upsert_accounts(&records)
                    .await
                    .map_err(store_error)?;
            }
        }
        active
            .store
            .search_accounts(query, status.as_deref(), 200)
            .await
            .map_err(store_error)
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
                .await
                .map_err(store_error)?;
            let notes: Vec<_> = notes.iter().map(records::note_record).collect();
            active
                .store
                .replace_account_notes(account_id, &notes)
                .await
                .map_err(store_error)?;
        }
        let account = active
            .store
            .account(account_id)
            .await
            .map_err(store_error)?;
        let notes = active
            .store
            .account_notes(account_id)
            .await
            .map_err(store_error)?;
        let (history, _) = active
            .store
            .author_history(account_id, 50)
            .await
            .map_err(store_error)?;
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
            .await
            .map_err(store_error)?;
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
        let (group, now, key) = self.new_action_ids();
        active
            .store
            .enqueue_account_action(
                account_id,
                action,
                &args,
                &NewAction {
                    group_id: &group,
                    now: &now,
                    not_before: &now,
                },
                &key,
            )
            .await
            .map_err(store_error)?;
        tracing::info!(
            account_id,
            action = action.as_str(),
            "account action queued"
        );
        active.after_local_change().await;
        active.store.account(account_id).await.map_err(store_error)
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
        let (group, now, key) = self.new_action_ids();
        active
            .store
            .enqueue_account_note(
                account_id,
                body,
                &active.user().username,
                &NewAction {
                    group_id: &group,
                    now: &now,
                    not_before: &now,
                },
                &key,
            )
            .await
            .map_err(store_error)?;
        active.after_local_change().await;
        active
            .store
            .account_notes(account_id)
            .await
            .map_err(store_error)
    }

    /// A window of the cached audit log matching `query`, newest first. Works offline.
    pub async fn search_audit(
        &self,
        query: AuditQuery,
        offset: i64,
        limit: i64,
    ) -> Result<AuditPage, AppError> {
        self.require_active()
            .await?
            .store
            .search_audit(&query, offset, limit)
            .await
            .map_err(store_error)
    }

    /// Writes every cached event matching `query` to a CSV file in `dir` (the downloads
    /// folder when None) and returns its path; progress arrives as events.
    pub async fn export_audit_csv(
        &self,
        query: AuditQuery,
        dir: Option<PathBuf>,
    ) -> Result<String, AppError> {
        let active = self.require_active().await?;
        let dir = dir
            .or_else(dirs::download_dir)
            .unwrap_or_else(|| self.config.data_dir.join("exports"));
        std::fs::create_dir_all(&dir)
            .map_err(|e| AppError::storage(format!("cannot create {}: {e}", dir.display())))?;
        let name = format!(
            "steward-audit-{}.csv",
            records::now().replace([':', '.'], "-")
        );
        let path = dir.join(name);
        let first = active
            .store
            .search_audit(&query, 0, 0)
            .await
            .map_err(store_error)?;
        let total = if first.total_capped {
            None
        } else {
            Some(first.total)
        };
        let mut writer = csv::Writer::from_path(&path)
            .map_err(|e| AppError::storage(format!("cannot write {}: {e}", path.display())))?;
        let write_error =
            |e: csv::Error| AppError::storage(format!("cannot write {}: {e}", path.display()));
        writer
            .write_record([
                "id",
                "created_at",
                "actor",
                "action",
                "target_type",
                "target_id",
                "data",
            ])
            .map_err(write_error)?;
        let mut done: i64 = 0;
        loop {
            let page = active
                .store
                .search_audit(&query, done, 1000)
                .await
                .map_err(store_error)?;
            if page.events.is_empty() {
                break;
            }
            for event in &page.events {
                let id = event.id.to_string();
                // Untrusted text goes to a spreadsheet: neutralize formulas.
                let cells = [
                    id.as_str(),
                    &event.created_at,
                    &csv_safe(&event.actor_username),
                    &csv_safe(&event.action),
                    &csv_safe(&event.target_type),
                    &csv_safe(&event.target_id),
                    &csv_safe(&event.data_json.replace('\n', " ")),
                ];
                writer.write_record(cells).map_err(write_error)?;
            }
            done += page.events.len() as i64;
            let _ = self
                .events
                .send(EngineEvent::ExportProgress { done, total });
        }
        writer
            .flush()
            .map_err(|e| AppError::storage(format!("cannot write {}: {e}", path.display())))?;
        tracing::info!(rows = done, "audit exported");
        Ok(path.display().to_string())
    }

    pub async fn list_jobs(
        &self,
        query: JobQuery,
        offset: i64,
        limit: i64,
    ) -> Result<JobPage, AppError> {
        self.require_active()
            .await?
            .store
            .list_jobs(&query, offset, limit)
            .await
            .map_err(store_error)
    }

    pub async fn get_job(&self, job_id: i64) -> Result<JobDetail, AppError> {
        self.require_active()
            .await?
            .store
            .job(job_id)
            .await
            .map_err(store_error)
    }

    /// Counts by status and kind, and failures per hour over the last three days.
    pub async fn job_stats(&self) -> Result<JobStats, AppError> {
        let since = records::earlier(Duration::from_secs(3 * 24 * 3600));
        self.require_active()
            .await?
            .store
            .job_stats(&since)
            .await
            .map_err(store_error)
    }

    /// How many cached jobs matching `query` a retry would touch (failed or cancelled).
    pub async fn count_matching_jobs(&self, query: JobQuery) -> Result<i64, AppError> {
        let active = self.require_active().await?;
        Ok(active
            .store
            .retryable_job_ids(&query)
            .await
            .map_err(store_error)?
            .len() as i64)
    }

    /// Queues a retry or cancel of each job in `job_ids`, as one action.
    pub async fn act_on_jobs(
        &self,
        job_ids: &[i64],
        action: JobAction,
    ) -> Result<JobBulkOutcome, AppError> {
        if job_ids.is_empty() {
            return Err(AppError::new(
                ErrorCode::InvalidInput,
                "Select at least one job.",
            ));
        }
        let active = self.require_active().await?;
        let (group, now, _) = self.new_action_ids();
        let (queued, skipped) = active
            .store
            .enqueue_job_actions(
                job_ids,
                action,
                &NewAction {
                    group_id: &group,
                    now: &now,
                    not_before: &now,
                },
                || uuid::Uuid::new_v4().to_string(),
            )
            .await
            .map_err(store_error)?;
        tracing::info!(
            queued = queued.len(),
            action = action.as_str(),
            "job actions queued"
        );
        active.after_local_change().await;
        Ok(JobBulkOutcome { queued, skipped })
    }

    /// Retries every cached job matching `query` that can be retried (failed or cancelled).
    pub async fn retry_matching_jobs(&self, query: JobQuery) -> Result<JobBulkOutcome, AppError> {
        let active = self.require_active().await?;
        let ids = active
            .store
            .retryable_job_ids(&query)
            .await
            .map_err(store_error)?;
        self.act_on_jobs(&ids, JobAction::Retry).await
    }

    /// What the tray menu shows: actions waiting to sync, conflicts, and open items per queue.
    pub async fn tray_summary(&self) -> Vec<String> {
        let Some(active) = self.active.lock().await.clone() else {
            return vec!["Not signed in".to_string()];
        };
        let status = active.status().await;
        let mut lines = vec![match status.pending {
            0 => "No actions waiting to sync".to_string(),
            1 => "1 action waiting to sync".to_string(),
            n => format!("{n} actions waiting to sync"),
        }];
        if status.conflicts > 0 {
            lines.push(format!("{} conflicts to review", status.conflicts));
        }
        if let Ok(queues) = active.store.list_queues().await {
            lines.extend(
                queues
                    .iter()
                    .map(|q| format!("{}: {} open", q.name, q.open_count)),
            );
        }
        lines
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

    /// A new group id, the time, and an idempotency key, for one user action.
    fn new_action_ids(&self) -> (String, String, String) {
        (
            uuid::Uuid::new_v4().to_string(),
            records::now(),
            uuid::Uuid::new_v4().to_string(),
        )
    }

    async fn enqueue_claim(&self, item_id: i64, kind: OutboxKind) -> Result<(), AppError> {
        let active = self.require_active().await?;
        let until = records::later(self.config.claim_lease);
        queue_claim(
            &active.store,
            item_id,
            kind,
            &active.user().username,
            &until,
        )
        .await?;
        active.after_local_change().await;
        Ok(())
    }

    /// Pointing a profile at another server leaves its old cache behind (caches are per
    /// server); that is refused while the old cache holds work the user has not sent.
    async fn check_server_change(
        &self,
        record: &ProfileRecord,
        new_server: &str,
    ) -> Result<(), AppError> {
        let Some(previous_user) = record.username.as_deref() else {
            return Ok(());
        };
        let work = self.unsent_in_cache(record, previous_user).await?;
        if work.total() == 0 {
            return Ok(());
        }
        Err(AppError::new(
            ErrorCode::UnsentWork,
            format!(
                "{} of {previous_user} on {} {} not been sent yet, and they belong to that server. Sign in to {} to send them (or to sign out and discard them), or add another profile for {new_server}.",
                sign_out::capitalized(&work.describe()),
                record.server_url,
                if work.total() == 1 { "has" } else { "have" },
                record.server_url,
            ),
        ))
    }

    /// Starts the active profile's session from the keychain, or records why it cannot.
    async fn activate(&self, record: ProfileRecord) {
        let Some(username) = record.username.clone() else {
            return;
        };
        match self.restore(record, &username).await {
            Ok(active) => *self.active.lock().await = Some(active),
            Err(reason) => {
                tracing::warn!(code = ?reason.code, "saved session not restored");
                *self.sign_in_reason.lock().await = Some(reason);
            }
        }
    }

    async fn restore(
        &self,
        record: ProfileRecord,
        username: &str,
    ) -> Result<Arc<Active>, AppError> {
        let client = Client::new(&record.server_url).map_err(|e| e.to_app_error())?;
        let keychain = record.keychain_entry(&self.config.keychain_service, username);
        let Some(refresh) = keychain.load().await? else {
            return Err(AppError::new(
                ErrorCode::SessionExpired,
                "Your saved session is no longer in the system keychain. Sign in again.",
            ));
        };
        let store = self.open_store(&record, username).await?;
        let user: UserInfo = match store.get_meta("user").await.map_err(store_error)? {
            Some(json) => serde_json::from_str(&json)
                .map_err(|e| AppError::storage(format!("the saved user is unreadable: {e}")))?,
            None => return Err(AppError::not_signed_in()),
        };
        let session = Session::new(client, keychain, None, refresh);
        tracing::info!(server = %record.server_url, user = %user.username, "session restored");
        Ok(self.start(record, store, session, user))
    }

    fn start(
        &self,
        record: ProfileRecord,
        store: Store,
        session: Session,
        user: UserInfo,
    ) -> Arc<Active> {
        if let Some(sink) = &self.config.log_sink {
            sink.set_dir(&profile::profile_dir(&self.config.data_dir, &record.name).join("logs"));
        }
        Active::start(
            record,
            store,
            session,
            user,
            self.events.clone(),
            WorkerConfig {
                poll_interval: self.config.poll_interval,
                high_priority: self.config.high_priority,
            },
        )
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

/// Queues a claim (until `claim_until`) or its release; claims are not undoable, so the
/// row is due at once.
async fn queue_claim(
    store: &Store,
    item_id: i64,
    kind: OutboxKind,
    me: &str,
    claim_until: &str,
) -> Result<(), AppError> {
    let now = records::now();
    let group = uuid::Uuid::new_v4().to_string();
    store
        .enqueue_claim(
            item_id,
            kind,
            me,
            claim_until,
            &NewAction {
                group_id: &group,
                now: &now,
                not_before: &now,
            },
            &uuid::Uuid::new_v4().to_string(),
        )
        .await
        .map_err(store_error)
}

/// The longest note and reason code the server takes (its request serializers): checked
/// before an action is queued, so a long note is refused while the user still has it in
/// front of them, not later by the server after it left their screen.
pub const MAX_NOTE_CHARS: usize = 4000;
const MAX_REASON_CODE_CHARS: usize = 64;

fn check_reason_and_note(reason_code: Option<&str>, note: Option<&str>) -> Result<(), AppError> {
    let note_chars = note.map_or(0, |n| n.chars().count());
    if note_chars > MAX_NOTE_CHARS {
        return Err(AppError::new(
            ErrorCode::InvalidInput,
            format!(
                "The note is {note_chars} characters long; the server takes at most {MAX_NOTE_CHARS}. Shorten it and try again."
            ),
        ));
    }
    if reason_code.is_some_and(|code| code.chars().count() > MAX_REASON_CODE_CHARS) {
        return Err(AppError::new(
            ErrorCode::InvalidInput,
            format!("A reason code has at most {MAX_REASON_CODE_CHARS} characters."),
        ));
    }
    Ok(())
}

/// The one mapping from cache errors to the UI's error codes.
fn store_error(error: StoreError) -> AppError {
    let code = match &error {
        StoreError::ItemNotFound(_)
        | StoreError::ConflictNotFound(_)
        | StoreError::RefusedNotFound(_)
        | StoreError::AccountNotFound(_)
        | StoreError::JobNotFound(_) => ErrorCode::NotFound,
        StoreError::ItemNotOpen { .. }
        | StoreError::DecisionPending(_)
        | StoreError::AccountActionPending(_) => ErrorCode::Conflict,
        StoreError::NothingToUndo | StoreError::AlreadySent => ErrorCode::InvalidInput,
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
        Some(first) => {
            let mut sentence = first.to_uppercase().chain(chars).collect::<String>();
            if !sentence.ends_with('.') {
                sentence.push('.');
            }
            sentence
        }
        None => String::new(),
    }
}

/// Keeps a spreadsheet from reading untrusted text as a formula.
fn csv_safe(text: &str) -> String {
    match text.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{text}"),
        _ => text.to_string(),
    }
}
