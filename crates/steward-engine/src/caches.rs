//! Where caches live and whose they are: one SQLite file per (profile, server, account),
//! bound to its server, moved over from the layout before the server was in the path.

use std::path::Path;

use steward_core::{AppError, UnsentWork};
use steward_store::Store;

use crate::Engine;
use crate::profile::{self, ProfileRecord, Profiles};

impl Engine {
    /// Opens (creating it if needed) the cache of `username` on the profile's server.
    pub(crate) async fn open_store(
        &self,
        record: &ProfileRecord,
        username: &str,
    ) -> Result<Store, AppError> {
        let path = profile::cache_path(
            &self.config.data_dir,
            &record.name,
            &record.server_url,
            username,
        );
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| {
                AppError::storage(format!("cannot create {}: {e}", parent.display()))
            })?;
        }
        let store = Store::open(&path).await?;
        // The path names the server already; the cache checks it too.
        store.bind_server(&record.server_url).await?;
        Ok(store)
    }

    /// What the cache of `username` on the profile's server holds unsent, without
    /// starting a session there. Nothing when there is no such cache.
    pub(crate) async fn unsent_in_cache(
        &self,
        record: &ProfileRecord,
        username: &str,
    ) -> Result<UnsentWork, AppError> {
        let path = profile::cache_path(
            &self.config.data_dir,
            &record.name,
            &record.server_url,
            username,
        );
        if !path.exists() {
            return Ok(UnsentWork::default());
        }
        let store = Store::open(&path).await?;
        let work = store.unsent_work().await;
        store.close().await;
        Ok(work?)
    }

    /// Deletes the cache of `username` on the profile's server (signing out).
    pub(crate) fn wipe_cache(
        &self,
        record: &ProfileRecord,
        username: &str,
    ) -> Result<(), AppError> {
        let path = profile::cache_path(
            &self.config.data_dir,
            &record.name,
            &record.server_url,
            username,
        );
        for file in profile::cache_files(&path) {
            if file.exists() {
                std::fs::remove_file(&file).map_err(|e| {
                    AppError::storage(format!("cannot wipe {}: {e}", file.display()))
                })?;
            }
        }
        Ok(())
    }
}

/// Moves caches written before the server was part of their path
/// (`profiles/<name>/<user>.sqlite3`) to where this version looks for them, bound to the
/// server their profile points at: the only server they can have mirrored, since a
/// signed-in profile's server could not change. Each cache says whose it is (its `user`
/// entry), so a cache whose file name was shared by two spellings of a name still goes
/// to the right place. Caches left behind are reported, never deleted.
pub(crate) async fn adopt_legacy_caches(data_dir: &Path, profiles: &Profiles) {
    for record in &profiles.profiles {
        let legacy_dir = profile::legacy_profile_dir(data_dir, &record.name);
        let sharing = profiles
            .profiles
            .iter()
            .filter(|other| profile::legacy_profile_dir(data_dir, &other.name) == legacy_dir)
            .count();
        let Ok(entries) = std::fs::read_dir(&legacy_dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.extension().is_none_or(|ext| ext != "sqlite3") {
                continue;
            }
            if sharing > 1 {
                tracing::warn!(path = %path.display(), "an old cache is shared by two profiles' folders; left where it is");
                continue;
            }
            if let Err(error) = adopt(&path, data_dir, record).await {
                tracing::warn!(path = %path.display(), %error, "an old cache could not be moved; left where it is");
            }
        }
    }
}

async fn adopt(path: &Path, data_dir: &Path, record: &ProfileRecord) -> Result<(), AppError> {
    let store = Store::open(path).await?;
    let user = store.get_meta("user").await?;
    let bound = store.bind_server(&record.server_url).await;
    store.close().await;
    bound?;
    let username = user
        .and_then(|json| serde_json::from_str::<steward_core::UserInfo>(&json).ok())
        .map(|user| user.username)
        .ok_or_else(|| AppError::storage("the cache does not say whose it is"))?;
    let target = profile::cache_path(data_dir, &record.name, &record.server_url, &username);
    if target.exists() {
        return Err(AppError::storage(format!(
            "{} exists already",
            target.display()
        )));
    }
    if let Some(parent) = target.parent() {
        std::fs::create_dir_all(parent)
            .map_err(|e| AppError::storage(format!("cannot create {}: {e}", parent.display())))?;
    }
    for (from, to) in profile::cache_files(path)
        .into_iter()
        .zip(profile::cache_files(&target))
    {
        if from.exists() {
            std::fs::rename(&from, &to)
                .map_err(|e| AppError::storage(format!("cannot move {}: {e}", from.display())))?;
        }
    }
    tracing::info!(from = %path.display(), to = %target.display(), "moved an old cache to its server's folder");
    Ok(())
}
