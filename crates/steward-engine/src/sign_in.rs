//! Profiles and the session: the app state the UI starts from, environments (add,
//! change, switch without a restart) and signing in; `sign_out.rs` is the way out.

use std::sync::Arc;

use steward_client::Client;
use steward_core::{AppError, AppState, ErrorCode, ProfileInfo, SessionInfo, UserInfo};
use steward_store::Store;

use crate::active::Active;
use crate::profile::{self, ProfileRecord};
use crate::session::Session;
use crate::sync::WorkerConfig;
use crate::{Engine, records, sign_out};

/// The profile created on first sign-in when the user has not made one.
const DEFAULT_PROFILE: &str = "default";

impl Engine {
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
        store.set_meta("user", &records::user_json(&user)).await?;
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
    pub(crate) async fn activate(&self, record: ProfileRecord) {
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
        let user: UserInfo = match store.get_meta("user").await? {
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

    /// Stops the active profile's worker and listener and closes its cache, keeping the
    /// session (in the keychain) and everything queued, as an exit does: so another
    /// process can open the same data directory (the fault matrix hands it to a child it
    /// kills). The engine is signed out of nothing and is not used again.
    pub async fn close(&self) {
        self.stop_active().await;
    }

    async fn stop_active(&self) {
        if let Some(active) = self.active.lock().await.take() {
            active.stop().await;
            active.store.close().await;
        }
    }
}
