//! Ingest speed of the local cache: items (the triage mirror) and audit events (with the
//! full-text index), written page by page exactly as the sync writes them.
//!
//!   cargo run --release -p steward-bench --bin ingest [ITEMS] [AUDIT_EVENTS]

use std::time::Instant;

use steward_bench::{Rng, audit_event, item, report};
use steward_store::Store;

/// The page size of the server's delta feeds (their maximum `limit`).
const PAGE: usize = 500;

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let items: i64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(200_000);
    let events: i64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(200_000);
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("bench.sqlite3"))
        .await
        .unwrap();
    let mut rng = Rng::new(7);

    let records: Vec<_> = (1..=items).map(|id| item(&mut rng, id)).collect();
    let started = Instant::now();
    for (n, page) in records.chunks(PAGE).enumerate() {
        store
            .apply_items_page(
                page,
                Some(&format!("cursor-{n}")),
                "2026-11-24T00:00:00.000Z",
            )
            .await
            .unwrap();
    }
    let rate = items as f64 / started.elapsed().as_secs_f64();
    report(
        &format!("items ingest ({items} rows, pages of {PAGE})"),
        rate,
        "rows/s",
        "goal: 100k rows/s",
        100_000.0,
        true,
    );
    report(
        "items ingest",
        rate,
        "rows/s",
        "FACTS trial: sqlx multi-row inserts, 53k rows/s",
        53_000.0,
        true,
    );

    // The same rows into a second cache, ten feed pages per transaction: random index
    // positions make each commit rewrite many pages, so fewer commits write less.
    let batched = Store::open(&dir.path().join("batched.sqlite3"))
        .await
        .unwrap();
    let started = Instant::now();
    for (n, pages) in records.chunks(PAGE * 10).enumerate() {
        batched
            .apply_items_page(
                pages,
                Some(&format!("cursor-{n}")),
                "2026-11-24T00:00:00.000Z",
            )
            .await
            .unwrap();
    }
    let rate = items as f64 / started.elapsed().as_secs_f64();
    report(
        &format!("items ingest ({items} rows, ten pages per transaction)"),
        rate,
        "rows/s",
        "goal: 100k rows/s",
        100_000.0,
        true,
    );

    let records: Vec<_> = (1..=events).map(|id| audit_event(&mut rng, id)).collect();
    let started = Instant::now();
    for page in records.chunks(PAGE) {
        store
            .apply_audit_page(page, "2026-11-24T00:00:00.000Z")
            .await
            .unwrap();
    }
    let rate = events as f64 / started.elapsed().as_secs_f64();
    report(
        &format!("audit ingest with FTS5 ({events} rows)"),
        rate,
        "rows/s",
        "goal: 100k rows/s",
        100_000.0,
        true,
    );
    report(
        "audit ingest with FTS5",
        rate,
        "rows/s",
        "FACTS trial: FTS5 kept by trigger, 8.6k rows/s",
        8_600.0,
        true,
    );

    let batched = Store::open(&dir.path().join("batched-audit.sqlite3"))
        .await
        .unwrap();
    let started = Instant::now();
    for pages in records.chunks(PAGE * 10) {
        batched
            .apply_audit_page(pages, "2026-11-24T00:00:00.000Z")
            .await
            .unwrap();
    }
    let rate = events as f64 / started.elapsed().as_secs_f64();
    report(
        &format!("audit ingest with FTS5 ({events} rows, ten pages per transaction)"),
        rate,
        "rows/s",
        "goal: 100k rows/s",
        100_000.0,
        true,
    );
}
