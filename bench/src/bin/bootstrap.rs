//! Bootstrap sync: from sign-in to a complete mirror (every item, account, job and audit
//! event the user may read), against fetching the same pages with a bare HTTP client in
//! the same run: the server's own limit. Goal (issue 16): Steward at most 1.2x the bare
//! client's time, i.e. a ratio (bare / Steward) of at least 0.83. Ingest rows per second
//! are reported beside it.
//!
//! Runs under scripts/scale-stack.sh on PostgreSQL seeded by seed_demo (scripts/bench.sh
//! starts it with SCALE_ITEMS and SCALE_AUDIT), in a private desktop session for the
//! engine's keychain. Rounds alternate the sides (A B A B), each engine round with a
//! fresh cache; `--keep DIR` keeps the last engine round's data directory there (the
//! audit-search and memory scenarios reuse it).
//!
//!   bootstrap [--quick] [--rounds N] [--keep DIR]

use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde::Deserialize;
use serde_json::json;
use steward_bench::cache::cache_file;
use steward_bench::report::{Report, Row, median, spread};
use steward_bench::stack::{Admin, BoxError, Stack, encode};
use steward_engine::{Engine, EngineConfig};
use steward_store::Store;

/// The engine's page size (crates/steward-engine/src/feeds.rs), so both sides ask the
/// server for the same pages.
const PAGE_SIZE: u32 = 500;
/// The feeds the engine pulls for a user who may read them all, in its order, with the
/// parameter each takes its cursor in.
const FEEDS: [(&str, &str); 4] = [
    ("items", "updated_after"),
    ("accounts", "updated_after"),
    ("jobs", "updated_after"),
    ("audit", "cursor"),
];

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    if let Err(error) = run().await {
        eprintln!("bootstrap bench failed: {error}");
        std::process::exit(1);
    }
}

struct Args {
    quick: bool,
    rounds: usize,
    keep: Option<PathBuf>,
}

fn args() -> Args {
    let mut parsed = Args {
        quick: false,
        rounds: 0,
        keep: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--quick" => parsed.quick = true,
            "--rounds" => parsed.rounds = args.next().and_then(|n| n.parse().ok()).unwrap_or(0),
            "--keep" => parsed.keep = args.next().map(PathBuf::from),
            other => eprintln!("bootstrap: ignoring {other}"),
        }
    }
    if parsed.rounds == 0 {
        parsed.rounds = if parsed.quick { 2 } else { 3 };
    }
    parsed
}

async fn run() -> Result<(), BoxError> {
    let args = args();
    let mut report = Report::new("bootstrap", args.quick);
    let stack = Stack::from_env()?;
    let password = std::env::var("SCALE_PASSWORD").unwrap_or_else(|_| "admin-demo".into());
    let base = stack.web[0].clone();
    let admin = Admin::sign_in(&base, "admin", &password).await?;
    let mut totals = serde_json::Map::new();
    let mut rows_in_all = 0;
    for (feed, _) in FEEDS {
        let total = admin.get(&format!("{feed}?limit=1")).await?["total"]
            .as_i64()
            .unwrap_or(0);
        totals.insert(feed.to_string(), json!(total));
        rows_in_all += total;
    }
    println!("bootstrap: the server holds {totals:?}");

    let mut engine_seconds = Vec::new();
    let mut bare_seconds = Vec::new();
    let mut round_ratios = Vec::new();
    for round in 0..args.rounds {
        let last = round + 1 == args.rounds;
        // A B, then B A: neither side always runs on a warmer server.
        let engine_first = round % 2 == 0;
        let mut engine_time = 0.0;
        let mut bare_time = 0.0;
        for side in 0..2 {
            if (side == 0) == engine_first {
                let keep = if last { args.keep.clone() } else { None };
                engine_time = engine_side(&base, &password, round, &totals, keep).await?;
                println!("round {round}: Steward {engine_time:.2} s");
            } else {
                bare_time = bare_side(&base, &password).await?;
                println!("round {round}: bare client {bare_time:.2} s");
            }
        }
        engine_seconds.push(engine_time);
        bare_seconds.push(bare_time);
        round_ratios.push(bare_time / engine_time);
    }

    let items = totals["items"].as_i64().unwrap_or(0);
    let audit = totals["audit"].as_i64().unwrap_or(0);
    let engine = median(&engine_seconds);
    let bare = median(&bare_seconds);
    report.row(
        Row::new(
            format!("bootstrap sync, sign-in to a complete mirror ({items} items, {audit} audit events, {rows_in_all} rows in all)"),
            engine,
            "bare HTTP client fetching the same pages",
            bare,
            "s",
            false,
        )
        .goal_ratio(0.83)
        .rounds(round_ratios)
        .with("goal", json!("Steward at most 1.2x the bare client's time (ratio >= 0.83)"))
        .with("steward_seconds_by_round", json!(engine_seconds))
        .with("bare_seconds_by_round", json!(bare_seconds))
        .with("steward_spread", json!(spread(&engine_seconds)))
        .with("bare_spread", json!(spread(&bare_seconds))),
    );
    report.row(Row::new(
        "bootstrap ingest, rows per second into the cache",
        rows_in_all as f64 / engine,
        "bare HTTP client, rows per second fetched",
        rows_in_all as f64 / bare,
        "rows/s",
        true,
    ));
    report.set("server_totals", json!(totals));
    report.set("page_size", json!(PAGE_SIZE));
    report.set("rounds", json!(args.rounds));
    report.set(
        "server",
        json!("scripts/scale-stack.sh web process (gunicorn), PostgreSQL"),
    );
    report.write()?;
    Ok(())
}

/// A fresh engine signs in and syncs until its cache holds every row the server has.
async fn engine_side(
    base: &str,
    password: &str,
    round: usize,
    totals: &serde_json::Map<String, serde_json::Value>,
    keep: Option<PathBuf>,
) -> Result<f64, BoxError> {
    let data = tempfile::tempdir()?;
    let mut config = EngineConfig::new(data.path().to_path_buf());
    config.keychain_service = format!("dev.steward.bench.bootstrap.{}.{round}", std::process::id());
    config.poll_interval = Duration::from_secs(3600);
    let engine = Engine::open(config).await?;
    let started = Instant::now();
    engine.sign_in(base, "admin", password).await?;
    loop {
        let status = engine.sync_now().await?;
        if let Some(error) = status.last_error {
            return Err(format!("the sync failed: {error:?}").into());
        }
        if status.bootstrap.is_none() {
            break;
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    engine.close().await;
    let cache = cache_file(data.path()).ok_or("no cache after the sync")?;
    let store = Store::open(&cache).await?;
    let (items, audit) = (store.item_count().await?, store.audit_count().await?);
    store.close().await;
    let want = |feed: &str| totals[feed].as_i64().unwrap_or(0);
    if items != want("items") || audit != want("audit") {
        return Err(format!(
            "the mirror is not complete: {items} items and {audit} audit events cached, the server has {} and {}",
            want("items"),
            want("audit")
        )
        .into());
    }
    if let Some(keep) = keep {
        let _ = std::fs::remove_dir_all(&keep);
        std::fs::create_dir_all(keep.parent().unwrap_or(&keep))?;
        let kept = data.keep();
        if std::fs::rename(&kept, &keep).is_err() {
            // Another file system: copy is not worth it; say where it is.
            println!("bootstrap: the last cache stays in {}", kept.display());
        }
    }
    Ok(elapsed)
}

#[derive(Deserialize)]
struct PageEnvelope {
    #[serde(default)]
    next_cursor: Option<String>,
    #[serde(default)]
    has_more: bool,
}

/// What the engine asks for, asked by a plain client that only reads the answers: sign
/// in, /me, queues, reason templates, then every page of every feed.
async fn bare_side(base: &str, password: &str) -> Result<f64, BoxError> {
    let http = reqwest::Client::new();
    let started = Instant::now();
    let login: serde_json::Value = http
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"username": "admin", "password": password}))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let token = login["access_token"]
        .as_str()
        .ok_or("no access token")?
        .to_string();
    let get = |path: String| {
        let request = http
            .get(format!("{base}/api/v1/{path}"))
            .bearer_auth(&token);
        async move { request.send().await?.error_for_status()?.bytes().await }
    };
    for path in ["me", "queues", "reason-templates"] {
        get(path.to_string()).await?;
    }
    for (feed, param) in FEEDS {
        let mut cursor: Option<String> = None;
        loop {
            let path = match &cursor {
                Some(c) => format!("{feed}?limit={PAGE_SIZE}&{param}={}", encode(c)),
                None => format!("{feed}?limit={PAGE_SIZE}"),
            };
            let body = get(path).await?;
            let page: PageEnvelope = serde_json::from_slice(&body)?;
            match page.next_cursor {
                Some(next) if page.has_more => cursor = Some(next),
                _ => break,
            }
        }
    }
    Ok(started.elapsed().as_secs_f64())
}
