//! The load test: many staff against several server processes on one PostgreSQL.
//!
//! Runs under scripts/load-test.sh, which starts the Procfile's processes with
//! scripts/scale-stack.sh (at least two web and two events processes) inside a private
//! desktop session (each engine keeps its token in the real keychain). Two modes, one
//! after the other:
//!
//! 1. engines: at least 20 engines, each with its own cache and session, claim and decide
//!    on one queue through a front door that routes like docs/deploy.md's proxy. Checked
//!    afterwards: every item decided exactly once, no decision through another user's
//!    claim, every decision each moderator made either on the server or shown to them as
//!    a conflict or refusal, and every cache equal to the server.
//! 2. light: 200 clients of the client crate alone hold the event stream and read and
//!    write; measured: requests per second, p50/p95 per endpoint, database connections.
//!
//! Prints the report and writes it to bench/results/load-<time>.json; exits non-zero when
//! a check fails. `--full` runs the long version (more engines and items, two minutes of
//! light clients); the default is the short one CI runs.

mod engines;
mod light;

use std::time::Duration;

use serde_json::json;
use steward_bench::router::Router;
use steward_bench::stack::{BoxError, Stack, write_result};

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    if let Err(error) = run().await {
        eprintln!("load test failed: {error}");
        std::process::exit(1);
    }
}

async fn run() -> Result<(), BoxError> {
    let full = std::env::args().any(|arg| arg == "--full");
    let stack = Stack::from_env()?;
    if stack.web.len() + stack.events.len() < 2 {
        return Err("the load test needs at least two server processes".into());
    }
    let password = std::env::var("LOAD_PASSWORD").unwrap_or_else(|_| "load-password".into());
    let front = Router::start(&stack.web, &stack.events).await?;
    eprintln!(
        "load: front door {} -> web {:?}, events {:?}",
        front.url, stack.web, stack.events
    );

    let engine_settings = engines::Settings {
        engines: if full { 40 } else { 20 },
        password: password.clone(),
        deadline: Duration::from_secs(if full { 900 } else { 240 }),
    };
    let many = engines::run(&stack, &front.url, &engine_settings).await?;
    eprintln!(
        "load: engines {}",
        serde_json::to_string_pretty(&summary(&many))?
    );

    let users = stack.moderators("loadmod", engine_settings.engines, &password)?;
    let light_settings = light::Settings {
        clients: 200,
        duration: Duration::from_secs(if full { 120 } else { 15 }),
        think_ms: (200, 2000),
    };
    let light = light::run(&stack, &front.url, &users, &light_settings).await?;
    eprintln!(
        "load: light clients {}",
        serde_json::to_string_pretty(&light)?
    );

    let failures: Vec<String> = [
        "doubled",
        "missed",
        "still_open",
        "claim_violations",
        "engines_diverged",
        "engines_with_unaccounted_decisions",
    ]
    .iter()
    .filter(|key| many[**key].as_u64() != Some(0))
    .map(|key| format!("{key} = {}", many[*key]))
    .chain(
        (light["errors"].as_u64() != Some(0))
            .then(|| format!("light clients saw {} errors", light["errors"])),
    )
    .collect();
    let report = json!({
        "mode": if full { "full" } else { "short" },
        "commit": steward_bench::stack::commit(),
        "machine": machine(),
        "web_processes": stack.web.len(),
        "events_processes": stack.events.len(),
        "engines": many,
        "light": light,
        "failures": failures,
    });
    let path = write_result(if full { "load-full" } else { "load-short" }, &report)?;
    println!("load: report written to {}", path.display());
    if !failures.is_empty() {
        return Err(format!("checks failed: {}", failures.join("; ")).into());
    }
    println!(
        "load: OK: {} engines decided {} items exactly once in {} s; 200 light clients: {} requests/s",
        many["engines"],
        many["decisions_applied"],
        many["work_seconds"],
        light["requests_per_second"]
    );
    Ok(())
}

fn summary(report: &serde_json::Value) -> serde_json::Value {
    let mut short = report.clone();
    if let Some(object) = short.as_object_mut() {
        object.remove("per_engine");
    }
    short
}

fn machine() -> serde_json::Value {
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    json!({
        "cpus": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0),
        "load_average": load.split_whitespace().take(3).collect::<Vec<_>>().join(" "),
    })
}
