//! The jobs dashboard over millions of cached jobs: what the desktop's jobs screen asks
//! its cache on every refresh (counts by status and kind with the failures chart, the
//! first block of failed jobs, a rare status's first block, the count "retry all that
//! match" confirms), against the goal of issue 16's scenario 7 (100 ms; Oban Web's jobs
//! page is reported to time out past 5M jobs). The server side of the scenario is
//! bench/py/jobs_scale.py.
//!
//!   cargo run --release -p steward-bench --bin jobs_local [--quick] [JOBS] [QUERIES]

use std::time::Instant;

use serde_json::json;
use steward_bench::Rng;
use steward_bench::report::{Report, Row, median, percentile};
use steward_core::JobQuery;
use steward_store::{JobRecord, Store};

const KINDS: &[&str] = &[
    "forum.tasks.send_email",
    "build_report",
    "forum.tasks.resize_image",
    "reindex_search",
    "export_csv",
    "forum.tasks.notify_followers",
    "purge_sessions",
    "sync_billing",
    "import_members",
    "forum.tasks.digest",
    "cleanup_uploads",
    "steward.send_password_reset",
];
/// The screen's first block (ui/src/lib/shared/block-window.ts).
const BLOCK: i64 = 200;
/// Rows per feed page: the sync writes the jobs feed page by page.
const PAGE: usize = 500;

fn job(rng: &mut Rng, id: i64, jobs: i64) -> JobRecord {
    let roll = rng.next_u64() % 1000;
    let status = match roll {
        0..=879 => "succeeded",
        880..=959 => "failed",
        960..=979 => "pending",
        980..=989 => "running",
        _ => "cancelled",
    };
    // Spread over 60 days, ascending with the id (jobs are created in order).
    let seconds = id * (60 * 86_400) / jobs.max(1);
    let at = |offset: i64| {
        let t = chrono::DateTime::from_timestamp(1_760_000_000 + seconds + offset, 0).unwrap();
        t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
    };
    let finished = matches!(status, "succeeded" | "failed" | "cancelled");
    JobRecord {
        id,
        kind: KINDS[(rng.next_u64() % KINDS.len() as u64) as usize].to_string(),
        status: status.to_string(),
        attempts: 1 + (roll % 3) as i64,
        payload_summary: format!("args=[{id}]"),
        created_by: None,
        created_at: at(0),
        started_at: (status != "pending").then(|| at(2)),
        finished_at: finished.then(|| at(5)),
        updated_at: at(5),
        last_error: if status == "failed" {
            "TimeoutError: the upstream did not answer".into()
        } else {
            String::new()
        },
        last_traceback: if status == "failed" {
            "Traceback (most recent call last):\n  ...\nTimeoutError".into()
        } else {
            String::new()
        },
        backend: if id % 2 == 0 { "celery" } else { "tasks" }.into(),
        queue: "default".into(),
        can_retry: status == "failed" || status == "cancelled",
        retry_blocked_reason: String::new(),
        can_cancel: status == "pending",
    }
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let quick = args.iter().any(|a| a == "--quick");
    let mut numbers = args.iter().filter_map(|a| a.parse::<i64>().ok());
    let jobs = numbers
        .next()
        .unwrap_or(if quick { 50_000 } else { 5_000_000 });
    let queries = numbers.next().unwrap_or(if quick { 10 } else { 40 }) as usize;
    let mut report = Report::new("jobs-local", quick);

    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("bench.sqlite3"))
        .await
        .unwrap();
    let mut rng = Rng::new(5);
    let started = Instant::now();
    let mut page = Vec::with_capacity(PAGE);
    for id in 1..=jobs {
        page.push(job(&mut rng, id, jobs));
        if page.len() == PAGE || id == jobs {
            store
                .apply_jobs_page(&page, Some("bench"), "2026-12-06T00:00:00.000Z")
                .await
                .unwrap();
            page.clear();
        }
    }
    let ingest = jobs as f64 / started.elapsed().as_secs_f64();
    println!("jobs_local: {jobs} jobs cached at {ingest:.0} rows/s");

    // The last three days of the spread, as the screen's chart asks.
    let since = "2025-12-06T00:00:00.000Z";
    let failed = JobQuery {
        status: Some("failed".into()),
        ..JobQuery::default()
    };
    let running = JobQuery {
        status: Some("running".into()),
        ..JobQuery::default()
    };
    let mut times: [Vec<f64>; 4] = Default::default();
    let mut shown = (0, 0, 0);
    for _ in 0..queries {
        let t = Instant::now();
        let stats = store.job_stats(since).await.unwrap();
        times[0].push(t.elapsed().as_secs_f64() * 1000.0);
        let t = Instant::now();
        let page = store.list_jobs(&failed, 0, BLOCK).await.unwrap();
        times[1].push(t.elapsed().as_secs_f64() * 1000.0);
        let t = Instant::now();
        store.list_jobs(&running, 0, BLOCK).await.unwrap();
        times[2].push(t.elapsed().as_secs_f64() * 1000.0);
        let t = Instant::now();
        let retryable = store.count_retryable_jobs(&failed).await.unwrap();
        times[3].push(t.elapsed().as_secs_f64() * 1000.0);
        shown = (stats.by_status.len(), page.total, retryable);
    }
    let goal = "goal: 100 ms";
    let names = [
        "jobs screen: counts by status and kind, and the failures chart",
        "jobs screen: first block of failed jobs (with their count)",
        "jobs screen: first block of a rare status (running)",
        "jobs screen: how many failed jobs 'retry all that match' would retry",
    ];
    for (name, samples) in names.iter().zip(&times) {
        report.row(
            Row::new(
                format!("{name}, p95 ({jobs} cached jobs)"),
                percentile(samples, 95.0),
                goal,
                100.0,
                "ms",
                false,
            )
            .goal_ratio(1.0)
            .with("p50_ms", json!(median(samples))),
        );
    }
    report.set("jobs", json!(jobs));
    report.set("ingest_rows_per_second", json!(ingest.round()));
    report.set("statuses_shown", json!(shown.0));
    report.set("failed_jobs", json!(shown.1));
    report.set("retryable_failed", json!(shown.2));
    report.set("queries", json!(queries));
    report.write().unwrap();
}
