//! Many light clients (the client crate alone, no cache): each holds the live-update
//! stream open and reads and writes as an idle-to-busy staff member's app does. Measures
//! the server: requests per second, p50 and p95 per endpoint, database connections.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use rand::Rng;
use serde_json::{Value, json};
use steward_bench::stack::{BoxError, Stack, percentile};
use steward_client::Client;
use steward_client::wire::MutationOperation;

pub struct Settings {
    pub clients: usize,
    pub duration: Duration,
    /// The pause between one client's requests: uniform in this range, in milliseconds.
    pub think_ms: (u64, u64),
}

#[derive(Default)]
struct Timings {
    by_endpoint: BTreeMap<&'static str, Vec<f64>>,
    errors: BTreeMap<&'static str, usize>,
}

pub async fn run(
    stack: &Stack,
    front: &str,
    users: &[String],
    settings: &Settings,
) -> Result<Value, BoxError> {
    let tokens = stack.sessions(users, settings.clients)?;
    let pokes = Arc::new(AtomicUsize::new(0));
    let streams_open = Arc::new(AtomicUsize::new(0));
    let sampler = stack.sample_connections()?;
    let started = Instant::now();
    let mut joins = Vec::new();
    for token in tokens {
        let client = Client::new(front)?;
        let (pokes, streams_open) = (Arc::clone(&pokes), Arc::clone(&streams_open));
        let (duration, think) = (settings.duration, settings.think_ms);
        joins.push(tokio::spawn(async move {
            one_client(client, token, duration, think, pokes, streams_open).await
        }));
    }
    let mut all = Timings::default();
    for join in joins {
        let timings = join.await?;
        for (endpoint, mut ms) in timings.by_endpoint {
            all.by_endpoint.entry(endpoint).or_default().append(&mut ms);
        }
        for (endpoint, count) in timings.errors {
            *all.errors.entry(endpoint).or_default() += count;
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    let connections = sampler.stop()?;
    let mut endpoints = serde_json::Map::new();
    let mut total = 0;
    for (endpoint, ms) in &mut all.by_endpoint {
        ms.sort_by(f64::total_cmp);
        total += ms.len();
        endpoints.insert(
            endpoint.to_string(),
            json!({
                "requests": ms.len(),
                "errors": all.errors.get(endpoint).copied().unwrap_or(0),
                "p50_ms": round(percentile(ms, 50.0)),
                "p95_ms": round(percentile(ms, 95.0)),
            }),
        );
    }
    Ok(json!({
        "clients": settings.clients,
        "seconds": round(elapsed),
        "requests": total,
        "requests_per_second": round(total as f64 / elapsed),
        "errors": all.errors.values().sum::<usize>(),
        "streams_held_at_end": streams_open.load(Ordering::SeqCst),
        "pokes_received": pokes.load(Ordering::SeqCst),
        "endpoints": endpoints,
        "database_connections": connections,
    }))
}

async fn one_client(
    client: Client,
    token: String,
    duration: Duration,
    think_ms: (u64, u64),
    pokes: Arc<AtomicUsize>,
    streams_open: Arc<AtomicUsize>,
) -> Timings {
    let mut timings = Timings::default();
    let deadline = Instant::now() + duration;
    let stream = {
        let (client, token) = (client.clone(), token.clone());
        tokio::spawn(async move { hold_stream(client, token, deadline, pokes, streams_open).await })
    };
    let mut cursor: Option<String> = None;
    let mut open_items: Vec<i64> = Vec::new();
    while Instant::now() < deadline {
        let (pause, roll, pick) = {
            let mut rng = rand::rng();
            (
                Duration::from_millis(rng.random_range(think_ms.0..=think_ms.1)),
                rng.random_range(0..100),
                rng.random_range(0..usize::MAX),
            )
        };
        tokio::time::sleep(pause).await;
        let began = Instant::now();
        let (endpoint, ok) = match roll {
            0..40 => {
                let page = client
                    .feed_page::<Value>(&token, "items", "updated_after", cursor.as_deref(), 100)
                    .await;
                if let Ok(page) = &page {
                    for item in &page.results {
                        if item["state"] == "open" {
                            open_items.push(item["id"].as_i64().unwrap_or(0));
                        }
                    }
                    open_items.truncate(500);
                    if page.next_cursor.is_some() {
                        cursor.clone_from(&page.next_cursor);
                    }
                }
                ("GET items (feed page)", answered(&page))
            }
            40..65 => ("GET queues", answered(&client.queues(&token).await)),
            65..80 => ("GET me", answered(&client.me(&token).await)),
            80..90 => (
                "GET reason-templates",
                answered(&client.reason_templates(&token).await),
            ),
            _ if !open_items.is_empty() => {
                // Open an item and close it again: a claim and its release, two writes
                // that poke every stream.
                let item = open_items[pick % open_items.len()];
                let keys = [
                    uuid::Uuid::new_v4().to_string(),
                    uuid::Uuid::new_v4().to_string(),
                ];
                let no_args = json!({});
                let operations = [
                    MutationOperation {
                        idempotency_key: &keys[0],
                        op: "claim_item",
                        target_id: item,
                        args: &no_args,
                    },
                    MutationOperation {
                        idempotency_key: &keys[1],
                        op: "release_item",
                        target_id: item,
                        args: &no_args,
                    },
                ];
                (
                    "POST mutations (claim, release)",
                    answered(&client.push_batch(&token, &operations).await),
                )
            }
            _ => ("GET queues", answered(&client.queues(&token).await)),
        };
        let ms = began.elapsed().as_secs_f64() * 1000.0;
        timings.by_endpoint.entry(endpoint).or_default().push(ms);
        if !ok {
            *timings.errors.entry(endpoint).or_default() += 1;
        }
    }
    let _ = stream.await;
    timings
}

/// The server answered in the API's terms (an API error such as 409 counts as answered;
/// a 5xx, a malformed body or no answer does not).
fn answered<T>(result: &Result<T, steward_client::ClientError>) -> bool {
    match result {
        Ok(_) => true,
        Err(steward_client::ClientError::Api { status, .. }) => *status < 500,
        Err(_) => false,
    }
}

async fn hold_stream(
    client: Client,
    token: String,
    deadline: Instant,
    pokes: Arc<AtomicUsize>,
    streams_open: Arc<AtomicUsize>,
) {
    while Instant::now() < deadline {
        let Ok(mut stream) = client.open_events(&token).await else {
            tokio::time::sleep(Duration::from_secs(1)).await;
            continue;
        };
        streams_open.fetch_add(1, Ordering::SeqCst);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match tokio::time::timeout(left, stream.next_chunk()).await {
                Ok(Ok(Some(chunk))) => {
                    let text = String::from_utf8_lossy(&chunk);
                    pokes.fetch_add(text.matches("event: changed").count(), Ordering::Relaxed);
                }
                // Ended by the server (its lifetime) or broken: open it again.
                Ok(_) => {
                    streams_open.fetch_sub(1, Ordering::SeqCst);
                    break;
                }
                // The run is over with the stream still open.
                Err(_) => return,
            }
        }
    }
}

fn round(value: f64) -> f64 {
    (value * 100.0).round() / 100.0
}
