//! The per-profile log file: written, and free of tokens and passwords.

use std::time::Duration;

use steward_engine::logging::LogSink;
use tracing_subscriber::layer::SubscriberExt;

use crate::server::{PASSWORD, TestServer};
use crate::{TestResult, files_containing, keychain_service, open_engine_with, secret_tool_lookup};

// current_thread: the subscriber set below is thread-local, and every task then runs here.
#[tokio::test(flavor = "current_thread")]
async fn the_profile_log_is_written_and_redacted() -> TestResult {
    let server = TestServer::start(5);
    let data = tempfile::tempdir()?;
    let sink = LogSink::new(&data.path().join("logs"));
    let subscriber = tracing_subscriber::registry().with(
        tracing_subscriber::fmt::layer()
            .with_ansi(false)
            .with_writer(sink.clone()),
    );
    let _guard = tracing::subscriber::set_default(subscriber);

    let service = keychain_service();
    let engine = open_engine_with(data.path(), &service, |config| {
        config.log_sink = Some(sink.clone())
    })
    .await;
    engine.sign_in(&server.url, "moderator", PASSWORD).await?;
    engine.sync_now().await?;
    let refresh =
        secret_tool_lookup(&service, &format!("default:moderator@{}", server.url)).unwrap();
    // An accident on purpose: a secret in a log line must not reach the file.
    tracing::warn!("retrying with Authorization: Bearer {refresh} password={PASSWORD}");
    tokio::time::sleep(Duration::from_millis(100)).await;

    // The sink follows the active profile: profiles/default-<hash of the name>/logs.
    let log_dir = sink.dir();
    assert_eq!(log_dir.file_name().unwrap(), "logs");
    let profile_dir = log_dir.parent().unwrap();
    assert_eq!(profile_dir.parent().unwrap(), data.path().join("profiles"));
    assert!(
        profile_dir
            .file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("default-"),
        "{}",
        log_dir.display()
    );
    let logged: String = std::fs::read_dir(&log_dir)?
        .map(|entry| std::fs::read_to_string(entry.unwrap().path()).unwrap())
        .collect();
    assert!(logged.contains("signed in"), "{logged}");
    assert!(
        logged.contains("retrying with Authorization: <redacted>"),
        "{logged}"
    );
    assert_eq!(
        files_containing(data.path(), &refresh),
        Vec::<String>::new()
    );
    assert_eq!(
        files_containing(data.path(), PASSWORD),
        Vec::<String>::new()
    );
    Ok(())
}
