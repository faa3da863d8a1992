//! Several environments, each with its own account and cache, switched without a restart.

use crate::server::{PASSWORD, TestServer};
use crate::{TestResult, keychain_service, open_engine};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn profiles_keep_their_own_session_and_cache_and_switch_without_restart() -> TestResult {
    let local = TestServer::start(10);
    let production = TestServer::start(25);
    let data = tempfile::tempdir()?;
    let engine = open_engine(data.path(), &keychain_service()).await;

    engine.save_profile("local", &local.url, false).await?;
    engine.switch_profile("local").await?;
    engine.sign_in(&local.url, "moderator", PASSWORD).await?;
    engine.sync_now().await?;
    let local_open: i64 = engine
        .list_queues()
        .await?
        .iter()
        .map(|q| q.open_count)
        .sum();

    engine
        .save_profile("production", &production.url, true)
        .await?;
    let state = engine.switch_profile("production").await?;
    assert!(state.session.is_none(), "a new profile has no account yet");
    assert_eq!(
        state.default_server_url.as_deref(),
        Some(production.url.as_str())
    );
    let session = engine.sign_in(&production.url, "admin", PASSWORD).await?;
    assert!(session.production, "production is marked");
    assert_eq!(session.profile, "production");
    engine.sync_now().await?;
    let production_open: i64 = engine
        .list_queues()
        .await?
        .iter()
        .map(|q| q.open_count)
        .sum();
    assert_ne!(
        local_open, production_open,
        "each profile shows its own server's data"
    );

    let state = engine.switch_profile("local").await?;
    let session = state
        .session
        .expect("local's session comes back from the keychain");
    assert_eq!(session.user.username, "moderator");
    assert!(!session.production);
    let open_again: i64 = engine
        .list_queues()
        .await?
        .iter()
        .map(|q| q.open_count)
        .sum();
    assert_eq!(
        open_again, local_open,
        "local's cache is served at once, without a sync"
    );

    let profiles = engine.list_profiles().await;
    assert_eq!(profiles.len(), 2);
    assert!(profiles.iter().any(|p| p.name == "local" && p.active));
    assert!(
        profiles
            .iter()
            .any(|p| p.name == "production" && p.production && !p.active)
    );
    // Each profile has its own cache file, in a folder of its own server.
    let local_caches = caches_of(data.path(), "local-");
    let production_caches = caches_of(data.path(), "production-");
    assert_eq!(local_caches.len(), 1, "{local_caches:?}");
    assert_eq!(production_caches.len(), 1, "{production_caches:?}");
    assert!(local_caches[0].contains("moderator-"), "{local_caches:?}");
    assert!(
        production_caches[0].contains("admin-"),
        "{production_caches:?}"
    );

    // A signed-in profile cannot be pointed at another server behind its session's back.
    let error = engine
        .save_profile("local", &production.url, false)
        .await
        .unwrap_err();
    assert_eq!(error.code, steward_core::ErrorCode::InvalidInput);
    Ok(())
}

/// The cache files (`*.sqlite3`) under the profile folder whose name starts with `prefix`.
pub fn caches_of(data: &std::path::Path, prefix: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut stack: Vec<std::path::PathBuf> = std::fs::read_dir(data.join("profiles"))
        .into_iter()
        .flatten()
        .flatten()
        .map(|entry| entry.path())
        .filter(|path| {
            path.file_name()
                .is_some_and(|name| name.to_string_lossy().starts_with(prefix))
        })
        .collect();
    while let Some(path) = stack.pop() {
        if path.is_dir() {
            stack.extend(
                std::fs::read_dir(&path)
                    .unwrap()
                    .flatten()
                    .map(|e| e.path()),
            );
        } else if path.extension().is_some_and(|ext| ext == "sqlite3") {
            found.push(path.display().to_string());
        }
    }
    found
}
