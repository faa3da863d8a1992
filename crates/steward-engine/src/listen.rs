//! The live-update listener: follows the server's event stream and wakes the worker when
//! a collection moved past what the cache holds.

use std::sync::Arc;
use std::time::Duration;

use rand::Rng;
use steward_core::push::backoff_delay;

use crate::active::Active;
use crate::session::SessionError;
use crate::sync::{BACKOFF_BASE, BACKOFF_CAP};

enum ListenError {
    /// The server has no live-update stream.
    Unsupported,
    /// The connection failed or dropped; try again after a backoff.
    Failed,
}

impl Active {
    /// Listens to the server's live-update stream and wakes the worker when a collection
    /// moved past what the cache holds. Pokes only: the delta feeds stay the truth, and
    /// without a stream (an older server, a proxy that buffers) polling carries on alone.
    pub(crate) async fn listen(self: Arc<Self>) {
        let mut failures: u32 = 0;
        loop {
            let delay = match self.listen_once().await {
                Ok(retry) => {
                    failures = 0;
                    retry
                }
                Err(ListenError::Unsupported) => {
                    tracing::info!("the server offers no live updates; polling only");
                    return;
                }
                Err(ListenError::Failed) => {
                    failures = failures.saturating_add(1);
                    let jitter: f64 = rand::rng().random();
                    backoff_delay(failures, BACKOFF_BASE, BACKOFF_CAP, jitter)
                        .max(Duration::from_secs(1))
                }
            };
            tokio::time::sleep(delay).await;
        }
    }

    /// One connection of the stream. Returns how long to wait before reconnecting.
    async fn listen_once(&self) -> Result<Duration, ListenError> {
        if self.expired.lock().await.is_some() {
            return Err(ListenError::Failed);
        }
        let client = &self.session.client;
        let mut stream = match self
            .session
            .authorized(|access| async move { client.open_events(&access).await })
            .await
        {
            Ok(stream) => stream,
            Err(SessionError::Client(error)) if error.status() == Some(404) => {
                return Err(ListenError::Unsupported);
            }
            Err(_) => return Err(ListenError::Failed),
        };
        let mut parser = steward_core::sse::SseParser::new();
        loop {
            // Keep-alives come every 15 s; silence past 45 s means a dead connection.
            let chunk =
                match tokio::time::timeout(Duration::from_secs(45), stream.next_chunk()).await {
                    Ok(Ok(Some(chunk))) => chunk,
                    Ok(Ok(None)) => break,
                    Ok(Err(_)) | Err(_) => return Err(ListenError::Failed),
                };
            for event in parser.feed(&chunk) {
                if event.event == "changed" && self.is_news(&event.data).await {
                    self.wake.notify_one();
                }
            }
        }
        Ok(Duration::from_millis(parser.retry_ms.unwrap_or(5000)))
    }

    /// Whether a poke names a cursor the cache has not reached.
    async fn is_news(&self, data: &str) -> bool {
        #[derive(serde::Deserialize)]
        struct Poke {
            collection: String,
            cursor: Option<String>,
        }
        let Ok(poke) = serde_json::from_str::<Poke>(data) else {
            return false;
        };
        match poke.collection.as_str() {
            // Queues and templates are pulled whole every round; items carry their changes.
            "queues" | "reason_templates" => false,
            collection => match (poke.cursor, self.store.cursor(collection).await) {
                (None, _) => false,
                (Some(theirs), Ok(Some(ours))) => theirs != ours,
                (Some(_), _) => true,
            },
        }
    }
}
