//! The store on a real SQLite file, under concurrent writers.

use steward_core::DecisionAction;
use steward_store::{AuditRecord, ItemRecord, NewAction, Store};

fn item(id: i64) -> ItemRecord {
    ItemRecord {
        id,
        queue_id: 1,
        state: "open".into(),
        version: 1,
        title: format!("item {id}"),
        body_html: "<p>x</p>".into(),
        author_id: 1,
        author_username: "author".into(),
        author_status: "active".into(),
        reports_json: "[]".into(),
        report_count: 0,
        top_reason: None,
        claim_username: None,
        claim_expires_at: None,
        created_at: "2026-11-01T00:00:00.000Z".into(),
        updated_at: "2026-11-01T00:00:00.000Z".into(),
    }
}

fn event(id: i64) -> AuditRecord {
    AuditRecord {
        id,
        actor_username: "admin".into(),
        action: "item.decide".into(),
        target_type: "item".into(),
        target_id: id.to_string(),
        created_at: "2026-11-01T00:00:00.000Z".into(),
        data_json: format!(r#"{{"note":"word{id}"}}"#),
        text: format!("admin item.decide word{id}"),
    }
}

/// A user's action must not fail with "database is locked" while a large download
/// writes page after page: every write waits its turn.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn actions_wait_for_a_download_instead_of_failing() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("cache.sqlite3"))
        .await
        .unwrap();
    let items: Vec<ItemRecord> = (1..=200).map(item).collect();
    store
        .apply_items_page(&items, Some("c"), "2026-11-24T00:00:00.000Z")
        .await
        .unwrap();

    let downloading = store.clone();
    let download = tokio::spawn(async move {
        for page in 0..60 {
            let events: Vec<AuditRecord> = (page * 500 + 1..=page * 500 + 500).map(event).collect();
            downloading
                .apply_audit_page(&events, "2026-11-24T00:00:00.000Z")
                .await
                .unwrap();
        }
    });
    for id in 1..=200 {
        let group = format!("g{id}");
        let key = format!("k{id}");
        let action = NewAction {
            group_id: &group,
            now: "2026-11-24T00:00:00.000Z",
            not_before: "2026-11-24T00:00:00.000Z",
        };
        let outcome = store
            .enqueue_decisions(&[id], DecisionAction::Approve, "", "", &action, || {
                key.clone()
            })
            .await
            .unwrap_or_else(|e| panic!("decision {id} failed during the download: {e}"));
        assert_eq!(outcome.queued.len(), 1);
        tokio::task::yield_now().await;
    }
    download.await.unwrap();
    assert_eq!(store.outbox_counts().await.unwrap(), (200, 0));
    assert_eq!(store.audit_count().await.unwrap(), 30_000);
}
