//! Environments (profiles) and which one is active, kept in `profiles.json`.
//!
//! The file names servers and accounts, never a secret: the refresh token of each
//! profile's account is in the OS keychain, and its cache in its own SQLite file.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use steward_core::{AppError, ProfileInfo};

use crate::keychain::KeychainEntry;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProfileRecord {
    pub name: String,
    pub server_url: String,
    pub production: bool,
    /// The account signed in last on this profile.
    pub username: Option<String>,
}

impl ProfileRecord {
    pub fn keychain_entry(&self, service: &str, username: &str) -> KeychainEntry {
        KeychainEntry::new(service, &self.name, username, &self.server_url)
    }

    pub fn info(&self, active: bool) -> ProfileInfo {
        ProfileInfo {
            name: self.name.clone(),
            server_url: self.server_url.clone(),
            production: self.production,
            username: self.username.clone(),
            active,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Profiles {
    pub profiles: Vec<ProfileRecord>,
    pub active: Option<String>,
}

impl Profiles {
    pub fn get(&self, name: &str) -> Option<&ProfileRecord> {
        self.profiles.iter().find(|p| p.name == name)
    }

    pub fn active(&self) -> Option<&ProfileRecord> {
        self.active.as_deref().and_then(|name| self.get(name))
    }

    /// Adds the profile, or replaces the one with the same name.
    pub fn upsert(&mut self, record: ProfileRecord) {
        match self.profiles.iter_mut().find(|p| p.name == record.name) {
            Some(existing) => *existing = record,
            None => self.profiles.push(record),
        }
    }

    pub fn infos(&self) -> Vec<ProfileInfo> {
        self.profiles
            .iter()
            .map(|p| p.info(self.active.as_deref() == Some(p.name.as_str())))
            .collect()
    }
}

fn profiles_path(data_dir: &Path) -> PathBuf {
    data_dir.join("profiles.json")
}

fn safe(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// The folder of one profile: its caches and its logs.
pub fn profile_dir(data_dir: &Path, profile: &str) -> PathBuf {
    data_dir.join("profiles").join(safe(profile))
}

/// One SQLite file per (environment, account), named so that no two collide.
pub fn cache_path(data_dir: &Path, profile: &str, username: &str) -> PathBuf {
    profile_dir(data_dir, profile).join(format!("{}.sqlite3", safe(username)))
}

pub fn load(data_dir: &Path) -> Result<Profiles, AppError> {
    let path = profiles_path(data_dir);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Profiles::default()),
        Err(e) => {
            return Err(AppError::storage(format!(
                "cannot read {}: {e}",
                path.display()
            )));
        }
    };
    serde_json::from_str(&text)
        .map_err(|e| AppError::storage(format!("{} is unreadable: {e}", path.display())))
}

pub fn save(data_dir: &Path, profiles: &Profiles) -> Result<(), AppError> {
    let path = profiles_path(data_dir);
    let text =
        serde_json::to_string_pretty(profiles).map_err(|e| AppError::internal(e.to_string()))?;
    // Write then rename, so a crash never leaves half a file.
    let temporary = path.with_extension("json.tmp");
    std::fs::write(&temporary, text)
        .and_then(|()| std::fs::rename(&temporary, &path))
        .map_err(|e| AppError::storage(format!("cannot write {}: {e}", path.display())))
}

/// Checks a profile name typed by the user.
pub fn validate_name(name: &str) -> Result<&str, AppError> {
    let name = name.trim();
    if name.is_empty() || name.len() > 40 {
        return Err(AppError::new(
            steward_core::ErrorCode::InvalidInput,
            "A profile name needs 1 to 40 characters.",
        ));
    }
    Ok(name)
}
