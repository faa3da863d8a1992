//! What the cache keeps of the product's own content and jobs (server issue 12): items
//! with no known author, the object an item is about, jobs the server cannot retry.

use crate::item;
use crate::outbox::{T0, action, store_with_items};

fn job(id: i64, status: &str, can_retry: bool, why: &str) -> steward_store::JobRecord {
    steward_store::JobRecord {
        id,
        kind: "forum.tasks.send_email".into(),
        status: status.into(),
        attempts: 1,
        payload_summary: String::new(),
        created_by: None,
        created_at: T0.into(),
        started_at: None,
        finished_at: None,
        updated_at: T0.into(),
        last_error: String::new(),
        last_traceback: String::new(),
        backend: "celery".into(),
        queue: "celery".into(),
        can_retry,
        retry_blocked_reason: why.into(),
        can_cancel: false,
    }
}

/// A job its backend cannot re-send (the server says so, with the reason) is skipped with
/// that reason, and "retry all that match" leaves it out.
#[tokio::test]
async fn a_job_the_server_cannot_retry_is_skipped_with_its_reason() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_with_items(&dir, &[]).await;
    let why = "Its arguments could not be stored as JSON.";
    store
        .apply_jobs_page(
            &[job(1, "failed", true, ""), job(2, "failed", false, why)],
            Some("c"),
            T0,
        )
        .await
        .unwrap();
    let query = steward_core::JobQuery::default();
    assert_eq!(store.retryable_job_ids(&query).await.unwrap(), vec![1]);
    let (queued, skipped) = store
        .enqueue_job_actions(
            &[1, 2],
            steward_core::JobAction::Retry,
            &action("retry", T0),
            uuid_like,
        )
        .await
        .unwrap();
    assert_eq!(queued, vec![1]);
    assert_eq!(skipped.len(), 1);
    assert!(skipped[0].reason.contains(why), "{}", skipped[0].reason);
    let shown = store.job(2).await.unwrap().job;
    assert_eq!((shown.backend.as_str(), shown.can_retry), ("celery", false));
    assert_eq!(shown.retry_blocked_reason, why);
}

fn uuid_like() -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    format!("key-{}", NEXT.fetch_add(1, Ordering::SeqCst))
}

/// Content with no known author (an anonymous post) and the product object an item is
/// about are kept as the server sent them.
#[tokio::test]
async fn an_item_without_an_author_keeps_its_object() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_with_items(&dir, &[]).await;
    let object = r#"{"type":"forum.post","label":"post","key":"ff1661d9-bc10-4c22-9a56-dd75a5228925","url":"https://forum.example/posts/ff1661d9","deleted":false}"#;
    let anonymous = steward_store::ItemRecord {
        author_id: None,
        author_username: String::new(),
        author_status: String::new(),
        object_json: Some(object.into()),
        ..item(9)
    };
    store
        .apply_items_page(std::slice::from_ref(&anonymous), Some("c"), T0)
        .await
        .unwrap();
    assert_eq!(store.item(9).await.unwrap(), anonymous);
    assert_eq!(store.item_summary(9).await.unwrap().author_username, "");
}
