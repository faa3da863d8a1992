//! Environments (profiles) and which one is active, kept in `profiles.json`.
//!
//! The file names servers and accounts, never a secret: the refresh token of each
//! profile's account is in the OS keychain, and its cache in its own SQLite file.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
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

/// A file or folder name for `text` that no other text maps to, on any file system. The
/// readable part keeps ASCII letters, digits and '-'; the suffix is a hash of the exact
/// text, so names that differ only in punctuation or case (`john.doe`, `john_doe`,
/// `John.Doe`) never share a file, not even on a case-insensitive disk.
fn file_name(text: &str) -> String {
    let readable: String = text
        .chars()
        .take(40)
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let digest = Sha256::digest(text.as_bytes());
    let suffix: String = digest[..6].iter().map(|b| format!("{b:02x}")).collect();
    format!("{readable}-{suffix}")
}

/// What versions before 0.2 named a file: lossy (`john.doe` and `john_doe` collided).
fn legacy_name(text: &str) -> String {
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
    data_dir.join("profiles").join(file_name(profile))
}

/// One SQLite file per (environment, server, account). The server is part of the path:
/// a cache's ids, versions, cursors and unsent actions mean nothing to another server,
/// so pointing a profile elsewhere never reuses them.
pub fn cache_path(data_dir: &Path, profile: &str, server_url: &str, username: &str) -> PathBuf {
    profile_dir(data_dir, profile)
        .join(file_name(server_url))
        .join(format!("{}.sqlite3", file_name(username)))
}

/// Where versions before 0.2 kept the caches of a profile: `profiles/<name>/*.sqlite3`,
/// without the server in the path. `Engine::open` moves them (`adopt_legacy_caches`).
pub fn legacy_profile_dir(data_dir: &Path, profile: &str) -> PathBuf {
    data_dir.join("profiles").join(legacy_name(profile))
}

/// Whether `server_url` is this machine (localhost, 127.0.0.0/8, ::1).
pub fn is_loopback(server_url: &str) -> bool {
    let Ok(url) = url::Url::parse(server_url) else {
        return false;
    };
    match url.host() {
        Some(url::Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(address)) => address.is_loopback(),
        Some(url::Host::Ipv6(address)) => address.is_loopback(),
        None => false,
    }
}

/// The cache file and its write-ahead log and shared-memory index.
pub fn cache_files(path: &Path) -> [PathBuf; 3] {
    ["", "-wal", "-shm"].map(|suffix| PathBuf::from(format!("{}{suffix}", path.display())))
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

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::profile::cache_path;

    #[test]
    fn names_that_differ_only_in_punctuation_or_case_never_share_a_cache() {
        let data = Path::new("/data");
        let server = "https://mod.example";
        let paths = [
            cache_path(data, "local", server, "john.doe"),
            cache_path(data, "local", server, "john_doe"),
            cache_path(data, "local", server, "John.Doe"),
            cache_path(data, "local", server, "john doe"),
            cache_path(data, "Local", server, "john.doe"),
            cache_path(data, "local", "https://other.example", "john.doe"),
        ];
        for (i, a) in paths.iter().enumerate() {
            for b in &paths[i + 1..] {
                assert_ne!(
                    a.to_string_lossy().to_lowercase(),
                    b.to_string_lossy().to_lowercase()
                );
            }
        }
        assert_eq!(paths[0], cache_path(data, "local", server, "john.doe"));
        assert!(paths[0].to_string_lossy().contains("john_doe-"));
    }
}
