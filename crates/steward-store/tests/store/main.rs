//! The store on a real SQLite file, under concurrent writers.

mod jobs;
mod outbox;
mod product;

use steward_core::{AuditQuery, DecisionAction};
use steward_store::{AuditRecord, ItemRecord, NewAction, Store};

pub fn item(id: i64) -> ItemRecord {
    ItemRecord {
        id,
        queue_id: 1,
        state: "open".into(),
        version: 1,
        title: format!("item {id}"),
        body_html: "<p>x</p>".into(),
        author_id: Some(1),
        author_username: "author".into(),
        author_status: "active".into(),
        reports_json: "[]".into(),
        report_count: 0,
        top_reason: None,
        claim_username: None,
        claim_expires_at: None,
        created_at: "2026-11-01T00:00:00.000Z".into(),
        updated_at: "2026-11-01T00:00:00.000Z".into(),
        object_json: None,
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
                .apply_audit_page(&events, Some("c"), "2026-11-24T00:00:00.000Z")
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
    let counts = store.outbox_counts().await.unwrap();
    assert_eq!((counts.pending, counts.conflicts), (200, 0));
    assert_eq!(store.audit_count().await.unwrap(), 30_000);
}

fn event_on(id: i64, target_type: &str, target_id: &str, note: &str) -> AuditRecord {
    AuditRecord {
        target_type: target_type.into(),
        target_id: target_id.into(),
        data_json: format!(r#"{{"note":"{note}"}}"#),
        text: format!("admin item.decide {note}"),
        ..event(id)
    }
}

fn target(target_type: &str, target_id: &str) -> AuditQuery {
    AuditQuery {
        target_type: Some(target_type.into()),
        target_id: Some(target_id.into()),
        ..AuditQuery::default()
    }
}

async fn found(store: &Store, query: &AuditQuery) -> Vec<i64> {
    let page = store.search_audit(query, 0, 100).await.unwrap();
    assert_eq!(page.total, page.events.len() as i64);
    page.events.iter().map(|e| e.id).collect()
}

/// An account's or an item's audit trail holds exactly that target's events, newest
/// first: not the events of a target whose id merely contains or splits into the same
/// words, and not another type's target with the same id.
#[tokio::test]
async fn a_target_filter_finds_exactly_that_targets_events() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("cache.sqlite3"))
        .await
        .unwrap();
    let events = vec![
        event_on(1, "item", "12", "spam"),
        event_on(2, "item", "123", "spam"),
        event_on(3, "account", "12", "spam"),
        event_on(4, "item", "12", "refund"),
        event_on(5, "job", "12-3", "spam"),
        event_on(6, "job", "12 3", "spam"),
        event_on(7, "account_note", "9", "spam"),
    ];
    store
        .apply_audit_page(&events, Some("c"), "2026-11-24T00:00:00.000Z")
        .await
        .unwrap();

    assert_eq!(found(&store, &target("item", "12")).await, vec![4, 1]);
    assert_eq!(found(&store, &target("account", "12")).await, vec![3]);
    assert_eq!(found(&store, &target("job", "12-3")).await, vec![5]);
    assert_eq!(found(&store, &target("account_note", "9")).await, vec![7]);
    assert_eq!(
        found(&store, &target("item", "999")).await,
        Vec::<i64>::new()
    );
    // With words typed as well: both must hold.
    let words_and_target = AuditQuery {
        text: Some("spa".into()),
        ..target("item", "12")
    };
    assert_eq!(found(&store, &words_and_target).await, vec![1]);
    // A type alone.
    let jobs = AuditQuery {
        target_type: Some("job".into()),
        ..AuditQuery::default()
    };
    assert_eq!(found(&store, &jobs).await, vec![6, 5]);
    // Typed words still find targets' ids.
    let typed = AuditQuery {
        text: Some("123".into()),
        ..AuditQuery::default()
    };
    assert_eq!(found(&store, &typed).await, vec![2]);
}

/// The write-ahead log is copied into the database file in the background, so the cache
/// file holds the data without anyone writing past SQLite's own checkpoint threshold.
#[tokio::test]
async fn the_log_is_checkpointed_in_the_background() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cache.sqlite3");
    let store = Store::open(&path).await.unwrap();
    let before = std::fs::metadata(&path).unwrap().len();
    let events: Vec<AuditRecord> = (1..=2_000).map(event).collect();
    store
        .apply_audit_page(&events, Some("c"), "2026-11-24T00:00:00.000Z")
        .await
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let now = std::fs::metadata(&path).unwrap().len();
        if now > before + 100_000 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the database file stayed at {now} bytes (was {before}): nothing was checkpointed"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(store.audit_count().await.unwrap(), 2_000);
}

/// Opening a cache written before migration 0003 drops its audit log and the log's
/// cursor (its old full-text index cannot be rebuilt), so the next sync downloads the log
/// again; everything else in the cache stays.
#[tokio::test]
async fn the_old_audit_cache_is_downloaded_again_after_the_upgrade() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cache.sqlite3");
    {
        let options = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(&path)
            .create_if_missing(true);
        let pool = sqlx::SqlitePool::connect_with(options).await.unwrap();
        let mut before = sqlx::migrate!("../../migrations");
        before.migrations = std::borrow::Cow::Owned(before.migrations[..2].to_vec());
        before.run(&pool).await.unwrap();
        sqlx::query("INSERT INTO audit_events VALUES (1, 'admin', 'item.decide', 'item', '7', '2026-11-01T00:00:00Z', '{}')")
            .execute(&pool)
            .await
            .unwrap();
        sqlx::query("INSERT INTO audit_fts (rowid, text) VALUES (1, 'admin item.decide item 7')")
            .execute(&pool)
            .await
            .unwrap();
        for collection in ["audit", "items"] {
            sqlx::query("INSERT INTO sync_cursors VALUES (?, 'c', '2026-11-01T00:00:00Z')")
                .bind(collection)
                .execute(&pool)
                .await
                .unwrap();
        }
        pool.close().await;
    }
    {
        // Up to 0003 only: later migrations reset every cursor (0004).
        let pool = sqlx::SqlitePool::connect_with(
            sqlx::sqlite::SqliteConnectOptions::new().filename(&path),
        )
        .await
        .unwrap();
        let mut upgrade = sqlx::migrate!("../../migrations");
        upgrade.migrations = std::borrow::Cow::Owned(upgrade.migrations[..3].to_vec());
        upgrade.run(&pool).await.unwrap();
        let count: i64 = sqlx::query_scalar("SELECT count(*) FROM audit_events")
            .fetch_one(&pool)
            .await
            .unwrap();
        assert_eq!(count, 0);
        let cursors: Vec<(String, String)> =
            sqlx::query_as("SELECT collection, cursor FROM sync_cursors ORDER BY collection")
                .fetch_all(&pool)
                .await
                .unwrap();
        assert_eq!(cursors, vec![("items".to_string(), "c".to_string())]);
        pool.close().await;
    }
    let store = Store::open(&path).await.unwrap();
    store
        .apply_audit_page(
            &[event_on(1, "item", "7", "spam")],
            Some("c2"),
            "2026-11-24T00:00:00.000Z",
        )
        .await
        .unwrap();
    assert_eq!(found(&store, &target("item", "7")).await, vec![1]);
}

/// Opening a cache written before migration 0004 drops every feed cursor: the server's
/// feeds page in commit order now, with cursors of another form. The rows stay, and a
/// feed read again from its start skips the audit events the cache already holds.
#[tokio::test]
async fn every_feed_is_read_again_after_the_commit_order_upgrade() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cache.sqlite3");
    {
        let options = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(&path)
            .create_if_missing(true);
        let pool = sqlx::SqlitePool::connect_with(options).await.unwrap();
        let mut before = sqlx::migrate!("../../migrations");
        before.migrations = std::borrow::Cow::Owned(before.migrations[..3].to_vec());
        before.run(&pool).await.unwrap();
        for collection in ["audit", "items", "jobs", "accounts"] {
            sqlx::query("INSERT INTO sync_cursors VALUES (?, 'old', '2026-11-01T00:00:00Z')")
                .bind(collection)
                .execute(&pool)
                .await
                .unwrap();
        }
        pool.close().await;
    }
    let store = Store::open(&path).await.unwrap();
    for collection in ["audit", "items", "jobs", "accounts"] {
        assert_eq!(
            store.cursor(collection).await.unwrap(),
            None,
            "{collection}"
        );
    }
    let events: Vec<AuditRecord> = (1..=3).map(event).collect();
    store
        .apply_audit_page(&events, Some("after-3"), "2026-11-24T00:00:00.000Z")
        .await
        .unwrap();
    store
        .apply_audit_page(&events, Some("after-3"), "2026-11-24T00:00:00.000Z")
        .await
        .unwrap();
    assert_eq!(store.audit_count().await.unwrap(), 3);
    assert_eq!(
        store.cursor("audit").await.unwrap().as_deref(),
        Some("after-3")
    );
    assert_eq!(
        found(
            &store,
            &AuditQuery {
                text: Some("word2".into()),
                ..AuditQuery::default()
            }
        )
        .await,
        vec![2]
    );
}
