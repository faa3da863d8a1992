//! A loopback proxy that can corrupt the server's answers, to test malformed responses.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use steward_core::{DecisionAction, ErrorCode};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::server::{PASSWORD, TestServer, decide_events};
use crate::{TestResult, keychain_service, open_engine, wait_for_status};

/// Forwards TCP to the server; while `corrupt` is set, the first byte of every JSON body
/// is replaced (lengths stay the same, so HTTP framing holds and only the JSON breaks).
pub struct CorruptingProxy {
    pub url: String,
    pub corrupt: Arc<AtomicBool>,
}

impl CorruptingProxy {
    pub async fn start(upstream_port: u16) -> CorruptingProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let corrupt = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&corrupt);
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let flag = Arc::clone(&flag);
                tokio::spawn(async move {
                    let Ok(server) = TcpStream::connect(("127.0.0.1", upstream_port)).await else {
                        return;
                    };
                    let (mut client_read, mut client_write) = client.into_split();
                    let (mut server_read, mut server_write) = server.into_split();
                    let upstream = tokio::spawn(async move {
                        let _ = tokio::io::copy(&mut client_read, &mut server_write).await;
                        let _ = server_write.shutdown().await;
                    });
                    // gunicorn's sync workers answer once per connection and close it, and
                    // write the head and the body separately: read the whole answer first.
                    let mut answer = Vec::new();
                    let _ = server_read.read_to_end(&mut answer).await;
                    if flag.load(Ordering::SeqCst)
                        && let Some(at) = answer.windows(5).position(|w| w == b"\r\n\r\n{")
                    {
                        answer[at + 4] = b'<';
                    }
                    let _ = client_write.write_all(&answer).await;
                    let _ = client_write.shutdown().await;
                    upstream.abort();
                });
            }
        });
        CorruptingProxy {
            url: format!("http://127.0.0.1:{port}"),
            corrupt,
        }
    }
}

fn port_of(url: &str) -> u16 {
    url.rsplit(':').next().unwrap().parse().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_answers_give_a_clear_error_and_lose_nothing() -> TestResult {
    let server = TestServer::start(20);
    let proxy = CorruptingProxy::start(port_of(&server.url)).await;
    let data = tempfile::tempdir()?;
    let engine = open_engine(data.path(), &keychain_service()).await;

    proxy.corrupt.store(true, Ordering::SeqCst);
    let error = engine
        .sign_in(&proxy.url, "moderator", PASSWORD)
        .await
        .unwrap_err();
    assert_eq!(error.code, ErrorCode::BadResponse, "{error:?}");
    assert!(
        error.message.contains("not the Steward API"),
        "{}",
        error.message
    );
    assert!(engine.app_state().await.session.is_none());

    proxy.corrupt.store(false, Ordering::SeqCst);
    engine.sign_in(&proxy.url, "moderator", PASSWORD).await?;
    engine.sync_now().await?;
    let queue = engine
        .list_queues()
        .await?
        .into_iter()
        .max_by_key(|q| q.open_count)
        .unwrap();
    let item = engine.list_queue_items(queue.id).await?.remove(0);

    // The server applies the decision, but its answer arrives broken.
    proxy.corrupt.store(true, Ordering::SeqCst);
    engine
        .decide_item(item.id, DecisionAction::Remove, None, None)
        .await?;
    let broken = wait_for_status(&engine, "a bad-response error", |s| {
        s.last_error
            .as_ref()
            .is_some_and(|e| e.code == ErrorCode::BadResponse)
    })
    .await;
    assert_eq!(broken.pending, 1, "the decision stays queued: {broken:?}");
    assert!(
        engine
            .list_queue_items(queue.id)
            .await?
            .iter()
            .all(|i| i.id != item.id)
    );

    // Once answers are readable again the retry, with the same key, is a replay.
    tokio::time::sleep(Duration::from_millis(200)).await;
    proxy.corrupt.store(false, Ordering::SeqCst);
    engine.sync_now().await?;
    let healed = wait_for_status(&engine, "the retry", |s| {
        s.pending == 0 && s.last_error.is_none()
    })
    .await;
    assert_eq!(healed.conflicts, 0);
    let admin = server.admin_token().await;
    let events = decide_events(&server, &admin, item.id).await;
    assert_eq!(events.len(), 1, "applied exactly once: {events:?}");
    Ok(())
}
