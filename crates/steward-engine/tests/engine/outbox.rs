//! The outbox against the real server: undo, conflicts between two engines, claims,
//! token expiry in the middle of a push, and a SIGKILL in the middle of a push.

use std::process::Command;
use std::time::{Duration, Instant};

use steward_core::{ConflictResolution, DecisionAction, ErrorCode, ItemState};
use steward_engine::EngineEvent;

use crate::server::{PASSWORD, TestServer, decide_events};
use crate::{
    TestResult, fullest_queue, keychain_service, open_engine, open_engine_with, secret_tool_lookup,
    signed_in, signed_in_with, wait_for_status,
};

/// Opening the next item claims it on the server at once, while the decision on the
/// item before still waits out its undo window: other moderators' lists skip it now,
/// not five seconds later.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_claim_goes_out_while_the_previous_decision_waits_for_its_undo_window() -> TestResult {
    let server = TestServer::start(10);
    let (engine, _data) = signed_in_with(&server.url, "moderator", |config| {
        config.undo_window = Duration::from_secs(4);
    })
    .await?;
    let (_queue, items) = fullest_queue(&engine).await?;
    let (decided, next) = (items[0].id, items[1].id);
    let admin = server.admin_token().await;

    engine
        .decide_item(decided, DecisionAction::Remove, None, None)
        .await?;
    engine.claim_item(next).await?;
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let on_server = server.get(&admin, &format!("items/{next}")).await;
        if on_server["claim"]["user"]["username"] == "moderator" {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the claim never reached the server"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let previous = server.get(&admin, &format!("items/{decided}")).await;
    assert_eq!(
        previous["state"], "open",
        "the claim waited for the decision's undo window"
    );
    assert_eq!(
        engine.undo_last().await?.item_ids,
        vec![decided],
        "still undoable"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bulk_decision_can_be_undone_until_it_is_sent() -> TestResult {
    let server = TestServer::start(30);
    let (engine, _data) = signed_in_with(&server.url, "moderator", |config| {
        config.undo_window = Duration::from_secs(3);
    })
    .await?;
    let (queue, open) = fullest_queue(&engine).await?;
    let ids: Vec<i64> = open.iter().take(3).map(|i| i.id).collect();

    let outcome = engine
        .decide_items(&ids, DecisionAction::Remove, Some("spam".into()), None)
        .await?;
    assert_eq!(outcome.queued.len(), 3);
    assert!(outcome.skipped.is_empty());
    let page = engine
        .list_items(
            queue.id,
            ItemState::Removed,
            steward_core::ItemSort::OldestFirst,
            0,
            50,
        )
        .await?;
    assert_eq!(page.total, 3, "the removals show at once");

    let tray = engine.tray_summary().await;
    assert_eq!(
        tray[0], "3 actions waiting to sync",
        "the tray shows what waits: {tray:?}"
    );

    let undone = engine.undo_last().await?;
    assert_eq!(undone.item_ids, ids);
    assert_eq!(
        engine.list_queue_items(queue.id).await?.len(),
        open.len(),
        "all three are back"
    );
    assert_eq!(engine.sync_status().await.pending, 0);

    // A decision that was sent cannot be undone any more.
    engine
        .decide_item(ids[0], DecisionAction::Approve, None, None)
        .await?;
    wait_for_status(&engine, "the push after the undo window", |s| {
        s.pending == 0
    })
    .await;
    let error = engine.undo_last().await.unwrap_err();
    assert_eq!(error.code, ErrorCode::InvalidInput, "{error:?}");

    let admin = server.admin_token().await;
    assert_eq!(decide_events(&server, &admin, ids[0]).await.len(), 1);
    for id in &ids[1..] {
        assert_eq!(
            decide_events(&server, &admin, *id).await,
            Vec::<serde_json::Value>::new(),
            "undone: never sent"
        );
    }
    Ok(())
}

/// Two engines on one server: A (moderator) pushes at once; B (admin) waits out an undo
/// window before each decision leaves, so A's reaches the server first, whatever B's
/// live updates bring in meanwhile. Both are synced; `item` is open in both caches.
struct Pair {
    a: std::sync::Arc<steward_engine::Engine>,
    b: std::sync::Arc<steward_engine::Engine>,
    item: steward_core::ItemSummary,
    _dirs: (tempfile::TempDir, tempfile::TempDir),
}

impl Pair {
    async fn signed_in(server: &TestServer) -> Result<Pair, Box<dyn std::error::Error>> {
        let (data_a, data_b) = (tempfile::tempdir()?, tempfile::tempdir()?);
        let a = open_engine(data_a.path(), &keychain_service()).await;
        let b = open_engine_with(data_b.path(), &keychain_service(), |config| {
            config.undo_window = Duration::from_secs(3);
        })
        .await;
        a.sign_in(&server.url, "moderator", PASSWORD).await?;
        b.sign_in(&server.url, "admin", PASSWORD).await?;
        a.sync_now().await?;
        b.sync_now().await?;
        let item = fullest_queue(&a).await?.1.remove(0);
        Ok(Pair {
            a,
            b,
            item,
            _dirs: (data_a, data_b),
        })
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_engines_deciding_one_item_give_one_winner_and_one_conflict() -> TestResult {
    let server = TestServer::start(20);
    let Pair { a, b, item, _dirs } = Pair::signed_in(&server).await?;

    // B decides on the version it saw; A decides too, and is pushed at once: the server
    // must refuse B's decision when it arrives.
    b.decide_item(item.id, DecisionAction::Remove, Some("spam".into()), None)
        .await?;
    a.decide_item(item.id, DecisionAction::Approve, None, None)
        .await?;
    wait_for_status(&a, "A's push", |s| s.pending == 0).await;
    let status = wait_for_status(&b, "B's conflict", |s| s.pending == 0 && s.conflicts == 1).await;
    assert!(
        status.last_error.is_none(),
        "a conflict is not a sync error: {status:?}"
    );
    let conflicts = b.list_conflicts().await?;
    assert_eq!(conflicts.len(), 1);
    assert_eq!(conflicts[0].item_id, item.id);
    assert_eq!(conflicts[0].my_action, DecisionAction::Remove);
    assert_eq!(
        conflicts[0].server_state,
        ItemState::Approved,
        "B sees the server's state"
    );
    assert!(conflicts[0].server_version > conflicts[0].my_base_version);

    // Deciding again on an item that is no longer open is refused locally, clearly.
    let again = ConflictResolution::DecideAgain {
        action: DecisionAction::Remove,
        reason_code: None,
        note: None,
    };
    let error = b
        .resolve_conflict(conflicts[0].outbox_id, again)
        .await
        .unwrap_err();
    assert_eq!(error.code, ErrorCode::Conflict, "{error:?}");
    assert!(error.message.contains("approved"), "{}", error.message);
    // The refusal left the conflict in place; dropping it keeps the server's state.
    assert_eq!(b.list_conflicts().await?.len(), 1);
    b.resolve_conflict(conflicts[0].outbox_id, ConflictResolution::Drop)
        .await?;
    assert_eq!(b.list_conflicts().await?, vec![]);

    let admin = server.admin_token().await;
    let events = decide_events(&server, &admin, item.id).await;
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["data"]["action"], "approve");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_conflict_leaves_the_server_state() -> TestResult {
    let server = TestServer::start(20);
    let Pair { a, b, item, _dirs } = Pair::signed_in(&server).await?;
    b.decide_item(item.id, DecisionAction::Ignore, None, None)
        .await?;
    a.decide_item(item.id, DecisionAction::Escalate, None, None)
        .await?;
    wait_for_status(&a, "A's push", |s| s.pending == 0).await;
    wait_for_status(&b, "B's conflict", |s| s.conflicts == 1).await;
    let conflict = b.list_conflicts().await?.remove(0);
    b.resolve_conflict(conflict.outbox_id, ConflictResolution::Drop)
        .await?;
    assert_eq!(b.sync_status().await.conflicts, 0);
    assert_eq!(
        b.get_item(item.id).await?.summary.state,
        ItemState::Escalated
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_claimant_is_refused_with_the_holder_named() -> TestResult {
    let server = TestServer::start(20);
    let Pair { a, b, item, _dirs } = Pair::signed_in(&server).await?;

    a.claim_item(item.id).await?;
    assert!(
        a.get_item(item.id).await?.claimed_by_me,
        "the claim shows at once"
    );
    wait_for_status(&a, "A's claim", |s| s.pending == 0).await;
    let admin = server.admin_token().await;
    let on_server = server.get(&admin, &format!("items/{}", item.id)).await;
    assert_eq!(on_server["claim"]["user"]["username"], "moderator");

    let mut events = b.subscribe();
    b.claim_item(item.id).await?;
    let refused = tokio::time::timeout(Duration::from_secs(30), async {
        loop {
            if let Ok(EngineEvent::ActionRefused {
                error,
                kind,
                target_id,
            }) = events.recv().await
            {
                assert_eq!((kind.as_str(), target_id), ("claim_item", item.id));
                return error;
            }
        }
    })
    .await?;
    assert!(refused.message.contains("moderator"), "{refused:?}");
    wait_for_status(&b, "B's claim settled", |s| s.pending == 0).await;
    let seen_by_b = b.get_item(item.id).await?;
    assert!(!seen_by_b.claimed_by_me);
    assert_eq!(
        seen_by_b.claim.map(|c| c.username).as_deref(),
        Some("moderator")
    );

    a.release_item(item.id).await?;
    wait_for_status(&a, "A's release", |s| s.pending == 0).await;
    let on_server = server.get(&admin, &format!("items/{}", item.id)).await;
    assert!(on_server["claim"].is_null(), "{on_server}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_access_token_expiring_before_a_push_is_refreshed_transparently() -> TestResult {
    let server = TestServer::start_with(20, &[("STEWARD_ACCESS_TOKEN_TTL", "1")]);
    let data = tempfile::tempdir()?;
    let service = keychain_service();
    let engine = open_engine(data.path(), &service).await;
    engine.sign_in(&server.url, "moderator", PASSWORD).await?;
    engine.sync_now().await?;
    let user = format!("default:moderator@{}", server.url);
    let first_refresh = secret_tool_lookup(&service, &user).unwrap();
    let (_, mut items) = fullest_queue(&engine).await?;
    let item = items.remove(0);

    tokio::time::sleep(Duration::from_millis(1500)).await;
    engine
        .decide_item(item.id, DecisionAction::Remove, None, None)
        .await?;
    let status = wait_for_status(&engine, "the push", |s| s.pending == 0).await;
    assert!(status.last_error.is_none(), "{status:?}");
    let rotated = secret_tool_lookup(&service, &user).unwrap();
    assert_ne!(
        rotated, first_refresh,
        "the rotated refresh token replaced the old one"
    );
    let admin = server.admin_token().await;
    assert_eq!(decide_events(&server, &admin, item.id).await.len(), 1);
    Ok(())
}

/// Decides many items in a child process, kills it with SIGKILL while it pushes, then
/// lets a fresh engine on the same files finish: each decision is applied exactly once.
#[test]
fn a_sigkill_in_the_middle_of_a_push_applies_every_decision_exactly_once() -> TestResult {
    let server = TestServer::start(150);
    let data = tempfile::tempdir()?;
    let service = keychain_service();
    let mut child = Command::new(std::env::current_exe()?)
        .args([
            "--exact",
            "outbox::kill_child",
            "--nocapture",
            "--test-threads",
            "1",
        ])
        .env("STEWARD_KILL_SERVER", &server.url)
        .env("STEWARD_KILL_DATA", data.path())
        .env("STEWARD_KILL_SERVICE", &service)
        .stdout(std::process::Stdio::null())
        .spawn()?;
    let decided_file = data.path().join("decided.txt");
    let runtime = tokio::runtime::Runtime::new()?;
    let admin = runtime.block_on(server.admin_token());
    // Kill as soon as the first decisions reach the server, while the rest are in flight.
    let deadline = Instant::now() + Duration::from_secs(120);
    let ids: Vec<i64> = loop {
        assert!(Instant::now() < deadline, "the child never started pushing");
        if let Ok(text) = std::fs::read_to_string(&decided_file)
            && text.ends_with('\n')
        {
            let ids: Vec<i64> = text
                .split_whitespace()
                .map(|id| id.parse().unwrap())
                .collect();
            let applied =
                runtime.block_on(server.get(&admin, "audit?action=item.decide&limit=500"));
            if !applied["results"].as_array().unwrap().is_empty() {
                child.kill()?;
                child.wait()?;
                break ids;
            }
        }
        assert!(
            child.try_wait()?.is_none(),
            "the child ended before it was killed"
        );
        std::thread::sleep(Duration::from_millis(5));
    };
    let applied_at_kill = runtime
        .block_on(server.get(&admin, "audit?action=item.decide&limit=500"))["results"]
        .as_array()
        .unwrap()
        .len();
    assert!(
        applied_at_kill < ids.len(),
        "the kill came after every push ({applied_at_kill} of {})",
        ids.len()
    );

    runtime.block_on(async {
        let engine = open_engine(data.path(), &service).await;
        assert!(
            engine.app_state().await.session.is_some(),
            "the session comes back from the keychain"
        );
        engine.sync_now().await?;
        wait_for_status(&engine, "the rest of the outbox", |s| s.pending == 0).await;
        for id in &ids {
            let events = decide_events(&server, &admin, *id).await;
            assert_eq!(events.len(), 1, "item {id}: {events:?}");
        }
        Ok(())
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_child() -> TestResult {
    let (Ok(url), Ok(data), Ok(service)) = (
        std::env::var("STEWARD_KILL_SERVER"),
        std::env::var("STEWARD_KILL_DATA"),
        std::env::var("STEWARD_KILL_SERVICE"),
    ) else {
        // Only meaningful as the child of the test above.
        return Ok(());
    };
    let data = std::path::PathBuf::from(data);
    // A long undo window keeps every row queued until all are written; then push.
    let engine = open_engine_with(&data, &service, |config| {
        config.undo_window = Duration::from_secs(2);
        config.poll_interval = Duration::from_secs(3600);
    })
    .await;
    engine.sign_in(&url, "moderator", PASSWORD).await?;
    engine.sync_now().await?;
    let mut ids = Vec::new();
    for queue in engine.list_queues().await? {
        let items: Vec<i64> = engine
            .list_queue_items(queue.id)
            .await?
            .iter()
            .map(|i| i.id)
            .collect();
        let outcome = engine
            .decide_items(&items, DecisionAction::Remove, Some("spam".into()), None)
            .await?;
        ids.extend(outcome.queued.iter().map(|i| i.id));
    }
    let listed: String = ids.iter().map(|id| format!("{id} ")).collect();
    std::fs::write(data.join("decided.txt"), format!("{}\n", listed.trim_end()))?;
    loop {
        engine.sync_now().await?;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A note longer than the server takes is refused while the moderator still has it in
/// front of them, before anything is queued; one at the limit (counted in characters, not
/// bytes) goes through and reaches the server whole.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_note_the_server_would_refuse_is_refused_before_it_is_queued() -> TestResult {
    let server = TestServer::start(6);
    let (engine, _data) = signed_in(&server.url, "moderator").await?;
    let (_, mut items) = fullest_queue(&engine).await?;
    let item = items.remove(0);

    let too_long = "é".repeat(4001);
    let error = engine
        .decide_item(item.id, DecisionAction::Remove, None, Some(too_long))
        .await
        .unwrap_err();
    assert_eq!(error.code, ErrorCode::InvalidInput, "{error:?}");
    assert!(error.message.contains("4000"), "{}", error.message);
    assert_eq!(engine.sync_status().await.pending, 0, "nothing was queued");

    let at_limit = "é".repeat(4000);
    engine
        .decide_item(
            item.id,
            DecisionAction::Remove,
            None,
            Some(at_limit.clone()),
        )
        .await?;
    wait_for_status(&engine, "the push", |s| s.pending == 0 && s.refused == 0).await;
    let admin = server.admin_token().await;
    let events = decide_events(&server, &admin, item.id).await;
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["data"]["note"].as_str(), Some(at_limit.as_str()));
    Ok(())
}
