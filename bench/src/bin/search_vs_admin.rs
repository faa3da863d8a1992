//! Audit search: Steward's local search (the engine call the audit screen makes for its
//! first block of rows) against the Django admin's changelist search for the same words
//! over the same rows (the real admin page, signed in, over HTTP: bench/py/admin_side.py),
//! interleaved A B A B. p50 and p95 of each side, and their ratios. Goal (issue 16): at
//! least 50x faster; at 10M events, Steward's p50 at most 20 ms.
//!
//! Runs under scripts/scale-stack.sh on PostgreSQL seeded by seed_demo, in a private
//! desktop session for the engine's keychain. With `--cache DIR` (a data directory that
//! `bootstrap --keep DIR` left) the engine signs in on that cache and only catches up;
//! otherwise its first sync is the whole download. The UI path (a keystroke in the filter
//! to the list painted) is bench/ui-latency/scenarios.mjs's.
//!
//!   search_vs_admin [--quick] [--rounds N] [--cache DIR] [--words FILE] [--queries N]

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use steward_bench::report::{Report, Row, median, percentile, spread};
use steward_bench::stack::{Admin, BoxError, Stack};
use steward_core::AuditQuery;
use steward_engine::{Engine, EngineConfig};

/// The audit screen's first block (ui/src/lib/shared/block-window.ts, BLOCK_SIZE).
const FIRST_BLOCK: i64 = 200;

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    if let Err(error) = run().await {
        eprintln!("search_vs_admin bench failed: {error}");
        std::process::exit(1);
    }
}

async fn run() -> Result<(), BoxError> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut quick = false;
    let mut rounds = 0usize;
    let mut cache: Option<PathBuf> = None;
    let mut words_file = root.join("bench/words/audit.txt");
    let mut queries = 0usize;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--quick" => quick = true,
            "--rounds" => rounds = args.next().and_then(|n| n.parse().ok()).unwrap_or(0),
            "--cache" => cache = args.next().map(PathBuf::from),
            "--words" => words_file = args.next().map(PathBuf::from).unwrap_or(words_file),
            "--queries" => queries = args.next().and_then(|n| n.parse().ok()).unwrap_or(0),
            other => eprintln!("search_vs_admin: ignoring {other}"),
        }
    }
    let mut report = Report::new("audit-search", quick);
    let rounds = if rounds > 0 {
        rounds
    } else if quick {
        2
    } else {
        4
    };
    let words: Vec<String> = std::fs::read_to_string(&words_file)?
        .lines()
        .map(str::trim)
        .filter(|w| !w.is_empty())
        .map(String::from)
        .collect();
    let queries = if queries > 0 { queries } else { words.len() };
    let stack = Stack::from_env()?;
    let base = stack.web[0].clone();
    let password = std::env::var("SCALE_PASSWORD").unwrap_or_else(|_| "admin-demo".into());

    let (data, _owned) = match cache {
        Some(dir) => (dir, None),
        None => {
            let dir = tempfile::tempdir()?;
            (dir.path().to_path_buf(), Some(dir))
        }
    };
    let mut config = EngineConfig::new(data);
    config.keychain_service = format!("dev.steward.bench.search.{}", std::process::id());
    config.poll_interval = Duration::from_secs(3600);
    let engine = Engine::open(config).await?;
    let synced = Instant::now();
    engine.sign_in(&base, "admin", &password).await?;
    loop {
        let status = engine.sync_now().await?;
        if let Some(error) = status.last_error {
            return Err(format!("the sync failed: {error:?}").into());
        }
        if status.bootstrap.is_none() {
            break;
        }
    }
    println!(
        "search_vs_admin: the cache is up to date ({:.1} s)",
        synced.elapsed().as_secs_f64()
    );
    // The search's own total is capped (the screen says "1,000+"); the server's is not.
    let events = Admin::sign_in(&base, "admin", &password)
        .await?
        .get("audit?limit=1")
        .await?["total"]
        .as_i64()
        .unwrap_or(0);

    let python = root.join(".venv/bin/python");
    let mut steward_ms: Vec<f64> = Vec::new();
    let mut admin_ms: Vec<f64> = Vec::new();
    let mut p50_ratios = Vec::new();
    let mut matches = Vec::new();
    let mut admin_failed = Vec::new();
    for round in 0..rounds {
        let mut ours = Vec::new();
        let mut theirs = Vec::new();
        for side in 0..2 {
            if (side == 0) == (round % 2 == 0) {
                for n in 0..queries {
                    let word = &words[n % words.len()];
                    let query = AuditQuery {
                        text: Some(word.clone()),
                        ..AuditQuery::default()
                    };
                    let started = Instant::now();
                    let page = engine.search_audit(query, 0, FIRST_BLOCK).await?;
                    ours.push(started.elapsed().as_secs_f64() * 1000.0);
                    if round == 0 {
                        matches.push(json!({"words": word, "steward_total": page.total, "steward_capped": page.total_capped}));
                    }
                }
            } else {
                let output = Command::new(&python)
                    .arg(root.join("bench/py/admin_side.py"))
                    .args([
                        "search",
                        "--url",
                        &base,
                        "--username",
                        "admin",
                        "--password",
                        &password,
                    ])
                    .arg("--words-file")
                    .arg(&words_file)
                    .args(["--queries", &queries.to_string(), "--timeout", "600"])
                    .output()?;
                if !output.status.success() {
                    return Err(format!(
                        "admin_side.py search failed: {}",
                        String::from_utf8_lossy(&output.stderr)
                    )
                    .into());
                }
                let answer: Value = serde_json::from_slice(&output.stdout)?;
                theirs.extend(
                    answer["samples_ms"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(Value::as_f64),
                );
                admin_failed.extend(answer["failed"].as_array().cloned().unwrap_or_default());
                if round == 0 {
                    for (entry, shown) in matches
                        .iter_mut()
                        .zip(answer["matches"].as_array().into_iter().flatten())
                    {
                        entry["admin_matches"] = shown.clone();
                    }
                }
            }
        }
        println!(
            "round {round}: Steward p50 {:.2} ms, admin p50 {:.0} ms",
            median(&ours),
            median(&theirs)
        );
        p50_ratios.push(median(&theirs) / median(&ours));
        steward_ms.extend(ours);
        admin_ms.extend(theirs);
    }
    engine.close().await;

    let label = format!("{events} audit events, {queries} queries x {rounds} rounds");
    report.row(
        Row::new(
            format!("audit search p50 ({label})"),
            median(&steward_ms),
            "Django admin changelist search, same words, over HTTP",
            median(&admin_ms),
            "ms",
            false,
        )
        .goal_ratio(50.0)
        .rounds(p50_ratios),
    );
    report.row(
        Row::new(
            format!("audit search p95 ({label})"),
            percentile(&steward_ms, 95.0),
            "Django admin changelist search, same words, over HTTP",
            percentile(&admin_ms, 95.0),
            "ms",
            false,
        )
        .goal_ratio(50.0),
    );
    if events >= 10_000_000 {
        report.row(
            Row::new(
                format!("audit search p50 at {events} events"),
                median(&steward_ms),
                "goal: 20 ms",
                20.0,
                "ms",
                false,
            )
            .goal_ratio(1.0),
        );
    }
    report.set("events", json!(events));
    report.set("first_block_rows", json!(FIRST_BLOCK));
    report.set("words", json!(words));
    report.set("matches", json!(matches));
    report.set("steward_ms", json!(steward_ms));
    report.set("admin_ms", json!(admin_ms));
    report.set("steward_ms_spread", json!(spread(&steward_ms)));
    report.set("admin_failed", json!(admin_failed));
    report.write()?;
    Ok(())
}
