//! The jobs dashboard's counts are kept by triggers (migration 0006), not counted on each
//! refresh: they must follow every way the jobs table changes.

use std::collections::BTreeMap;

use steward_core::{CountEntry, JobAction, JobQuery};
use steward_store::{JobRecord, NewAction, ServerChanges, Store};

const NOW: &str = "2026-12-06T10:00:00.000Z";

fn job(id: i64, kind: &str, status: &str) -> JobRecord {
    JobRecord {
        id,
        kind: kind.into(),
        status: status.into(),
        attempts: 1,
        payload_summary: String::new(),
        created_by: None,
        created_at: format!("2026-12-0{}T00:00:00.000Z", 1 + id % 5),
        started_at: None,
        finished_at: Some("2026-12-06T09:00:00.000Z".into()),
        updated_at: "2026-12-06T09:00:00.000Z".into(),
        last_error: String::new(),
        last_traceback: String::new(),
        backend: "tasks".into(),
        queue: "default".into(),
        can_retry: status == "failed",
        retry_blocked_reason: String::new(),
        can_cancel: false,
    }
}

fn entries(pairs: &[(&str, i64)]) -> Vec<CountEntry> {
    pairs
        .iter()
        .map(|(key, count)| CountEntry {
            key: key.to_string(),
            count: *count,
        })
        .collect()
}

/// What the counts must be: every cached job counted one by one.
async fn counted(store: &Store) -> (Vec<CountEntry>, Vec<CountEntry>) {
    let mut by_status = BTreeMap::<String, i64>::new();
    let mut by_kind = BTreeMap::<String, i64>::new();
    let page = store
        .list_jobs(&JobQuery::default(), 0, 1000)
        .await
        .unwrap();
    for info in page.jobs {
        *by_status.entry(info.status.clone()).or_default() += 1;
        *by_kind.entry(info.kind.clone()).or_default() += 1;
    }
    let list = |map: BTreeMap<String, i64>| {
        map.into_iter()
            .map(|(key, count)| CountEntry { key, count })
            .collect()
    };
    (list(by_status), list(by_kind))
}

async fn check(store: &Store) {
    let stats = store.job_stats("2026-12-01T00:00:00.000Z").await.unwrap();
    let (by_status, by_kind) = counted(store).await;
    assert_eq!(stats.by_status, by_status);
    assert_eq!(stats.by_kind, by_kind);
    for status in ["failed", "pending", "succeeded"] {
        let query = JobQuery {
            status: Some(status.into()),
            ..JobQuery::default()
        };
        let page = store.list_jobs(&query, 0, 1000).await.unwrap();
        assert_eq!(page.total, page.jobs.len() as i64, "{status}");
    }
}

#[tokio::test]
async fn job_counts_follow_pages_retries_refusals_and_forgetting() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("cache.sqlite3"))
        .await
        .unwrap();
    let first: Vec<JobRecord> = (1..=6)
        .map(|id| job(id, if id % 2 == 0 { "import" } else { "email" }, "failed"))
        .chain((7..=9).map(|id| job(id, "email", "succeeded")))
        .collect();
    store
        .apply_jobs_page(&first, Some("c1"), NOW)
        .await
        .unwrap();
    check(&store).await;
    let stats = store.job_stats("2026-12-01T00:00:00.000Z").await.unwrap();
    assert_eq!(stats.by_status, entries(&[("failed", 6), ("succeeded", 3)]));
    assert_eq!(
        stats.failures_by_hour,
        entries(&[("2026-12-06T09:00:00Z", 6)])
    );

    // A later page moves jobs between statuses and kinds.
    let later = vec![job(1, "email", "succeeded"), job(2, "email", "failed")];
    store
        .apply_jobs_page(&later, Some("c2"), NOW)
        .await
        .unwrap();
    check(&store).await;

    // A retry queued locally shows its jobs as pending at once; refused, they are back.
    let group = NewAction {
        group_id: "retry",
        now: NOW,
        not_before: NOW,
    };
    let mut n = 0;
    let (queued, _) = store
        .enqueue_job_actions(&[3, 4], JobAction::Retry, &group, || {
            n += 1;
            format!("key-{n}")
        })
        .await
        .unwrap();
    assert_eq!(queued, vec![3, 4]);
    check(&store).await;
    let filtered = JobQuery {
        status: Some("pending".into()),
        kind: Some("import".into()),
        ..JobQuery::default()
    };
    assert_eq!(store.list_jobs(&filtered, 0, 10).await.unwrap().total, 1);
    for row in store.due_rows(NOW, 10).await.unwrap() {
        store
            .reject_push(row.id, &ServerChanges::default(), "not allowed")
            .await
            .unwrap();
    }
    check(&store).await;

    // Forgetting the collection (a role taken away) keeps only the jobs the refused
    // retry names, and their counts.
    store.forget_collection("jobs").await.unwrap();
    check(&store).await;
    let stats = store.job_stats("2026-12-01T00:00:00.000Z").await.unwrap();
    assert_eq!(stats.by_status, entries(&[("failed", 2)]));
}
