//! A loopback front door that routes as the reverse proxy of docs/deploy.md does: a
//! connection whose first request is for the live-update stream (`/api/v1/events`) goes
//! to an events (ASGI) process, any other to a web (WSGI) process, each kind in turn.
//! Routing is per connection, which matches what the processes do: gunicorn's sync
//! workers close every connection after one answer, and a connection that went to an
//! events process may stay there (uvicorn serves the whole API too).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

pub struct Router {
    pub url: String,
    /// While set, every connection is closed at once: the server looks unreachable.
    pub offline: Arc<AtomicBool>,
    /// Milliseconds each connection waits before its request goes on: a network's round
    /// trip (gunicorn's sync workers take one request per connection, so each pays it).
    pub delay_ms: Arc<AtomicU64>,
    task: JoinHandle<()>,
}

impl Drop for Router {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// `host:port` of a base URL such as `http://127.0.0.1:5000`.
pub fn authority(url: &str) -> String {
    url.trim_end_matches('/')
        .rsplit("://")
        .next()
        .unwrap_or(url)
        .to_string()
}

impl Router {
    pub async fn start(web: &[String], events: &[String]) -> std::io::Result<Router> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}", listener.local_addr()?);
        let web: Arc<Vec<String>> = Arc::new(web.iter().map(|u| authority(u)).collect());
        let events: Arc<Vec<String>> = Arc::new(events.iter().map(|u| authority(u)).collect());
        let turn = Arc::new(AtomicUsize::new(0));
        let offline = Arc::new(AtomicBool::new(false));
        let cut = Arc::clone(&offline);
        let delay_ms = Arc::new(AtomicU64::new(0));
        let delay = Arc::clone(&delay_ms);
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                if cut.load(Ordering::SeqCst) {
                    drop(client);
                    continue;
                }
                let (web, events, turn) =
                    (Arc::clone(&web), Arc::clone(&events), Arc::clone(&turn));
                let wait = Duration::from_millis(delay.load(Ordering::Relaxed));
                tokio::spawn(async move {
                    tokio::time::sleep(wait).await;
                    let _ = forward(client, &web, &events, &turn).await;
                });
            }
        });
        Ok(Router {
            url,
            offline,
            delay_ms,
            task,
        })
    }
}

async fn forward(
    mut client: TcpStream,
    web: &[String],
    events: &[String],
    turn: &AtomicUsize,
) -> std::io::Result<()> {
    // Read up to the end of the request line; the rest is copied as it comes.
    let mut head = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    while !head.windows(2).any(|w| w == b"\r\n") {
        let read = client.read(&mut chunk).await?;
        if read == 0 {
            return Ok(());
        }
        head.extend_from_slice(&chunk[..read]);
        if head.len() > 16 * 1024 {
            return Ok(());
        }
    }
    let line = String::from_utf8_lossy(&head);
    let path = line.split_whitespace().nth(1).unwrap_or("/");
    let pool = if path.starts_with("/api/v1/events") && !events.is_empty() {
        events
    } else {
        web
    };
    let upstream = &pool[turn.fetch_add(1, Ordering::Relaxed) % pool.len()];
    let mut server = TcpStream::connect(upstream).await?;
    server.write_all(&head).await?;
    tokio::io::copy_bidirectional(&mut client, &mut server).await?;
    Ok(())
}
