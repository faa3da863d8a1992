//! Signing out and changing servers never destroy or misroute unsent work; roles
//! follow the server without signing out.

use std::time::Duration;

use steward_core::{DecisionAction, ErrorCode, SignOutMode};
use steward_engine::EngineEvent;

use crate::profiles::caches_of;
use crate::server::{PASSWORD, TestServer, decide_events};
use crate::{TestResult, fullest_queue, keychain_service, open_engine, signed_in, wait_for_status};

/// Decisions made offline survive a sign-out attempt: the engine refuses to sign out
/// silently, "send first" fails while the server is gone (still signed in, nothing
/// lost), and once it is back sends each decision exactly once, gives back the user's
/// claims and only then signs out and wipes the cache.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_out_offers_to_send_unsent_decisions_and_sends_each_once() -> TestResult {
    let mut server = TestServer::start(12);
    let (engine, data) = signed_in(&server.url, "moderator").await?;
    let (_queue, items) = fullest_queue(&engine).await?;
    let held = items[2].id;
    engine.claim_item(held).await?;
    wait_for_status(&engine, "the claim", |s| s.pending == 0).await;
    let admin = server.admin_token().await;
    let claimed = server.get(&admin, &format!("items/{held}")).await;
    assert_eq!(
        claimed["claim"]["user"]["username"], "moderator",
        "{claimed}"
    );

    server.stop();
    for item in &items[..2] {
        engine
            .decide_item(item.id, DecisionAction::Remove, None, None)
            .await?;
    }
    wait_for_status(&engine, "offline", |s| !s.online && s.pending == 2).await;

    let refused = engine
        .sign_out(SignOutMode::IfNothingUnsent)
        .await
        .unwrap_err();
    assert_eq!(refused.code, ErrorCode::UnsentWork, "{refused:?}");
    assert!(
        refused.message.contains("2 decisions"),
        "{}",
        refused.message
    );
    let offline = engine.sign_out(SignOutMode::SendFirst).await.unwrap_err();
    assert_eq!(offline.code, ErrorCode::ServerUnreachable, "{offline:?}");
    assert!(
        offline.message.contains("still signed in"),
        "{}",
        offline.message
    );
    assert!(engine.app_state().await.session.is_some());
    assert_eq!(engine.unsent_work().await?.decisions, 2);

    server.resume();
    engine.sign_out(SignOutMode::SendFirst).await?;
    assert!(engine.app_state().await.session.is_none());
    assert_eq!(caches_of(data.path(), "default-"), Vec::<String>::new());
    let admin = server.admin_token().await;
    for item in &items[..2] {
        let events = decide_events(&server, &admin, item.id).await;
        assert_eq!(events.len(), 1, "decided exactly once: {events:?}");
        assert_eq!(events[0]["data"]["action"], "remove");
    }
    let released = server.get(&admin, &format!("items/{held}")).await;
    assert!(
        released["claim"].is_null(),
        "the claim was given back: {released}"
    );
    Ok(())
}

/// "Discard" throws the unsent decisions away, as the user was told: the server never
/// hears of them, even once it is back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discarding_on_sign_out_sends_nothing() -> TestResult {
    let mut server = TestServer::start(8);
    let (engine, _data) = signed_in(&server.url, "moderator").await?;
    let queue = engine.list_queues().await?.remove(0);
    let items = engine.list_queue_items(queue.id).await?;
    engine.claim_item(items[1].id).await?;
    wait_for_status(&engine, "the claim", |s| s.pending == 0).await;

    server.stop();
    engine
        .decide_item(items[0].id, DecisionAction::Approve, None, None)
        .await?;
    wait_for_status(&engine, "offline", |s| !s.online && s.pending == 1).await;
    // Still offline: giving the claim back fails quietly (it ends with its lease).
    engine.sign_out(SignOutMode::Discard).await?;
    assert!(engine.app_state().await.session.is_none());

    server.resume();
    let admin = server.admin_token().await;
    assert_eq!(decide_events(&server, &admin, items[0].id).await.len(), 0);
    let item = server.get(&admin, &format!("items/{}", items[0].id)).await;
    assert_eq!(item["state"], "open");
    Ok(())
}

/// A cache and its outbox belong to one server. Signing in to another server on the
/// same profile is refused while the old cache holds unsent work, and never pushes it
/// there; once that work is sent, the other server gets a cache of its own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_profile_pointed_at_another_server_never_sends_its_old_outbox_there() -> TestResult {
    let mut first = TestServer::start(10);
    let second = TestServer::start(4);
    let (engine, data) = signed_in(&first.url, "moderator").await?;
    let (_, mut items) = fullest_queue(&engine).await?;
    let item = items.remove(0);

    first.stop();
    engine
        .decide_item(item.id, DecisionAction::Remove, None, None)
        .await?;
    wait_for_status(&engine, "offline", |s| !s.online && s.pending == 1).await;
    let error = engine
        .sign_in(&second.url, "moderator", PASSWORD)
        .await
        .unwrap_err();
    assert_eq!(error.code, ErrorCode::UnsentWork, "{error:?}");
    assert!(error.message.contains(&first.url), "{}", error.message);
    assert!(error.message.contains("1 decision"), "{}", error.message);

    first.resume();
    wait_for_status(&engine, "the push to its own server", |s| {
        s.pending == 0 && s.online
    })
    .await;
    let admin = first.admin_token().await;
    assert_eq!(decide_events(&first, &admin, item.id).await.len(), 1);

    let session = engine.sign_in(&second.url, "moderator", PASSWORD).await?;
    assert_eq!(session.server_url, second.url);
    assert!(!session.production, "a loopback server is not production");
    engine.sync_now().await?;
    let open_on_second: i64 = engine
        .list_queues()
        .await?
        .iter()
        .map(|q| q.open_count)
        .sum();
    let second_admin = second.admin_token().await;
    let second_queues = second.get(&second_admin, "queues").await;
    let expected: i64 = second_queues["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| q["open_count"].as_i64().unwrap())
        .sum();
    assert_eq!(open_on_second, expected, "the second server's own items");
    let moderated = second
        .get(&second_admin, "audit?action=item.decide&actor=moderator")
        .await;
    assert_eq!(moderated["results"].as_array().unwrap().len(), 0);
    assert_eq!(
        caches_of(data.path(), "default-").len(),
        2,
        "one cache per server"
    );
    Ok(())
}

/// Roles follow the server without signing out: one taken away hides its screen
/// (`SessionChanged`) and drops its data from the cache; one granted shows when the
/// session starts again, with its data downloaded.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roles_given_and_taken_on_the_server_show_without_signing_out() -> TestResult {
    let server = TestServer::start(6);
    server.set_role("moderator", "support", true);
    let data = tempfile::tempdir()?;
    let service = keychain_service();
    let engine = open_engine(data.path(), &service).await;
    let mut events = engine.subscribe();
    let session = engine.sign_in(&server.url, "moderator", PASSWORD).await?;
    assert!(
        session
            .user
            .permissions
            .contains(&"accounts.view".to_string())
    );
    engine.sync_now().await?;
    assert!(!engine.search_accounts("", None).await?.is_empty());

    server.set_role("moderator", "support", false);
    // The next pull meets a 403 on the accounts feed, reads /me again and carries on.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let changed = loop {
        assert!(std::time::Instant::now() < deadline, "no SessionChanged");
        let _ = engine.sync_now().await;
        let mut found = None;
        while let Ok(event) = events.try_recv() {
            if let EngineEvent::SessionChanged(session) = event {
                found = Some(session);
            }
        }
        if let Some(session) = found {
            break session;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert!(
        !changed
            .user
            .permissions
            .contains(&"accounts.view".to_string())
    );
    assert_eq!(changed.user.roles, vec!["moderator".to_string()]);
    let state = engine.app_state().await.session.unwrap();
    assert_eq!(state.user.roles, vec!["moderator".to_string()]);
    assert!(
        engine.search_accounts("", None).await?.is_empty(),
        "accounts the user may no longer see leave the cache"
    );
    let status = wait_for_status(&engine, "a clean round", |s| s.last_error.is_none()).await;
    assert!(status.online, "{status:?}");

    server.set_role("moderator", "support", true);
    drop(engine);
    let engine = open_engine(data.path(), &service).await;
    engine.sync_now().await?;
    let session = engine.app_state().await.session.unwrap();
    assert!(
        session
            .user
            .permissions
            .contains(&"accounts.view".to_string())
    );
    assert!(!engine.search_accounts("", None).await?.is_empty());
    engine.sign_out(SignOutMode::IfNothingUnsent).await?;
    Ok(())
}
