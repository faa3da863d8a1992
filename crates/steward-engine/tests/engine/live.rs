//! Live updates: a change made by someone else reaches the cache through the server's
//! event stream, without waiting for the next poll.

use std::time::{Duration, Instant};

use steward_core::DecisionAction;

use crate::server::TestServer;
use crate::{TestResult, fullest_queue, signed_in_with};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_moderators_decision_arrives_through_the_event_stream() -> TestResult {
    let server = TestServer::start_asgi(20);
    // Polling is effectively off: only the stream can bring the change in time.
    let (engine, _data) = signed_in_with(&server.url, "moderator", |config| {
        config.poll_interval = Duration::from_secs(3600);
    })
    .await?;
    let (queue, mut items) = fullest_queue(&engine).await?;
    let item = items.remove(0);
    // Let the listener connect and see the current cursors.
    tokio::time::sleep(Duration::from_secs(1)).await;

    let admin = server.admin_token().await;
    let response = reqwest::Client::new()
        .post(format!("{}/api/v1/items/{}/decisions", server.url, item.id))
        .bearer_auth(&admin)
        .json(&serde_json::json!({"action": DecisionAction::Remove.as_str(), "base_version": item.version}))
        .send()
        .await?;
    assert_eq!(response.status(), 201);

    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let open = engine.list_queue_items(queue.id).await?;
        if open.iter().all(|i| i.id != item.id) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the change never arrived; server log:\n{}",
            server.log()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        engine.get_item(item.id).await?.summary.state,
        steward_core::ItemState::Removed
    );
    Ok(())
}
