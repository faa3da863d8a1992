//! The engine against the real reference server, the real keychain and real SQLite files.
//!
//! These tests need a Secret Service on the session bus; `scripts/with-desktop-session.sh`
//! provides one (gnome-keyring in a private D-Bus session), as CI does.

mod batches;
mod download;
mod faults;
mod images;
mod live;
mod logs;
mod model;
mod outbox;
mod oversize;
mod profiles;
mod proxy;
mod server;
mod sign_out;
mod support;
mod undo_race;

use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use steward_core::{
    AppError, DecisionAction, ErrorCode, ItemSummary, QueueSummary, SignOutMode, SyncStatus,
};
use steward_engine::{Engine, EngineConfig};

use crate::server::{PASSWORD, TestServer, decide_events};

pub type TestResult = Result<(), Box<dyn std::error::Error>>;

/// Each engine gets its own keychain service, so tests never see each other's tokens.
pub fn keychain_service() -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    format!(
        "dev.steward.test.{}.{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::SeqCst)
    )
}

pub async fn open_engine(data_dir: &Path, service: &str) -> Arc<Engine> {
    open_engine_with(data_dir, service, |_| {}).await
}

pub async fn open_engine_with(
    data_dir: &Path,
    service: &str,
    adjust: impl FnOnce(&mut EngineConfig),
) -> Arc<Engine> {
    let mut config = EngineConfig::new(data_dir.to_path_buf());
    config.keychain_service = service.to_string();
    config.poll_interval = Duration::from_millis(500);
    config.undo_window = Duration::ZERO;
    adjust(&mut config);
    Engine::open(config).await.expect("the engine opens")
}

/// An engine in a data directory of its own, signed in to `url` as `username` and done
/// with its first sync: where most tests start. The directory lives as long as the
/// returned `TempDir`.
pub async fn signed_in(
    url: &str,
    username: &str,
) -> Result<(Arc<Engine>, tempfile::TempDir), Box<dyn std::error::Error>> {
    signed_in_with(url, username, |_| {}).await
}

/// `signed_in` with the engine's config adjusted first (a longer undo window, no polling).
pub async fn signed_in_with(
    url: &str,
    username: &str,
    adjust: impl FnOnce(&mut EngineConfig),
) -> Result<(Arc<Engine>, tempfile::TempDir), Box<dyn std::error::Error>> {
    let data = tempfile::tempdir()?;
    let engine = open_engine_with(data.path(), &keychain_service(), adjust).await;
    engine.sign_in(url, username, PASSWORD).await?;
    engine.sync_now().await?;
    Ok((engine, data))
}

/// The queue with the most open items, and those items in the engine's order.
pub async fn fullest_queue(engine: &Engine) -> Result<(QueueSummary, Vec<ItemSummary>), AppError> {
    let queue = engine
        .list_queues()
        .await?
        .into_iter()
        .max_by_key(|q| q.open_count)
        .expect("the seed has queues");
    let items = engine.list_queue_items(queue.id).await?;
    Ok((queue, items))
}

pub async fn wait_for_status(
    engine: &Engine,
    what: &str,
    done: impl Fn(&SyncStatus) -> bool,
) -> SyncStatus {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let status = engine.sync_status().await;
        if done(&status) {
            return status;
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}; last status {status:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

pub fn secret_tool_lookup(service: &str, user: &str) -> Option<String> {
    let output = Command::new("secret-tool")
        .args(["lookup", "service", service, "username", user])
        .output()
        .expect("secret-tool (libsecret-tools) is installed");
    let secret = String::from_utf8(output.stdout).unwrap();
    (output.status.success() && !secret.is_empty()).then_some(secret)
}

/// Every file under `dir`, read as bytes, searched for `needle`.
/// The one cache under `data` (profiles/<profile>/<server>/<user>.sqlite3).
pub fn cache_file(data: &Path) -> Option<std::path::PathBuf> {
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

pub fn files_containing(dir: &Path, needle: &str) -> Vec<String> {
    let mut hits = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(path) = stack.pop() {
        if path.is_dir() {
            for entry in std::fs::read_dir(&path).unwrap() {
                stack.push(entry.unwrap().path());
            }
        } else if let Ok(bytes) = std::fs::read(&path)
            && bytes.windows(needle.len()).any(|w| w == needle.as_bytes())
        {
            hits.push(path.display().to_string());
        }
    }
    hits
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_sync_and_decide_reaches_the_server_exactly_once() -> TestResult {
    let server = TestServer::start(30);
    let data = tempfile::tempdir()?;
    let service = keychain_service();
    let engine = open_engine(data.path(), &service).await;

    let mut events = engine.subscribe();
    let session = engine.sign_in(&server.url, "moderator", PASSWORD).await?;
    assert_eq!(session.user.username, "moderator");
    assert!(session.user.roles.contains(&"moderator".to_string()));
    engine.sync_now().await?;
    // The first download reported its progress against the feed's total.
    let mut progress = Vec::new();
    while let Ok(event) = events.try_recv() {
        if let steward_engine::EngineEvent::SyncStatusChanged(status) = event
            && let Some(bootstrap) = status.bootstrap
            && bootstrap.collection == "items"
        {
            progress.push((bootstrap.done, bootstrap.total));
        }
    }
    let last = progress
        .last()
        .copied()
        .expect("bootstrap progress was reported");
    assert_eq!(
        last.1,
        Some(last.0),
        "all items done out of their total: {progress:?}"
    );

    let queues = engine.list_queues().await?;
    assert!(queues.len() >= 3, "{queues:?}");
    let queue = queues
        .iter()
        .find(|q| q.open_count > 0)
        .expect("an open item somewhere");
    let items = engine.list_queue_items(queue.id).await?;
    assert_eq!(items.len() as i64, queue.open_count);
    let item = &items[0];
    let detail = engine.get_item(item.id).await?;
    assert_eq!(detail.summary.id, item.id);
    assert!(!detail.safe_html.to_lowercase().contains("<script"));

    let tray = engine.tray_summary().await;
    assert_eq!(tray[0], "No actions waiting to sync");
    assert!(
        tray.contains(&format!("{}: {} open", queue.name, queue.open_count)),
        "{tray:?}"
    );

    let decided = engine
        .decide_item(item.id, DecisionAction::Approve, Some("ok".into()), None)
        .await?;
    assert_eq!(decided.item.pending_action, Some(DecisionAction::Approve));
    // The next item shows at once: the decided one is gone from the local list.
    let remaining = engine.list_queue_items(queue.id).await?;
    assert!(remaining.iter().all(|i| i.id != item.id));
    let tray = engine.tray_summary().await;
    assert!(
        tray.contains(&format!("{}: {} open", queue.name, queue.open_count - 1)),
        "{tray:?}"
    );
    wait_for_status(&engine, "the push", |s| {
        s.pending == 0 && s.last_error.is_none()
    })
    .await;

    let admin = server.admin_token().await;
    let on_server = server.get(&admin, &format!("items/{}", item.id)).await;
    assert_eq!(on_server["state"], "approved");
    let events = decide_events(&server, &admin, item.id).await;
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["data"]["action"], "approve");
    assert_eq!(events[0]["actor"]["username"], "moderator");

    // The refresh token is in the Secret Service, and nowhere in the app's files.
    let user = format!("default:moderator@{}", server.url);
    let token = secret_tool_lookup(&service, &user).expect("the refresh token is in the keychain");
    assert!(token.len() >= 20, "a real token, not {token:?}");
    assert_eq!(files_containing(data.path(), &token), Vec::<String>::new());

    engine.sign_out(SignOutMode::IfNothingUnsent).await?;
    assert_eq!(
        secret_tool_lookup(&service, &user),
        None,
        "sign-out deletes the keychain item"
    );
    assert!(engine.app_state().await.session.is_none());
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_password_is_refused_with_a_clear_message() -> TestResult {
    let server = TestServer::start(5);
    let data = tempfile::tempdir()?;
    let engine = open_engine(data.path(), &keychain_service()).await;
    let error = engine
        .sign_in(&server.url, "moderator", "not-the-password")
        .await
        .unwrap_err();
    assert_eq!(error.code, ErrorCode::InvalidCredentials);
    assert_eq!(error.message, "Wrong username or password.");
    assert!(engine.app_state().await.session.is_none());
    Ok(())
}

/// Guessing passwords runs into the server's sign-in throttle: after the allowed failures
/// even the right password is refused for a while, and the message says when to try again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn too_many_failed_sign_ins_say_when_to_try_again() -> TestResult {
    let server = TestServer::start_with(3, &[("STEWARD_LOGIN_MAX_FAILURES_PER_USER", "3")]);
    let data = tempfile::tempdir()?;
    let engine = open_engine(data.path(), &keychain_service()).await;
    for _ in 0..3 {
        let error = engine
            .sign_in(&server.url, "moderator", "a-guess")
            .await
            .unwrap_err();
        assert_eq!(error.code, ErrorCode::InvalidCredentials, "{error:?}");
    }
    let error = engine
        .sign_in(&server.url, "moderator", PASSWORD)
        .await
        .unwrap_err();
    assert_eq!(error.code, ErrorCode::TooManyAttempts, "{error:?}");
    assert!(
        error.message.contains("Try again in") && error.message.contains("minute"),
        "{}",
        error.message
    );
    assert!(engine.app_state().await.session.is_none());
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_server_is_named_and_the_engine_stays_usable() -> TestResult {
    let data = tempfile::tempdir()?;
    let engine = open_engine(data.path(), &keychain_service()).await;
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let url = format!("http://127.0.0.1:{port}");
    let error = engine
        .sign_in(&url, "moderator", PASSWORD)
        .await
        .unwrap_err();
    assert_eq!(error.code, ErrorCode::ServerUnreachable);
    assert!(error.message.contains(&url), "{}", error.message);

    let error = engine
        .sign_in("ftp://x", "moderator", PASSWORD)
        .await
        .unwrap_err();
    assert_eq!(error.code, ErrorCode::InvalidInput);

    // Still usable: a later sign-in to a live server works.
    let server = TestServer::start(5);
    engine.sign_in(&server.url, "moderator", PASSWORD).await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_restores_the_session_from_the_keychain() -> TestResult {
    let server = TestServer::start(10);
    let data = tempfile::tempdir()?;
    let service = keychain_service();
    {
        let engine = open_engine(data.path(), &service).await;
        engine.sign_in(&server.url, "moderator", PASSWORD).await?;
        engine.sync_now().await?;
    }
    let engine = open_engine(data.path(), &service).await;
    let state = engine.app_state().await;
    let session = state.session.expect("the session comes back");
    assert_eq!(session.user.username, "moderator");
    // The access token was only in memory: this sync must refresh through the keychain.
    let status = engine.sync_now().await?;
    assert!(status.online && status.last_error.is_none(), "{status:?}");
    assert!(!engine.list_queues().await?.is_empty());
    engine.sign_out(SignOutMode::IfNothingUnsent).await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn decisions_made_offline_are_pushed_once_the_server_is_back() -> TestResult {
    let mut server = TestServer::start(30);
    let (engine, _data) = signed_in(&server.url, "moderator").await?;
    let (queue, items) = fullest_queue(&engine).await?;
    assert!(
        queue.open_count >= 2,
        "the seed gives some queue two open items: {queue:?}"
    );

    server.stop();
    engine
        .decide_item(
            items[0].id,
            DecisionAction::Remove,
            Some("spam".into()),
            None,
        )
        .await?;
    engine
        .decide_item(
            items[1].id,
            DecisionAction::Approve,
            None,
            Some("fine".into()),
        )
        .await?;
    let offline =
        wait_for_status(&engine, "offline", |s| !s.online && s.last_error.is_some()).await;
    assert_eq!(offline.pending, 2);
    assert_eq!(
        offline.last_error.unwrap().code,
        ErrorCode::ServerUnreachable
    );
    // Reads keep working from the cache.
    assert!(
        engine
            .list_queue_items(queue.id)
            .await?
            .iter()
            .all(|i| i.id != items[0].id)
    );

    server.resume();
    engine.sync_now().await?;
    wait_for_status(&engine, "the outbox to drain", |s| {
        s.pending == 0 && s.online
    })
    .await;
    let admin = server.admin_token().await;
    for (item, action) in [(&items[0], "remove"), (&items[1], "approve")] {
        let events = decide_events(&server, &admin, item.id).await;
        assert_eq!(events.len(), 1, "{events:?}");
        assert_eq!(events[0]["data"]["action"], action);
    }
    engine.sign_out(SignOutMode::IfNothingUnsent).await?;
    Ok(())
}

/// Runs `no_secret_service_child` in a child process whose session bus does not exist:
/// keyring picks its store once per process, so this needs a process of its own.
#[test]
fn without_a_secret_service_sign_in_fails_clearly_and_stores_nothing() {
    let server = TestServer::start(3);
    let data = tempfile::tempdir().unwrap();
    let output = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "no_secret_service_child",
            "--nocapture",
            "--test-threads",
            "1",
        ])
        .env("STEWARD_CHILD_SERVER", &server.url)
        .env("STEWARD_CHILD_DATA", data.path())
        .env(
            "DBUS_SESSION_BUS_ADDRESS",
            "unix:path=/nonexistent/steward-test-bus",
        )
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "child failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout.contains("CHILD CHECKED"),
        "the child did not run its checks:\n{stdout}"
    );
    // Nothing that looks like a session was written: no profile, no cache.
    assert!(!data.path().join("profiles.json").exists());
    assert!(!data.path().join("profiles").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_service_child() -> TestResult {
    let (Ok(url), Ok(data)) = (
        std::env::var("STEWARD_CHILD_SERVER"),
        std::env::var("STEWARD_CHILD_DATA"),
    ) else {
        // Only meaningful inside the parent test above.
        return Ok(());
    };
    let engine = open_engine(Path::new(&data), &keychain_service()).await;
    let error = engine
        .sign_in(&url, "moderator", PASSWORD)
        .await
        .unwrap_err();
    assert_eq!(error.code, ErrorCode::KeychainUnavailable, "{error:?}");
    assert!(error.message.contains("keychain"), "{}", error.message);
    assert!(engine.app_state().await.session.is_none());
    println!("CHILD CHECKED: {}", error.message);
    Ok(())
}
