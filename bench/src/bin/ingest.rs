//! Ingest speed of the local cache: items (the triage mirror) and audit events (with the
//! full-text index), written exactly as the sync writes them.
//!
//!   cargo run --release -p steward-bench --bin ingest [ITEMS] [AUDIT_EVENTS] [RUNS]
//!
//! Each case runs RUNS times (default 3) into a fresh cache file and reports the median,
//! since one run on a shared 2-core machine swings by 20% or more.

use std::path::Path;
use std::time::Instant;

use steward_bench::{Rng, audit_event, item, report};
use steward_store::{AuditRecord, CATCH_UP_BATCH_ROWS, ItemRecord, Store};

/// The page size of the server's delta feeds (their maximum `limit`).
const PAGE: usize = 500;

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let items: i64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(200_000);
    let events: i64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(200_000);
    let runs: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(3);
    let batch = std::env::var("BENCH_BATCH_ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(CATCH_UP_BATCH_ROWS);
    let dir = tempfile::tempdir().unwrap();
    let mut rng = Rng::new(7);
    let item_rows: Vec<_> = (1..=items).map(|id| item(&mut rng, id)).collect();
    let audit_rows: Vec<_> = (1..=events).map(|id| audit_event(&mut rng, id)).collect();

    let mut case = 0;
    let mut measure = async |rows: usize, per_tx: usize, items: bool| {
        let mut rates = Vec::new();
        for _ in 0..runs {
            case += 1;
            let path = dir.path().join(format!("case-{case}.sqlite3"));
            let rate = if items {
                ingest_items(&path, &item_rows, per_tx).await
            } else {
                ingest_audit(&path, &audit_rows, per_tx).await
            };
            rates.push(rate);
            // Free the disk between runs: a million-row cache is a few hundred MB.
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
            }
        }
        rates.sort_by(f64::total_cmp);
        let median = rates[rates.len() / 2];
        let spread = format!("runs {:.0}..{:.0}", rates[0], rates[rates.len() - 1]);
        (rows, median, spread)
    };

    for (what, is_items, count) in [
        ("items", true, item_rows.len()),
        ("audit events with FTS5", false, audit_rows.len()),
    ] {
        let (rows, rate, spread) = measure(count, batch, is_items).await;
        report(
            &format!(
                "{what} ingest, catching up ({rows} rows, {batch} per transaction, median of {runs}; {spread})"
            ),
            rate,
            "rows/s",
            "goal: 100k rows/s",
            100_000.0,
            true,
        );
        let (rows, rate, spread) = measure(count, PAGE, is_items).await;
        report(
            &format!(
                "{what} ingest, page by page ({rows} rows, {PAGE} per transaction, median of {runs}; {spread})"
            ),
            rate,
            "rows/s",
            "goal: 100k rows/s",
            100_000.0,
            true,
        );
    }
}

/// Writes `rows` through the sync's own call, `per_tx` rows per transaction.
async fn ingest_items(path: &Path, rows: &[ItemRecord], per_tx: usize) -> f64 {
    let store = Store::open(path).await.unwrap();
    let started = Instant::now();
    for (n, batch) in rows.chunks(per_tx).enumerate() {
        store
            .apply_items_page(
                batch,
                Some(&format!("cursor-{n}")),
                "2026-11-24T00:00:00.000Z",
            )
            .await
            .unwrap();
    }
    let rate = rows.len() as f64 / started.elapsed().as_secs_f64();
    store.close().await;
    rate
}

async fn ingest_audit(path: &Path, rows: &[AuditRecord], per_tx: usize) -> f64 {
    let store = Store::open(path).await.unwrap();
    let started = Instant::now();
    for batch in rows.chunks(per_tx) {
        store
            .apply_audit_page(batch, Some("bench"), "2026-11-24T00:00:00.000Z")
            .await
            .unwrap();
    }
    let rate = rows.len() as f64 / started.elapsed().as_secs_f64();
    store.close().await;
    rate
}
