//! Support and admin data: accounts, the audit log and jobs, mirrored, searched offline,
//! and acted on through the outbox, against the real server and its real job worker.

use std::time::Duration;

use steward_core::{AccountAction, AuditQuery, JobAction, JobQuery};
use steward_engine::EngineEvent;

use crate::server::TestServer;
use crate::{TestResult, signed_in, wait_for_status};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accounts_are_searched_suspended_noted_and_audited_even_offline() -> TestResult {
    let mut server = TestServer::start_seeded(&["--items", "20", "--jobs", "0"]);
    let (engine, _data) = signed_in(&server.url, "support").await?;

    let found = engine
        .search_accounts("member", Some("active".into()))
        .await?;
    assert!(!found.is_empty(), "seeded members are found");
    assert!(
        found.iter().all(|a| a.status == "active"),
        "the status filter holds"
    );
    let target = found[0].clone();
    assert_eq!(target.status, "active");

    let shown = engine
        .act_on_account(
            target.id,
            AccountAction::Suspend,
            Some(24),
            Some("spam".into()),
            Some("flooding reports".into()),
        )
        .await?;
    assert_eq!(shown.status, "suspended", "the suspension shows at once");
    assert_eq!(shown.pending_action, Some(AccountAction::Suspend));
    let notes = engine
        .add_account_note(target.id, "Called them about the flood")
        .await?;
    assert!(
        notes
            .iter()
            .any(|n| n.pending && n.body == "Called them about the flood")
    );
    wait_for_status(&engine, "the pushes", |s| {
        s.pending == 0 && s.last_error.is_none()
    })
    .await;

    let admin = server.admin_token().await;
    let on_server = server.get(&admin, &format!("accounts/{}", target.id)).await;
    assert_eq!(on_server["status"], "suspended");
    engine.sync_now().await?;
    let detail = engine.get_account(target.id).await?;
    assert_eq!(detail.account.status, "suspended");
    assert!(
        detail
            .notes
            .iter()
            .any(|n| !n.pending && n.body == "Called them about the flood")
    );
    assert!(
        detail
            .audit_trail
            .iter()
            .any(|e| e.action == "account.suspend"),
        "{:?}",
        detail.audit_trail
    );

    // The audit log is searchable by a word in its data, with the server gone.
    server.stop();
    let page = engine
        .search_audit(
            AuditQuery {
                text: Some("flooding".into()),
                ..AuditQuery::default()
            },
            0,
            50,
        )
        .await?;
    assert_eq!(page.events.len(), 1, "{page:?}");
    assert_eq!(page.events[0].action, "account.suspend");
    assert_eq!(page.events[0].target_id, target.id.to_string());
    let by_actor = engine
        .search_audit(
            AuditQuery {
                actor: Some("support".into()),
                action: Some("account.suspend".into()),
                ..AuditQuery::default()
            },
            0,
            50,
        )
        .await?;
    assert_eq!(by_actor.total, 1, "{by_actor:?}");
    let before_it = engine
        .search_audit(
            AuditQuery {
                action: Some("account.suspend".into()),
                to: Some(page.events[0].created_at.clone()),
                ..AuditQuery::default()
            },
            0,
            50,
        )
        .await?;
    assert_eq!(
        before_it.total, 0,
        "the time range excludes it: {before_it:?}"
    );
    let offline = engine.search_accounts(&target.username, None).await?;
    assert_eq!(offline[0].id, target.id, "account search works offline");

    let dir = tempfile::tempdir()?;
    let path = engine
        .export_audit_csv(
            AuditQuery {
                text: Some("flooding".into()),
                ..AuditQuery::default()
            },
            Some(dir.path().to_path_buf()),
        )
        .await?;
    let csv = std::fs::read_to_string(&path)?;
    assert_eq!(csv.lines().count(), 2, "a header and the one event: {csv}");
    assert!(
        csv.lines()
            .next()
            .unwrap()
            .starts_with("id,created_at,actor,action")
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_job_is_listed_with_its_traceback_retried_and_succeeds() -> TestResult {
    let server = TestServer::start_seeded(&["--items", "5", "--jobs", "30"]);
    server.run_worker();
    let (engine, _data) = signed_in(&server.url, "admin").await?;

    let failed_reports = JobQuery {
        status: Some("failed".into()),
        kind: Some("build_report".into()),
        ..JobQuery::default()
    };
    let page = engine.list_jobs(failed_reports.clone(), 0, 100).await?;
    assert!(page.total > 0, "the seed has failed reports");
    let job = &page.jobs[0];
    let detail = engine.get_job(job.id).await?;
    assert!(
        detail.last_traceback.contains("TimeoutError"),
        "{}",
        detail.last_traceback
    );
    assert!(!detail.job.last_error.is_empty());
    let stats = engine.job_stats().await?;
    assert!(
        stats
            .by_status
            .iter()
            .any(|c| c.key == "failed" && c.count > 0)
    );
    assert!(!stats.failures_by_hour.is_empty());

    let outcome = engine.act_on_jobs(&[job.id], JobAction::Retry).await?;
    assert_eq!(outcome.queued, vec![job.id]);
    assert_eq!(
        engine.get_job(job.id).await?.job.status,
        "pending",
        "the retry shows at once"
    );
    wait_for_status(&engine, "the retry push", |s| {
        s.pending == 0 && s.last_error.is_none()
    })
    .await;
    server.run_worker();
    engine.sync_now().await?;
    assert_eq!(
        engine.get_job(job.id).await?.job.status,
        "succeeded",
        "a retried report finishes"
    );

    // Retrying every failed CSV import fails them again, and the engine says so.
    let failed_imports = JobQuery {
        status: Some("failed".into()),
        kind: Some("import_members_csv".into()),
        ..JobQuery::default()
    };
    let count = engine.count_matching_jobs(failed_imports.clone()).await?;
    assert!(count > 0);
    let mut events = engine.subscribe();
    let outcome = engine.retry_matching_jobs(failed_imports.clone()).await?;
    assert_eq!(
        outcome.queued.len() as i64,
        count,
        "every matching job is retried"
    );
    wait_for_status(&engine, "the bulk retry", |s| s.pending == 0).await;
    server.run_worker();
    engine.sync_now().await?;
    // Failures may arrive over several pulls (live updates pull while the worker runs):
    // together they name every retried import.
    let failed_again = tokio::time::timeout(Duration::from_secs(30), async {
        let mut seen = 0;
        while seen < count {
            if let Ok(EngineEvent::JobsFailed { kind, count }) = events.recv().await {
                assert_eq!(kind, "import_members_csv");
                seen += count;
            }
        }
        seen
    })
    .await?;
    assert_eq!(failed_again, count);
    let after = engine.list_jobs(failed_imports, 0, 100).await?;
    assert!(after.jobs.iter().all(|j| j.attempts >= 2), "{after:?}");
    Ok(())
}
