//! Audit search over a million cached events: full-text words, filters, and both, as the
//! audit explorer asks them while the user types. Reports median and p95 latency.
//!
//!   cargo run --release -p steward-bench --bin audit_search [EVENTS] [QUERIES]

use std::time::Instant;

use steward_bench::{ACTIONS, ACTORS, Rng, WORDS, audit_event, report};
use steward_core::AuditQuery;
use steward_store::{CATCH_UP_BATCH_ROWS, Store};

/// The kinds of search, asked in turn.
const KINDS: [&str; 6] = [
    "word prefix",
    "two words",
    "word + actor",
    "word + action",
    "one target",
    "actor + time range",
];

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let events: i64 = args
        .next()
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let queries: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(300);
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("bench.sqlite3"))
        .await
        .unwrap();
    let mut rng = Rng::new(11);
    // Loaded as the sync writes a large download: CATCH_UP_BATCH_ROWS per transaction.
    let mut loading = std::time::Duration::ZERO;
    let mut batch = Vec::with_capacity(CATCH_UP_BATCH_ROWS);
    for id in 1..=events {
        batch.push(audit_event(&mut rng, id));
        if batch.len() == CATCH_UP_BATCH_ROWS || id == events {
            let started = Instant::now();
            store
                .apply_audit_page(&batch, Some("bench"), "2026-11-24T00:00:00.000Z")
                .await
                .unwrap();
            loading += started.elapsed();
            batch.clear();
        }
    }
    let loaded = store.audit_count().await.unwrap();
    report(
        &format!(
            "audit ingest with FTS5 into a growing cache ({loaded} rows, {CATCH_UP_BATCH_ROWS} per transaction)"
        ),
        loaded as f64 / loading.as_secs_f64(),
        "rows/s",
        "goal: 100k rows/s",
        100_000.0,
        true,
    );

    let mut timings = Vec::with_capacity(queries);
    let mut by_kind: Vec<Vec<f64>> = vec![Vec::new(); KINDS.len()];
    for n in 0..queries {
        let mut query = AuditQuery::default();
        match n % KINDS.len() {
            // A word as typed (prefix), then two words.
            0 => query.text = Some(rng.pick(WORDS)[..3].to_string()),
            1 => query.text = Some(format!("{} {}", rng.pick(WORDS), rng.pick(WORDS))),
            // A word and an actor, a word and an action.
            2 => {
                query.text = Some(rng.pick(WORDS).to_string());
                query.actor = Some(rng.pick(ACTORS).to_string());
            }
            3 => {
                query.text = Some(rng.pick(WORDS).to_string());
                query.action = Some(rng.pick(ACTIONS).to_string());
            }
            // One item's trail, as the item view's audit link asks it.
            4 => {
                query.target_type = Some("item".into());
                query.target_id = Some((rng.next_u64() % 100_000).to_string());
            }
            // Filters only, with a time range.
            _ => {
                query.actor = Some(rng.pick(ACTORS).to_string());
                query.from = Some("2026-03-01T00:00:00Z".into());
                query.to = Some("2026-06-01T00:00:00Z".into());
            }
        }
        let started = Instant::now();
        let page = store.search_audit(&query, 0, 100).await.unwrap();
        let elapsed = started.elapsed().as_secs_f64() * 1000.0;
        timings.push(elapsed);
        by_kind[n % KINDS.len()].push(elapsed);
        assert!(page.events.len() <= 100);
    }
    for (kind, mut times) in KINDS.into_iter().zip(by_kind) {
        times.sort_by(f64::total_cmp);
        println!(
            "  {kind}: median {:.1} ms, max {:.1} ms",
            times[times.len() / 2],
            times[times.len() - 1]
        );
    }
    timings.sort_by(f64::total_cmp);
    let median = timings[timings.len() / 2];
    let p95 = timings[timings.len() * 95 / 100];
    report(
        &format!(
            "audit search median ({events} events, {queries} queries, first page of 100 + capped count)"
        ),
        median,
        "ms",
        "goal: 20 ms",
        20.0,
        false,
    );
    report("audit search p95", p95, "ms", "goal: 20 ms", 20.0, false);
    report(
        "audit search median",
        median,
        "ms",
        "FACTS trial: unindexed LIKE over 1M rows, 110 ms",
        110.0,
        false,
    );
}
