//! The engine's cache file in a data directory, for benchmarks that check or reuse what
//! a sync wrote.

use std::path::{Path, PathBuf};

/// The one cache under `data` (profiles/<profile>/<server>/<user>.sqlite3).
pub fn cache_file(data: &Path) -> Option<PathBuf> {
    let mut folders = vec![data.join("profiles")];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).ok()?.flatten() {
            let path = entry.path();
            if path.is_dir() {
                folders.push(path);
            } else if path.extension().is_some_and(|ext| ext == "sqlite3") {
                return Some(path);
            }
        }
    }
    None
}
