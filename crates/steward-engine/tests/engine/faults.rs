//! The fault matrix: an engine deciding through a loopback proxy that breaks the network
//! on purpose, from a seeded schedule, with server restarts in between; in some runs the
//! decisions are made by a child process on the same cache, killed with SIGKILL while it
//! pushes, and the engine reopened on the files it left. After each run the network
//! heals and the outbox drains; then every decision must be on the server exactly once
//! (or shown to the moderator as a conflict or refusal), and the cache must equal the
//! server. 8 runs by default; `STEWARD_LONG_TESTS=1` runs 1,000.
//! `STEWARD_FAULT_SEED=<n>` replays a run. Report: tests/results/fault-matrix-<mode>.json.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use steward_core::{DecisionAction, ItemState};
use steward_engine::Engine;
use steward_store::Store;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};

use crate::proxy::exchange;
use crate::server::{PASSWORD, TestServer, decide_events, repo_root};
use crate::{TestResult, cache_file, fullest_queue, keychain_service, open_engine_with};

/// What the proxy does to one connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fault {
    None,
    /// Closed before anything is forwarded.
    Drop,
    /// Reset (RST) before anything is forwarded.
    Reset,
    /// Held for a while, then forwarded.
    Stall,
    /// Answered 503 by the proxy; the server never sees it.
    ServerError,
    /// Forwarded and applied; the answer is cut in half.
    Truncate,
    /// Forwarded and applied; one byte of the answer's body is changed.
    Corrupt,
    /// Forwarded and applied; the answer never comes back.
    LoseAnswer,
}

const FAULTS: [Fault; 7] = [
    Fault::Drop,
    Fault::Reset,
    Fault::Stall,
    Fault::ServerError,
    Fault::Truncate,
    Fault::Corrupt,
    Fault::LoseAnswer,
];

struct FaultProxy {
    url: String,
    breaking: Arc<AtomicBool>,
    seed: Arc<AtomicU64>,
    /// Connections forwarded to the server so far: a kill can be timed to a request.
    forwarded: Arc<AtomicU64>,
}

impl FaultProxy {
    async fn start(upstream_port: u16) -> FaultProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let breaking = Arc::new(AtomicBool::new(false));
        let seed = Arc::new(AtomicU64::new(0));
        let forwarded = Arc::new(AtomicU64::new(0));
        let (on, next, count) = (
            Arc::clone(&breaking),
            Arc::clone(&seed),
            Arc::clone(&forwarded),
        );
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                // Each connection's fault follows from the run's seed and its number.
                let fault = if on.load(Ordering::SeqCst) {
                    let mut rng = StdRng::seed_from_u64(next.fetch_add(1, Ordering::SeqCst));
                    if rng.random_bool(0.45) {
                        FAULTS[rng.random_range(0..FAULTS.len())]
                    } else {
                        Fault::None
                    }
                } else {
                    Fault::None
                };
                tokio::spawn(forward(client, upstream_port, fault, Arc::clone(&count)));
            }
        });
        FaultProxy {
            url,
            breaking,
            seed,
            forwarded,
        }
    }
}

async fn forward(
    mut client: TcpStream,
    upstream_port: u16,
    fault: Fault,
    forwarded: Arc<AtomicU64>,
) {
    match fault {
        Fault::Drop => return,
        Fault::Reset => {
            let _ = client.set_zero_linger();
            return;
        }
        Fault::ServerError => {
            let _ = client
                .write_all(b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/html\r\nContent-Length: 9\r\nConnection: close\r\n\r\nno server")
                .await;
            return;
        }
        Fault::Stall => tokio::time::sleep(Duration::from_millis(1500)).await,
        _ => {}
    }
    let Ok(server) = TcpStream::connect(("127.0.0.1", upstream_port)).await else {
        return;
    };
    forwarded.fetch_add(1, Ordering::SeqCst);
    let (mut client_write, mut answer) = exchange(client, server).await;
    if tracing() {
        trace(&format!("{fault:?}: {}", describe_answer(&answer)));
    }
    match fault {
        Fault::LoseAnswer => return,
        Fault::Truncate => answer.truncate(answer.len() / 2),
        Fault::Corrupt => {
            if let Some(at) = answer.windows(4).position(|w| w == b"\r\n\r\n") {
                let body = at + 4 + (answer.len() - at - 4) / 2;
                if body < answer.len() {
                    answer[body] ^= 0x5a;
                }
            }
        }
        _ => {}
    }
    let _ = client_write.write_all(&answer).await;
    let _ = client_write.shutdown().await;
}

/// `STEWARD_FAULT_TRACE=1` prints a line per answer the proxy forwards (its fault, status
/// and, for token answers, the tokens' last characters) and per kill, with the time: the
/// timeline a failed seed needs beside the server's session history.
fn tracing() -> bool {
    std::env::var("STEWARD_FAULT_TRACE").is_ok_and(|v| v == "1")
}

fn trace(line: &str) {
    eprintln!(
        "fault trace {}: {line}",
        chrono::Utc::now().format("%H:%M:%S%.3f")
    );
}

fn describe_answer(answer: &[u8]) -> String {
    let text = String::from_utf8_lossy(answer);
    let status = text.lines().next().unwrap_or("").to_string();
    let tail = |key: &str| {
        text.split(&format!("\"{key}\":\"")).nth(1).map(|rest| {
            let token: String = rest.chars().take_while(|c| *c != '"').collect();
            token.chars().rev().take(8).collect::<String>()
        })
    };
    match tail("refresh_token") {
        Some(refresh) => format!("{status} refresh ...{refresh} (reversed)"),
        None => status,
    }
}

#[derive(Default)]
struct Tally {
    runs: u32,
    decisions: u32,
    applied: u32,
    shown: u32,
    lost: u32,
    doubled: u32,
    diverged: u32,
    restarts: u32,
    /// Runs whose decisions a child process made and was killed with SIGKILL while pushing.
    kills: u32,
    /// Of those, kills that left a row marked as sent (its request out, its answer not
    /// applied): the engine must resend it with the same key.
    kills_with_a_row_in_flight: u32,
    /// Of those, kills after which the server had some but not all of the run's decisions.
    kills_between_answers: u32,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_fault_matrix_loses_and_doubles_nothing() -> TestResult {
    let long = std::env::var("STEWARD_LONG_TESTS").is_ok_and(|v| v == "1");
    let runs: u32 = if long { 1_000 } else { 8 };
    let per_run: usize = 5;
    let base_seed: u64 = match std::env::var("STEWARD_FAULT_SEED") {
        Ok(seed) => seed.parse()?,
        Err(_) => rand::rng().random(),
    };
    println!(
        "fault matrix: seed {base_seed} ({runs} runs; STEWARD_FAULT_SEED={base_seed} replays it)"
    );

    let mut server = TestServer::start(runs * per_run as u32 * 12 / 10 + 40);
    let port: u16 = server.url.rsplit(':').next().unwrap().parse()?;
    let proxy = FaultProxy::start(port).await;
    let data = tempfile::tempdir()?;
    let service = keychain_service();
    let mut engine = open_matrix_engine(data.path(), &service).await;
    engine.sign_in(&proxy.url, "moderator", PASSWORD).await?;
    engine.sync_now().await?;
    let mut admin = server.admin_token().await;
    let mut admin_since = Instant::now();
    let started = Instant::now();
    let mut tally = Tally::default();

    for run in 0..runs {
        // The checks' own token outlives no long run: a fresh one every few minutes.
        if admin_since.elapsed() > Duration::from_secs(300) {
            admin = server.admin_token().await;
            admin_since = Instant::now();
        }
        let seed = base_seed.wrapping_add(u64::from(run));
        let mut rng = StdRng::seed_from_u64(seed);
        let (_queue, items) = fullest_queue(&engine).await?;
        let open: Vec<i64> = items
            .iter()
            .filter(|i| i.state == ItemState::Open && i.pending_action.is_none())
            .map(|i| i.id)
            .take(per_run)
            .collect();
        if open.is_empty() {
            break;
        }
        proxy.seed.store(seed.wrapping_mul(7919), Ordering::SeqCst);
        proxy.breaking.store(true, Ordering::SeqCst);
        let decisions: Vec<(i64, DecisionAction)> = open
            .iter()
            .map(|&id| {
                let action = if rng.random_bool(0.5) {
                    DecisionAction::Remove
                } else {
                    DecisionAction::Approve
                };
                (id, action)
            })
            .collect();
        tally.decisions += decisions.len() as u32;
        // In the short run (CI) every third run crashes, so each CI run kills the app.
        let drawn = rng.random_bool(0.15);
        let crash = drawn || (!long && run % 3 == 1);
        if tracing() {
            trace(&format!("run {run} begins (seed {seed}, crash {crash})"));
        }
        if crash {
            // The app dies while it pushes: a child decides on the same cache and is
            // killed with SIGKILL; the engine then opens the files it left behind.
            engine.close().await;
            drop(engine);
            // Half the kills are timed from the queuing, half to a request on its way.
            let kill_at = if rng.random_bool(0.5) {
                KillAt::AfterQueued(Duration::from_millis(rng.random_range(0..900)))
            } else {
                KillAt::AfterForwarded(Duration::from_millis(rng.random_range(0..40)))
            };
            let kill = decide_in_a_child_and_kill(
                data.path(),
                &service,
                &decisions,
                kill_at,
                &proxy,
                &server,
                &admin,
            )
            .await?;
            tally.kills += 1;
            tally.kills_with_a_row_in_flight += u32::from(kill.rows_in_flight > 0);
            tally.kills_between_answers +=
                u32::from(kill.applied > 0 && kill.applied < decisions.len());
            engine = open_matrix_engine(data.path(), &service).await;
        } else {
            for &(id, action) in &decisions {
                engine.decide_item(id, action, None, None).await?;
                tokio::time::sleep(Duration::from_millis(rng.random_range(0..400))).await;
                if rng.random_bool(0.08) {
                    // The server goes away in the middle of the pushes and comes back.
                    server.stop();
                    tokio::time::sleep(Duration::from_millis(rng.random_range(100..800))).await;
                    server.resume();
                    tally.restarts += 1;
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(rng.random_range(0..1500))).await;
        proxy.breaking.store(false, Ordering::SeqCst);

        let deadline = Instant::now() + Duration::from_secs(90);
        loop {
            let status = engine.sync_now().await?;
            if status.pending == 0 {
                break;
            }
            if Instant::now() >= deadline {
                // The session's history on the server is the evidence a failed run needs.
                let sessions = server.shell(SESSION_HISTORY);
                panic!(
                    "run {run} (seed {seed}): the outbox did not drain: {status:?}\nthe moderator's sessions:\n{sessions}"
                );
            }
            if status
                .last_error
                .as_ref()
                .is_some_and(|e| e.code == steward_core::ErrorCode::SessionExpired)
            {
                let sessions = server.shell(SESSION_HISTORY);
                panic!(
                    "run {run} (seed {seed}): the session ended: {status:?}\nthe moderator's sessions:\n{sessions}"
                );
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        engine.sync_now().await?;

        let conflicts = engine.list_conflicts().await?;
        let refused = engine.list_refused().await?;
        for &id in &open {
            let events = decide_events(&server, &admin, id).await;
            let shown = conflicts.iter().any(|c| c.item_id == id)
                || refused.iter().any(|r| r.target_id == id);
            match (events.len(), shown) {
                (1, _) => tally.applied += 1,
                (0, true) => tally.shown += 1,
                (0, false) => {
                    tally.lost += 1;
                    println!("run {run} (seed {seed}): the decision on item {id} was lost");
                }
                (_, _) => {
                    tally.doubled += 1;
                    println!(
                        "run {run} (seed {seed}): item {id} was decided {} times",
                        events.len()
                    );
                }
            }
            let on_server = server.get(&admin, &format!("items/{id}")).await;
            let cached = engine.get_item(id).await?.summary;
            if on_server["state"].as_str() != Some(cached.state.as_str())
                || on_server["version"].as_i64() != Some(cached.version)
            {
                tally.diverged += 1;
                println!(
                    "run {run} (seed {seed}): item {id} is {} v{} on the server, {} v{} in the cache",
                    on_server["state"],
                    on_server["version"],
                    cached.state.as_str(),
                    cached.version
                );
            }
        }
        tally.runs += 1;
    }

    let report = serde_json::json!({
        "mode": if long { "long" } else { "short" },
        "seed": base_seed,
        "runs": tally.runs,
        "decisions": tally.decisions,
        "applied_once": tally.applied,
        "shown_as_conflict_or_refusal": tally.shown,
        "lost": tally.lost,
        "doubled": tally.doubled,
        "diverged": tally.diverged,
        "server_restarts": tally.restarts,
        "client_sigkills": tally.kills,
        "client_sigkills_with_a_row_in_flight": tally.kills_with_a_row_in_flight,
        "client_sigkills_between_answers": tally.kills_between_answers,
        "faults": "per connection, 45%: drop, reset, 1.5 s stall, proxy 503, truncated answer, corrupted body, answer lost after the server applied it; per run, 15% (and every third run of the short mode): the deciding app killed with SIGKILL 0-900 ms after its decisions were queued or 0-40 ms after one of its requests reached the server, else 8% per decision: a server restart",
        "seconds": started.elapsed().as_secs(),
    });
    println!("fault matrix: {report}");
    let dir = repo_root().join("tests/results");
    std::fs::create_dir_all(&dir)?;
    let name = if long {
        "fault-matrix-long.json"
    } else {
        "fault-matrix-short.json"
    };
    std::fs::write(dir.join(name), format!("{report:#}\n"))?;
    assert_eq!(
        (tally.lost, tally.doubled, tally.diverged),
        (0, 0, 0),
        "seed {base_seed}: {report}"
    );
    assert!(tally.runs > 0);
    Ok(())
}

/// Every token family of the moderator, with its refresh tokens in order.
const SESSION_HISTORY: &str = "
from steward.models import TokenFamily
for family in TokenFamily.objects.filter(user__username='moderator').order_by('id'):
    print('family', family.id, family.created_at, family.revoked_at, family.revoked_reason)
    for t in family.refresh_tokens.order_by('id'):
        print('  refresh', t.id, 'created', t.created_at, 'used', t.used_at, 'superseded', t.superseded_at, 'replaced_by', t.replaced_by_id)
";

async fn open_matrix_engine(data: &Path, service: &str) -> Arc<Engine> {
    open_engine_with(data, service, |config| {
        config.poll_interval = Duration::from_millis(300);
    })
    .await
}

/// When the deciding child is killed.
#[derive(Debug, Clone, Copy)]
enum KillAt {
    /// This long after it queued its decisions.
    AfterQueued(Duration),
    /// This long after the proxy next forwards a request of it to the server.
    AfterForwarded(Duration),
}

/// What a kill left behind.
struct Kill {
    /// The run's decisions on the server when the child died.
    applied: usize,
    /// Outbox rows marked as sent, but not settled, in the cache the child left.
    rows_in_flight: usize,
}

/// Runs `crash_child` on the data directory (its session comes from the keychain, its
/// server is the fault proxy), lets it queue `decisions` and push until `kill_at`, then
/// kills it with SIGKILL and reads what it left: the server's count and the cache's rows
/// marked as sent.
async fn decide_in_a_child_and_kill(
    data: &Path,
    service: &str,
    decisions: &[(i64, DecisionAction)],
    kill_at: KillAt,
    proxy: &FaultProxy,
    server: &TestServer,
    admin: &str,
) -> Result<Kill, Box<dyn std::error::Error>> {
    let queued = data.join("crash-child-queued");
    let _ = std::fs::remove_file(&queued);
    let listed: Vec<String> = decisions
        .iter()
        .map(|(id, action)| format!("{id}:{}", action.as_str()))
        .collect();
    let mut child = Command::new(std::env::current_exe()?)
        .args([
            "--exact",
            "faults::crash_child",
            "--nocapture",
            "--test-threads",
            "1",
        ])
        .env("STEWARD_CRASH_DATA", data)
        .env("STEWARD_CRASH_SERVICE", service)
        .env("STEWARD_CRASH_DECISIONS", listed.join(","))
        .stdout(Stdio::null())
        .spawn()?;
    let deadline = Instant::now() + Duration::from_secs(60);
    while !queued.exists() {
        if let Some(status) = child.try_wait()? {
            return Err(format!("the deciding child ended before it was killed: {status}").into());
        }
        if Instant::now() > deadline {
            child.kill()?;
            child.wait()?;
            return Err("the deciding child never queued its decisions".into());
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    match kill_at {
        KillAt::AfterQueued(after) => tokio::time::sleep(after).await,
        KillAt::AfterForwarded(after) => {
            // The next request to reach the server once everything is queued.
            let seen = proxy.forwarded.load(Ordering::SeqCst);
            let wait_until = Instant::now() + Duration::from_secs(10);
            while proxy.forwarded.load(Ordering::SeqCst) <= seen && Instant::now() < wait_until {
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
            tokio::time::sleep(after).await;
        }
    }
    child.kill()?; // SIGKILL
    if tracing() {
        trace("the deciding child is killed");
    }
    child.wait()?;
    let mut applied = 0;
    for &(id, _) in decisions {
        applied += usize::from(!decide_events(server, admin, id).await.is_empty());
    }
    let cache = cache_file(data).ok_or("no cache file in the data directory")?;
    let store = Store::open(&cache).await?;
    let rows_in_flight = store
        .due_rows("9999-12-31T00:00:00.000Z", 10_000)
        .await?
        .iter()
        .filter(|row| row.sending)
        .count();
    store.close().await;
    Ok(Kill {
        applied,
        rows_in_flight,
    })
}

/// The app that dies: opens the engine on the matrix's data directory, queues the
/// decisions it is given, says so, and pushes until it is killed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crash_child() -> TestResult {
    let (Ok(data), Ok(service), Ok(decisions)) = (
        std::env::var("STEWARD_CRASH_DATA"),
        std::env::var("STEWARD_CRASH_SERVICE"),
        std::env::var("STEWARD_CRASH_DECISIONS"),
    ) else {
        // Only meaningful as the child of the fault matrix.
        return Ok(());
    };
    let data = PathBuf::from(data);
    let engine = open_matrix_engine(&data, &service).await;
    assert!(
        engine.app_state().await.session.is_some(),
        "the session comes back from the keychain"
    );
    for decision in decisions.split(',') {
        let (id, action) = decision.split_once(':').ok_or("id:action")?;
        let action = match action {
            "remove" => DecisionAction::Remove,
            _ => DecisionAction::Approve,
        };
        engine.decide_item(id.parse()?, action, None, None).await?;
    }
    std::fs::write(data.join("crash-child-queued"), "")?;
    loop {
        let _ = engine.sync_now().await;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
