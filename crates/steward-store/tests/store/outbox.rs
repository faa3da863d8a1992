//! The outbox's rules on a real SQLite file: which row goes out next, undo against the
//! push, refusals kept for the user, what signing out would lose, one server per cache.

use steward_core::{AccountAction, DecisionAction, UnsentWork};
use steward_store::{
    AccountRecord, NewAction, NextPush, OutboxKind, ServerChanges, Store, StoreError,
};

use crate::item;

pub const T0: &str = "2026-11-24T10:00:00.000Z";
const T5: &str = "2026-11-24T10:00:05.000Z";

pub async fn store_with_items(dir: &tempfile::TempDir, ids: &[i64]) -> Store {
    let store = Store::open(&dir.path().join("cache.sqlite3"))
        .await
        .unwrap();
    let items: Vec<_> = ids.iter().copied().map(item).collect();
    store.apply_items_page(&items, Some("c"), T0).await.unwrap();
    store
}

pub fn action<'a>(group: &'a str, not_before: &'a str) -> NewAction<'a> {
    NewAction {
        group_id: group,
        now: T0,
        not_before,
    }
}

async fn decide(store: &Store, item_id: i64, not_before: &str) {
    let group = format!("decide-{item_id}");
    let outcome = store
        .enqueue_decisions(
            &[item_id],
            DecisionAction::Remove,
            "spam",
            "my note",
            &action(&group, not_before),
            || format!("key-decide-{item_id}"),
        )
        .await
        .unwrap();
    assert_eq!(outcome.queued.len(), 1, "{outcome:?}");
}

async fn claim(store: &Store, item_id: i64, key: &str) {
    store
        .enqueue_claim(
            item_id,
            OutboxKind::ClaimItem,
            "moderator",
            "2026-11-24T10:05:00.000Z",
            &action(key, T0),
            key,
        )
        .await
        .unwrap();
}

fn due_row(next: NextPush) -> steward_store::OutboxRow {
    match next {
        NextPush::Due(row) => row,
        other => panic!("expected a due row, got {other:?}"),
    }
}

/// Opening the next item claims it at once, although the decision on the previous item
/// still waits for its undo window: rows on different items do not wait for each other.
/// Rows on the same item keep their order.
#[tokio::test]
async fn a_claim_on_the_next_item_does_not_wait_for_a_decision_in_its_undo_window() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_with_items(&dir, &[1, 2]).await;
    decide(&store, 1, T5).await;
    claim(&store, 2, "claim-2").await;
    claim(&store, 1, "claim-1").await;

    let first = due_row(store.next_push(T0).await.unwrap());
    assert_eq!((first.kind.as_str(), first.target_id), ("claim_item", 2));
    assert!(store.mark_sending(first.id).await.unwrap());
    store
        .complete_push(first.id, &ServerChanges::default())
        .await
        .unwrap();
    // The claim on item 1 was written after the decision on item 1: it waits with it.
    assert_eq!(
        store.next_push(T0).await.unwrap(),
        NextPush::Waiting(T5.to_string())
    );
    let decision = due_row(store.next_push(T5).await.unwrap());
    assert_eq!(
        (decision.kind.as_str(), decision.target_id),
        ("decide_item", 1)
    );
    store
        .complete_push(decision.id, &ServerChanges::default())
        .await
        .unwrap();
    let later = due_row(store.next_push(T5).await.unwrap());
    assert_eq!((later.kind.as_str(), later.target_id), ("claim_item", 1));
    store
        .complete_push(later.id, &ServerChanges::default())
        .await
        .unwrap();
    assert_eq!(store.next_push(T5).await.unwrap(), NextPush::Idle);
}

/// A batch takes every due row that is first on its target, oldest first, up to its
/// limit: a row behind another on the same item, or still in its undo window, waits.
/// Marking the batch as going out skips a row an undo withdrew in between.
#[tokio::test]
async fn a_batch_holds_one_row_per_target_and_sends_only_what_is_still_pending() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_with_items(&dir, &[1, 2, 3]).await;
    claim(&store, 1, "claim-1").await;
    decide(&store, 1, T0).await;
    decide(&store, 3, T5).await;
    decide(&store, 2, T0).await;

    let batch = store.due_rows(T0, 100).await.unwrap();
    let named: Vec<_> = batch
        .iter()
        .map(|row| (row.kind.as_str(), row.target_id))
        .collect();
    assert_eq!(named, [("claim_item", 1), ("decide_item", 2)]);
    assert_eq!(store.due_rows(T0, 1).await.unwrap().len(), 1);
    assert_eq!(store.due_rows(T5, 100).await.unwrap().len(), 3);

    assert_eq!(store.undo_last().await.unwrap(), vec![2]);
    let ids: Vec<i64> = batch.iter().map(|row| row.id).collect();
    assert_eq!(
        store.mark_sending_many(&ids).await.unwrap(),
        [ids[0]],
        "the undone decision was marked as going out"
    );
}

/// The push loop reads a row, then marks it as going out. An undo that commits in
/// between wins: the mark fails and the row must not be sent. A mark that commits first
/// wins the other way: the undo says it is too late.
#[tokio::test]
async fn undo_and_send_cannot_both_win() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_with_items(&dir, &[1, 2]).await;

    decide(&store, 1, T0).await;
    let row = due_row(store.next_push(T0).await.unwrap());
    assert_eq!(store.undo_last().await.unwrap(), vec![1]);
    assert!(
        !store.mark_sending(row.id).await.unwrap(),
        "an undone row was marked as going out"
    );
    assert_eq!(store.next_push(T0).await.unwrap(), NextPush::Idle);

    decide(&store, 2, T0).await;
    let row = due_row(store.next_push(T0).await.unwrap());
    assert!(store.mark_sending(row.id).await.unwrap());
    assert!(matches!(
        store.undo_last().await,
        Err(StoreError::AlreadySent)
    ));
}

fn account(id: i64) -> AccountRecord {
    AccountRecord {
        id,
        username: format!("member{id}"),
        display_name: String::new(),
        email: String::new(),
        status: "active".into(),
        roles_json: "[]".into(),
        joined_at: T0.into(),
        last_seen_at: None,
        suspended_until: None,
        sessions_revoked_at: None,
        counts_json: "{}".into(),
        updated_at: T0.into(),
    }
}

/// A refused action is rolled back in the cache but kept, with the text the user wrote
/// and the server's reason, until the user dismisses it.
#[tokio::test]
async fn refused_actions_keep_what_the_user_wrote_until_dismissed() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_with_items(&dir, &[1]).await;
    store.upsert_accounts(&[account(7)]).await.unwrap();
    let body = "Repeat offender; see ticket 4411 before reactivating.";
    store
        .enqueue_account_note(7, body, "support", &action("note", T0), "key-note")
        .await
        .unwrap();
    assert_eq!(store.account_notes(7).await.unwrap().len(), 1);
    let row = due_row(store.next_push(T0).await.unwrap());
    store
        .reject_push(
            row.id,
            &ServerChanges::default(),
            "You do not have permission to do this.",
        )
        .await
        .unwrap();

    assert!(
        store.account_notes(7).await.unwrap().is_empty(),
        "the note is rolled back"
    );
    let refused = store.list_refused().await.unwrap();
    assert_eq!(refused.len(), 1);
    let entry = &refused[0];
    assert_eq!(entry.target_type, "account");
    assert_eq!(entry.target_id, 7);
    assert_eq!(entry.target_label.as_deref(), Some("member7"));
    assert_eq!(entry.action, "note");
    assert_eq!(entry.text, body);
    assert_eq!(entry.message, "You do not have permission to do this.");
    assert_eq!(store.outbox_counts().await.unwrap().refused, 1);
    assert_eq!(store.unsent_work().await.unwrap().refused, 1);
    assert_eq!(store.next_push(T0).await.unwrap(), NextPush::Idle);

    store.dismiss_refused(entry.outbox_id).await.unwrap();
    assert!(store.list_refused().await.unwrap().is_empty());
    assert!(matches!(
        store.dismiss_refused(entry.outbox_id).await,
        Err(StoreError::RefusedNotFound(_))
    ));
}

/// What signing out would throw away, by kind; claims are not counted (they end by
/// themselves), and "send first" ends every undo window.
#[tokio::test]
async fn unsent_work_is_counted_by_kind_and_can_be_made_due_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_with_items(&dir, &[1, 2, 3]).await;
    store.upsert_accounts(&[account(7)]).await.unwrap();
    decide(&store, 1, T5).await;
    decide(&store, 2, T5).await;
    claim(&store, 3, "claim-3").await;
    let args = serde_json::json!({"action": "suspend", "reason_code": "", "note": "", "duration_hours": 24});
    store
        .enqueue_account_action(
            7,
            AccountAction::Suspend,
            &args,
            &action("suspend", T0),
            "key-suspend",
        )
        .await
        .unwrap();
    assert_eq!(
        store.unsent_work().await.unwrap(),
        UnsentWork {
            decisions: 2,
            account_actions: 1,
            ..UnsentWork::default()
        }
    );
    assert_eq!(store.held_claims("moderator", T0).await.unwrap(), vec![3]);
    assert!(
        store
            .held_claims("moderator", "2026-11-24T11:00:00.000Z")
            .await
            .unwrap()
            .is_empty()
    );

    // Leaving the item queues its release, which clears the claim in the cache at once:
    // until that release is sent, the server still holds the claim, so signing out must
    // still give it back.
    store
        .enqueue_claim(
            3,
            OutboxKind::ReleaseItem,
            "moderator",
            "",
            &action("release-3", T0),
            "release-3",
        )
        .await
        .unwrap();
    assert!(store.held_claims("moderator", T0).await.unwrap().is_empty());
    assert_eq!(
        store.claims_to_give_back("moderator", T0).await.unwrap(),
        vec![3]
    );

    assert_eq!(store.make_all_due(T0).await.unwrap(), 2);
    let mut kinds = Vec::new();
    while let NextPush::Due(row) = store.next_push(T0).await.unwrap() {
        kinds.push((row.kind.clone(), row.target_id));
        store
            .complete_push(row.id, &ServerChanges::default())
            .await
            .unwrap();
    }
    assert_eq!(
        kinds,
        vec![
            ("decide_item".to_string(), 1),
            ("decide_item".to_string(), 2),
            ("claim_item".to_string(), 3),
            ("account_action".to_string(), 7),
            ("release_item".to_string(), 3),
        ]
    );
}

/// A cache mirrors one server: its ids, versions, cursors and outbox mean nothing to
/// another one.
#[tokio::test]
async fn a_cache_belongs_to_the_server_it_first_mirrored() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_with_items(&dir, &[1]).await;
    store.bind_server("https://staging.example").await.unwrap();
    store.bind_server("https://staging.example").await.unwrap();
    let error = store
        .bind_server("https://production.example")
        .await
        .unwrap_err();
    assert!(matches!(error, StoreError::OtherServer { .. }), "{error}");
    assert!(error.to_string().contains("staging.example"), "{error}");
}
