//! A loopback proxy that can corrupt the server's answers, to test malformed responses.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use steward_core::{DecisionAction, ErrorCode};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::OwnedWriteHalf;
use tokio::net::{TcpListener, TcpStream};

use crate::server::{PASSWORD, TestServer, decide_events};
use crate::{TestResult, fullest_queue, keychain_service, open_engine, signed_in, wait_for_status};

/// Forwards TCP to the server; while `corrupt` is set, the first byte of every JSON body
/// is replaced (lengths stay the same, so HTTP framing holds and only the JSON breaks).
/// It records each request line it forwards, and can lose the answer to the next token
/// refresh after the server has applied it (`lose_next_refresh_answer`).
pub struct CorruptingProxy {
    pub url: String,
    pub corrupt: Arc<AtomicBool>,
    pub lose_next_refresh_answer: Arc<AtomicBool>,
    requests: Arc<std::sync::Mutex<Vec<String>>>,
}

impl CorruptingProxy {
    pub async fn start(upstream_port: u16) -> CorruptingProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let proxy = CorruptingProxy {
            url: format!("http://127.0.0.1:{port}"),
            corrupt: Arc::new(AtomicBool::new(false)),
            lose_next_refresh_answer: Arc::new(AtomicBool::new(false)),
            requests: Arc::default(),
        };
        let corrupt = Arc::clone(&proxy.corrupt);
        let lose_refresh = Arc::clone(&proxy.lose_next_refresh_answer);
        let requests = Arc::clone(&proxy.requests);
        tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                let corrupt = Arc::clone(&corrupt);
                let lose_refresh = Arc::clone(&lose_refresh);
                let requests = Arc::clone(&requests);
                tokio::spawn(async move {
                    let Ok(mut server) = TcpStream::connect(("127.0.0.1", upstream_port)).await
                    else {
                        return;
                    };
                    // The request line names what is asked; the rest is copied as it comes.
                    let mut head = vec![0u8; 4096];
                    let Ok(read) = client.read(&mut head).await else {
                        return;
                    };
                    head.truncate(read);
                    let line = String::from_utf8_lossy(&head)
                        .lines()
                        .next()
                        .unwrap_or_default()
                        .to_string();
                    requests.lock().unwrap().push(line.clone());
                    if server.write_all(&head).await.is_err() {
                        return;
                    }
                    let (mut client_write, mut answer) = exchange(client, server).await;
                    if line.contains("/auth/refresh") && lose_refresh.swap(false, Ordering::SeqCst)
                    {
                        // The server rotated the token; the client never hears of it.
                        return;
                    }
                    if corrupt.load(Ordering::SeqCst)
                        && let Some(at) = answer.windows(5).position(|w| w == b"\r\n\r\n{")
                    {
                        answer[at + 4] = b'<';
                    }
                    let _ = client_write.write_all(&answer).await;
                    let _ = client_write.shutdown().await;
                });
            }
        });
        proxy
    }

    /// The request lines forwarded so far ("GET /api/v1/queues HTTP/1.1").
    pub fn requests(&self) -> Vec<String> {
        self.requests.lock().unwrap().clone()
    }
}

/// Sends what the client writes on to the server and reads the server's whole answer:
/// gunicorn's sync workers answer once per connection and close it, and write the head
/// and the body separately. Returns the client's write half, for the caller to pass the
/// answer on (changed, or not at all), and the answer.
pub async fn exchange(client: TcpStream, server: TcpStream) -> (OwnedWriteHalf, Vec<u8>) {
    let (mut client_read, client_write) = client.into_split();
    let (mut server_read, mut server_write) = server.into_split();
    let upstream = tokio::spawn(async move {
        let _ = tokio::io::copy(&mut client_read, &mut server_write).await;
        let _ = server_write.shutdown().await;
    });
    let mut answer = Vec::new();
    let _ = server_read.read_to_end(&mut answer).await;
    upstream.abort();
    (client_write, answer)
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
    let (queue, mut items) = fullest_queue(&engine).await?;
    let item = items.remove(0);

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

/// A pull that fails (the server answers garbage, or is gone) backs off like a push does,
/// up to its maximum, even with nothing to send: it must not retry about once a second
/// forever. Counted at the proxy over 15 seconds of broken answers; retrying once a
/// second sends about 15 requests, backing off sends 5 or 6.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_pull_backs_off_with_nothing_to_send() -> TestResult {
    let server = TestServer::start(10);
    let proxy = CorruptingProxy::start(port_of(&server.url)).await;
    let data = tempfile::tempdir()?;
    let engine = open_engine(data.path(), &keychain_service()).await;
    engine.sign_in(&proxy.url, "moderator", PASSWORD).await?;
    wait_for_status(&engine, "the first pull", |s| s.last_synced_at.is_some()).await;

    proxy.corrupt.store(true, Ordering::SeqCst);
    let before = pulls(&proxy.requests());
    tokio::time::sleep(Duration::from_secs(15)).await;
    let made = pulls(&proxy.requests()) - before;
    let status = engine.sync_status().await;
    assert_eq!(
        status.last_error.as_ref().map(|e| e.code),
        Some(ErrorCode::BadResponse),
        "{status:?}"
    );
    assert!(made >= 2, "the worker kept trying: {made} pulls");
    assert!(
        made <= 8,
        "{made} pulls in 15 s of failures: the worker does not back off"
    );
    Ok(())
}

/// Requests that start a pull round (the queue list comes first in every pull).
fn pulls(requests: &[String]) -> usize {
    requests
        .iter()
        .filter(|line| line.starts_with("GET /api/v1/queues"))
        .count()
}

/// A refresh whose answer never arrives (the laptop slept, a profile switch aborted the
/// worker) must not sign the user out: the server rotated the token, the engine still
/// holds the spent one and presents it again, and the server's grace window gives it a
/// new pair instead of revoking the whole session as if the token had been stolen.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_refresh_answer_does_not_sign_the_user_out() -> TestResult {
    let server = TestServer::start_with(6, &[("STEWARD_ACCESS_TOKEN_TTL", "2")]);
    let proxy = CorruptingProxy::start(port_of(&server.url)).await;
    let (engine, _data) = signed_in(&proxy.url, "moderator").await?;

    // The access token lives 2 s: the worker's next pull after that refreshes it, and
    // that refresh's answer is lost after the server rotated the token.
    proxy.lose_next_refresh_answer.store(true, Ordering::SeqCst);
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while proxy.lose_next_refresh_answer.load(Ordering::SeqCst) {
        assert!(std::time::Instant::now() < deadline, "no refresh was made");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let status = engine.sync_now().await?;
    assert!(status.online && status.last_error.is_none(), "{status:?}");
    let state = engine.app_state().await;
    assert!(state.session.is_some(), "{:?}", state.needs_sign_in_reason);
    // Several more refreshes later the session still stands.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let status = engine.sync_now().await?;
    assert!(status.online && status.last_error.is_none(), "{status:?}");
    Ok(())
}
