//! Outbox flush: decisions made offline, then sent when the server is back, against the
//! single-decision endpoint's own throughput (a bare HTTP client posting the same kind of
//! decisions one at a time, as the engine did before it sent batches).
//!
//! Runs under scripts/bench-flush.sh (PostgreSQL through scripts/scale-stack.sh, in a
//! private desktop session for the engine's keychain). Rounds alternate the two sides
//! (A B A B) on fresh items, on loopback and again with a 50 ms round trip added to each
//! connection (a tenth of the rows there). For each, the report gives each side's rows
//! per second per round, their medians, and `flush_vs_single_ratio` (goal: at least 1.0).
//! Afterwards the audit log must hold each decision exactly once. Report: bench/results/flush-<time>.json.
//!
//!   scripts/bench-flush.sh            # 10,000 decisions a side (the size)
//!   scripts/bench-flush.sh --quick    # 1,000 a side

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use steward_bench::report::{Report, Row, median};
use steward_bench::router::Router;
use steward_bench::stack::{Admin, BoxError, Stack, cached_items_in};
use steward_core::{DecisionAction, ItemState};
use steward_engine::{Engine, EngineConfig};

const ROUNDS: usize = 4;
/// The round trip of the second condition: a moderator on a far-away network.
const RTT_MS: u64 = 50;

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    if let Err(error) = run().await {
        eprintln!("flush bench failed: {error}");
        std::process::exit(1);
    }
}

async fn run() -> Result<(), BoxError> {
    let quick = std::env::args().any(|arg| arg == "--quick");
    // BENCH_FLUSH_PER_SIDE: scripts/bench.sh --quick (CI) takes fewer still.
    let per_side = std::env::var("BENCH_FLUSH_PER_SIDE")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(if quick { 1_000 } else { 10_000 });
    let stack = Stack::from_env()?;
    let password = std::env::var("LOAD_PASSWORD").unwrap_or_else(|_| "load-password".into());
    let user = stack.moderators("flushmod", 1, &password)?.remove(0);
    let front = Router::start(&stack.web, &[]).await?;

    let data = tempfile::tempdir()?;
    let mut config = EngineConfig::new(data.path().to_path_buf());
    config.keychain_service = format!("dev.steward.flush.{}", std::process::id());
    config.undo_window = Duration::ZERO;
    config.poll_interval = Duration::from_secs(3600);
    let engine = Engine::open(config).await?;
    engine.sign_in(&front.url, &user, &password).await?;
    engine.sync_now().await?;

    let mut open = Vec::new();
    for queue in engine.list_queues().await? {
        let items = cached_items_in(&engine, queue.id, ItemState::Open).await?;
        open.extend(items.iter().map(|item| (item.id, item.version)));
    }
    // On loopback, then over a network's round trip (fewer rows: single requests crawl).
    let conditions = [(0u64, per_side), (RTT_MS, per_side / 10)];
    let needed: usize = conditions.iter().map(|(_, n)| 2 * n).sum();
    if open.len() < needed {
        return Err(format!(
            "{} open items; the bench needs {needed} (seed more: SCALE_ITEMS)",
            open.len()
        )
        .into());
    }
    let access = Admin::sign_in(&front.url, &user, &password).await?;
    let http = reqwest::Client::new();
    let mut remaining = &open[..needed];
    let mut results = Vec::new();
    let mut report = Report::new("flush", quick);
    for (rtt, count) in conditions {
        front.delay_ms.store(rtt, Ordering::SeqCst);
        let (ours, rest) = remaining.split_at(count);
        let (theirs, rest) = rest.split_at(count);
        remaining = rest;
        let chunk = count / ROUNDS;
        let mut engine_rates = Vec::new();
        let mut bare_rates = Vec::new();
        for round in 0..ROUNDS {
            let part = round * chunk..(round + 1) * chunk;
            engine_rates.push(flush(&engine, &front, &ours[part.clone()]).await?);
            bare_rates
                .push(post_one_by_one(&http, &front.url, access.token(), &theirs[part]).await?);
            eprintln!(
                "flush: {rtt} ms round trip, round {}: engine {:.0} rows/s, single endpoint {:.0} rows/s",
                round + 1,
                engine_rates[round],
                bare_rates[round]
            );
        }
        let (engine_median, bare_median) = (median(&engine_rates), median(&bare_rates));
        let where_ = if rtt == 0 {
            "on loopback".to_string()
        } else {
            format!("with a {rtt} ms round trip")
        };
        report.row(
            Row::new(
                format!(
                    "outbox flush of {} decisions made offline, {where_}",
                    ROUNDS * chunk
                ),
                engine_median,
                "the decision endpoint's own throughput (a bare client posting the same decisions)",
                bare_median,
                "rows/s",
                true,
            )
            .goal_ratio(1.0)
            .rounds(
                engine_rates
                    .iter()
                    .zip(&bare_rates)
                    .map(|(ours, theirs)| ours / theirs)
                    .collect(),
            ),
        );
        results.push(json!({
            "round_trip_ms": rtt,
            "decisions_per_side": ROUNDS * chunk,
            "engine_batched_rows_per_second": rounded(&engine_rates),
            "single_endpoint_rows_per_second": rounded(&bare_rates),
            "engine_median": round(engine_median),
            "single_median": round(bare_median),
            "flush_vs_single_ratio": round(engine_median / bare_median),
            "flush_vs_single_ratio_spread": [
                round(min(&engine_rates) / max(&bare_rates)),
                round(max(&engine_rates) / min(&bare_rates)),
            ],
        }));
    }

    let ids: Vec<i64> = open[..needed].iter().map(|(id, _)| *id).collect();
    let counts = decide_counts(&stack, &ids)?;
    report.set("rounds", json!(ROUNDS));
    report.set("conditions", json!(results));
    report.set("duplicates", counts["doubled"].clone());
    report.set("missing", counts["missing"].clone());
    report.set("web_processes", json!(stack.web.len()));
    let _ = engine.sign_out(steward_core::SignOutMode::Discard).await;
    report.write()?;
    if counts["doubled"] != 0 || counts["missing"] != 0 {
        return Err(format!("the audit log disagrees: {counts}").into());
    }
    Ok(())
}

/// Decides `items` while the server is unreachable, then measures the time from the
/// server coming back to an empty outbox. Rows per second.
async fn flush(engine: &Engine, front: &Router, items: &[(i64, i64)]) -> Result<f64, BoxError> {
    front.offline.store(true, Ordering::SeqCst);
    for (id, _) in items {
        engine
            .decide_item(*id, DecisionAction::Remove, Some("spam".into()), None)
            .await?;
    }
    front.offline.store(false, Ordering::SeqCst);
    let started = Instant::now();
    loop {
        let status = engine.sync_now().await?;
        if status.pending == 0 {
            break;
        }
        if started.elapsed() > Duration::from_secs(900) {
            return Err(format!("the outbox did not drain: {status:?}").into());
        }
    }
    let status = engine.sync_status().await;
    if status.conflicts != 0 || status.refused != 0 {
        return Err(format!("the flush met conflicts or refusals: {status:?}").into());
    }
    Ok(items.len() as f64 / started.elapsed().as_secs_f64())
}

/// The same decisions, one request each, in order. Rows per second.
async fn post_one_by_one(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    items: &[(i64, i64)],
) -> Result<f64, BoxError> {
    let started = Instant::now();
    for (id, version) in items {
        let answer = http
            .post(format!("{base}/api/v1/items/{id}/decisions"))
            .bearer_auth(token)
            .header("Idempotency-Key", uuid::Uuid::new_v4().to_string())
            .json(&json!({"action": "remove", "reason_code": "spam", "note": "", "base_version": version}))
            .send()
            .await?;
        if answer.status() != 201 {
            return Err(format!("item {id}: HTTP {}", answer.status()).into());
        }
        answer.bytes().await?;
    }
    Ok(items.len() as f64 / started.elapsed().as_secs_f64())
}

/// How many of `ids` have more than one decision in the audit log, and how many none.
fn decide_counts(stack: &Stack, ids: &[i64]) -> Result<Value, BoxError> {
    let script = format!(
        "import json\n\
         from django.db.models import Count\n\
         from steward.models import AuditEvent\n\
         ids = [str(i) for i in {ids:?}]\n\
         counts = dict(AuditEvent.objects.filter(action='item.decide', target_type='item', \
         target_id__in=ids).values_list('target_id').annotate(n=Count('id')))\n\
         print(json.dumps({{'doubled': sum(1 for n in counts.values() if n > 1), \
         'missing': sum(1 for i in ids if i not in counts)}}))\n"
    );
    let out = stack.django(&script)?;
    Ok(serde_json::from_str(out.lines().last().unwrap_or("{}"))?)
}

fn min(values: &[f64]) -> f64 {
    values.iter().copied().fold(f64::INFINITY, f64::min)
}

fn max(values: &[f64]) -> f64 {
    values.iter().copied().fold(0.0, f64::max)
}

fn round(value: f64) -> f64 {
    (value * 100.0).round() / 100.0
}

fn rounded(values: &[f64]) -> Vec<f64> {
    values.iter().map(|v| round(*v)).collect()
}
