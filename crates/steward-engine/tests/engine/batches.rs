//! The outbox drains through `POST /mutations`, a batch at a time: decisions made offline
//! reach the server in a few requests, each exactly once, and one row the server refuses
//! holds back only itself.

use std::time::Duration;

use steward_core::{AppError, DecisionAction, ItemSort, ItemState};
use steward_engine::Engine;

use crate::proxy::CorruptingProxy;
use crate::server::{PASSWORD, TestServer, decide_events};
use crate::{TestResult, fullest_queue, keychain_service, open_engine_with, wait_for_status};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn decisions_made_offline_go_out_in_batches_and_a_conflict_holds_back_only_itself()
-> TestResult {
    let mut server = TestServer::start(400);
    let proxy = CorruptingProxy::start(port_of(&server.url)).await;
    let data = tempfile::tempdir()?;
    // No polling: the engine learns nothing from the server until it is told to sync.
    let engine = open_engine_with(data.path(), &keychain_service(), |config| {
        config.poll_interval = Duration::from_secs(3600);
    })
    .await;
    engine.sign_in(&proxy.url, "moderator", PASSWORD).await?;
    engine.sync_now().await?;
    let (queue, items) = fullest_queue(&engine).await?;
    let ids: Vec<i64> = items.iter().map(|item| item.id).take(150).collect();
    assert!(
        ids.len() >= 120,
        "the seed gives one queue enough items: {queue:?}"
    );
    let removed_before = removed_count(&engine, queue.id).await?;

    // Another moderator approves one of them first; this engine has not heard of it.
    let admin = server.admin_token().await;
    let contested = ids[7];
    let current = server.get(&admin, &format!("items/{contested}")).await;
    let answer = reqwest::Client::new()
        .post(format!("{}/api/v1/items/{contested}/decisions", server.url))
        .bearer_auth(&admin)
        .json(&serde_json::json!({
            "action": "approve", "reason_code": "", "note": "",
            "base_version": current["version"],
        }))
        .send()
        .await?;
    assert_eq!(answer.status(), 201);

    server.stop();
    let outcome = engine
        .decide_items(&ids, DecisionAction::Remove, Some("spam".into()), None)
        .await?;
    assert_eq!(outcome.queued.len(), ids.len());
    wait_for_status(&engine, "offline", |s| {
        !s.online && s.pending == ids.len() as i64
    })
    .await;
    let before = proxy.requests().len();

    server.resume();
    engine.sync_now().await?;
    let status = wait_for_status(&engine, "the outbox to drain", |s| s.pending == 0).await;
    assert_eq!(status.conflicts, 1, "{status:?}");

    let pushes: Vec<String> = proxy.requests()[before..]
        .iter()
        .filter(|line| !line.starts_with("GET "))
        .cloned()
        .collect();
    assert!(
        pushes
            .iter()
            .all(|line| line.starts_with("POST /api/v1/mutations ")),
        "every action went out in a batch: {pushes:?}"
    );
    assert!(
        pushes.len() <= ids.len().div_ceil(steward_client::MAX_BATCH) + 1,
        "{} decisions took {} requests: {pushes:?}",
        ids.len(),
        pushes.len()
    );

    // On the server: each decision exactly once, the contested item as the other
    // moderator left it.
    let decided = server
        .get(&admin, "audit?action=item.decide&limit=500")
        .await;
    let events = decided["results"].as_array().unwrap();
    for &id in &ids {
        let on_item: Vec<_> = events
            .iter()
            .filter(|event| event["target_id"].to_string().trim_matches('"') == id.to_string())
            .collect();
        assert_eq!(on_item.len(), 1, "item {id}: {on_item:?}");
        let expected = if id == contested { "approve" } else { "remove" };
        assert_eq!(on_item[0]["data"]["action"], expected, "item {id}");
    }
    let conflicts = engine.list_conflicts().await?;
    assert_eq!(conflicts.len(), 1);
    assert_eq!(conflicts[0].item_id, contested);
    let removed = removed_count(&engine, queue.id).await?;
    assert_eq!(removed, removed_before + ids.len() as i64 - 1);
    Ok(())
}

async fn removed_count(engine: &Engine, queue_id: i64) -> Result<i64, AppError> {
    let page = engine
        .list_items(queue_id, ItemState::Removed, ItemSort::OldestFirst, 0, 1)
        .await?;
    Ok(page.total)
}

fn port_of(url: &str) -> u16 {
    url.rsplit(':').next().unwrap().parse().unwrap()
}

/// The server forgets an applied action's idempotency key after its retention (here a
/// few seconds; 30 days by default). An action queued longer ago may have been applied
/// and forgotten, so resending it could apply it twice: it is refused with the reason,
/// and never sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_action_queued_longer_ago_than_the_server_remembers_is_refused_not_resent() -> TestResult
{
    let mut server = TestServer::start_with(20, &[("STEWARD_IDEMPOTENCY_RETENTION_SECONDS", "3")]);
    let (engine, _data) = crate::signed_in(&server.url, "moderator").await?;
    let (_queue, items) = fullest_queue(&engine).await?;
    let (old, fresh) = (items[0].id, items[1].id);

    server.stop();
    engine
        .decide_item(old, DecisionAction::Remove, Some("spam".into()), None)
        .await?;
    wait_for_status(&engine, "offline", |s| !s.online && s.pending == 1).await;
    tokio::time::sleep(Duration::from_secs(4)).await;
    server.resume();
    engine
        .decide_item(fresh, DecisionAction::Approve, None, None)
        .await?;
    engine.sync_now().await?;
    let status = wait_for_status(&engine, "the outbox to settle", |s| {
        s.pending == 0 && s.online
    })
    .await;
    assert_eq!(status.refused, 1, "{status:?}");

    let refused = engine.list_refused().await?;
    assert_eq!(refused.len(), 1);
    assert_eq!(refused[0].target_id, old);
    assert!(
        refused[0].message.contains("may have been applied already"),
        "{}",
        refused[0].message
    );
    let admin = server.admin_token().await;
    assert!(decide_events(&server, &admin, old).await.is_empty());
    assert_eq!(decide_events(&server, &admin, fresh).await.len(), 1);
    let item = engine.get_item(old).await?;
    assert_eq!(
        item.summary.state,
        ItemState::Open,
        "the optimistic removal was rolled back"
    );
    Ok(())
}
