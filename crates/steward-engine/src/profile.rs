//! Which environment and account is active, kept in `profiles.json` (never any secret).

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use steward_core::AppError;

use crate::keychain::KeychainEntry;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProfileRecord {
    pub name: String,
    pub server_url: String,
    pub username: String,
    pub production: bool,
}

impl ProfileRecord {
    pub fn keychain_entry(&self, service: &str) -> KeychainEntry {
        KeychainEntry::new(service, &self.name, &self.username, &self.server_url)
    }
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct ProfilesFile {
    active: Option<ProfileRecord>,
}

fn profiles_path(data_dir: &Path) -> PathBuf {
    data_dir.join("profiles.json")
}

/// One SQLite file per (environment, account), named so that no two collide.
pub fn cache_path(data_dir: &Path, record: &ProfileRecord) -> PathBuf {
    let safe = |text: &str| -> String {
        text.chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .collect()
    };
    data_dir
        .join("profiles")
        .join(safe(&record.name))
        .join(format!("{}.sqlite3", safe(&record.username)))
}

pub fn load_active(data_dir: &Path) -> Result<Option<ProfileRecord>, AppError> {
    let path = profiles_path(data_dir);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(AppError::storage(format!(
                "cannot read {}: {e}",
                path.display()
            )));
        }
    };
    let file: ProfilesFile = serde_json::from_str(&text)
        .map_err(|e| AppError::storage(format!("{} is unreadable: {e}", path.display())))?;
    Ok(file.active)
}

pub fn save_active(data_dir: &Path, active: Option<&ProfileRecord>) -> Result<(), AppError> {
    let path = profiles_path(data_dir);
    let file = ProfilesFile {
        active: active.cloned(),
    };
    let text =
        serde_json::to_string_pretty(&file).map_err(|e| AppError::internal(e.to_string()))?;
    // Write then rename, so a crash never leaves half a file.
    let temporary = path.with_extension("json.tmp");
    std::fs::write(&temporary, text)
        .and_then(|()| std::fs::rename(&temporary, &path))
        .map_err(|e| AppError::storage(format!("cannot write {}: {e}", path.display())))
}
