//! Many moderators at once: engines, each with its own cache, keychain entry and session,
//! claim and decide on one queue through the front door while their feeds and event
//! streams run. Afterwards the server and every cache are compared.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::Rng;
use serde_json::{Value, json};
use steward_bench::stack::{Admin, BoxError, Stack, cached_items_in};
use steward_core::{DecisionAction, ItemState};
use steward_engine::{Engine, EngineConfig};

pub struct Settings {
    pub engines: usize,
    pub password: String,
    pub deadline: Duration,
}

struct Moderator {
    username: String,
    engine: Arc<Engine>,
    _data: tempfile::TempDir,
}

struct Worked {
    decisions_made: usize,
    local_refusals: usize,
    /// What the engine said when it refused an action locally, and how often.
    refusal_reasons: HashMap<String, usize>,
}

pub async fn run(stack: &Stack, front: &str, settings: &Settings) -> Result<Value, BoxError> {
    let names = stack.moderators("loadmod", settings.engines, &settings.password)?;
    let started = Instant::now();
    let mut joins = Vec::new();
    for (i, username) in names.iter().enumerate() {
        let (front, username, password) = (
            front.to_string(),
            username.clone(),
            settings.password.clone(),
        );
        joins.push(tokio::spawn(async move {
            open(i, &front, &username, &password).await
        }));
    }
    let mut moderators = Vec::new();
    for join in joins {
        moderators.push(join.await??);
    }
    let bootstrap_s = started.elapsed().as_secs_f64();

    let queue = moderators[0]
        .engine
        .list_queues()
        .await?
        .into_iter()
        .max_by_key(|q| q.open_count)
        .ok_or("the seed has no queue")?;
    let admin = Admin::sign_in(front, "admin", &settings.password).await?;
    let since = (chrono::Utc::now() - chrono::Duration::seconds(2))
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let open_at_start: Vec<i64> = server_items(&admin, queue.id)
        .await?
        .iter()
        .filter(|(_, (state, _))| state == "open")
        .map(|(id, _)| *id)
        .collect();
    eprintln!(
        "load: {} engines signed in and synced in {bootstrap_s:.1} s; queue {:?} has {} open items",
        moderators.len(),
        queue.name,
        open_at_start.len()
    );

    let sampler = stack.sample_connections()?;
    let work_started = Instant::now();
    let mut joins = Vec::new();
    for moderator in &moderators {
        let engine = Arc::clone(&moderator.engine);
        let deadline = settings.deadline;
        joins.push(tokio::spawn(async move {
            work(&engine, queue.id, deadline).await
        }));
    }
    let mut worked = Vec::new();
    for join in joins {
        worked.push(join.await??);
    }
    let work_s = work_started.elapsed().as_secs_f64();
    let connections = sampler.stop()?;

    // Everyone catches up, then the server and each cache are compared.
    for moderator in &moderators {
        moderator.engine.sync_now().await?;
    }
    let truth = server_items(&admin, queue.id).await?;
    let decided = admin
        .all_rows(
            &format!("audit?action=item.decide&created_after={since}&limit=500"),
            "cursor",
        )
        .await?;
    let claims = admin
        .all_rows(
            &format!("audit?target_type=item&created_after={since}&limit=500"),
            "cursor",
        )
        .await?;

    let mut per_item: HashMap<i64, Vec<&Value>> = HashMap::new();
    for event in &decided {
        per_item.entry(target(event)).or_default().push(event);
    }
    let doubled = per_item.values().filter(|events| events.len() > 1).count();
    let missed = open_at_start
        .iter()
        .filter(|id| !per_item.contains_key(id))
        .count();
    let still_open = truth.values().filter(|(state, _)| state == "open").count();
    let claim_violations = claim_violations(&claims, &decided);

    let mut diverged_engines = 0;
    let mut unaccounted = 0;
    let mut conflicts = 0;
    let mut per_engine = Vec::new();
    for (moderator, worked) in moderators.iter().zip(&worked) {
        let mirror = cached_items(&moderator.engine, queue.id).await?;
        let differing = truth
            .iter()
            .filter(|(id, server)| mirror.get(id) != Some(server))
            .count()
            + mirror.keys().filter(|id| !truth.contains_key(id)).count();
        if differing > 0 {
            diverged_engines += 1;
        }
        let own_conflicts = moderator.engine.list_conflicts().await?.len();
        let refused = moderator.engine.list_refused().await?.len();
        let applied = decided
            .iter()
            .filter(|e| e["actor_username"] == moderator.username.as_str())
            .count();
        conflicts += own_conflicts;
        // Every decision the moderator made is on the server, or shown to them as a
        // conflict or a refusal: none vanished.
        if worked.decisions_made != applied + own_conflicts + refused {
            unaccounted += 1;
        }
        per_engine.push(json!({
            "user": moderator.username, "decisions_made": worked.decisions_made,
            "applied": applied, "conflicts": own_conflicts, "refused": refused,
            "refused_locally": worked.local_refusals, "refusal_reasons": worked.refusal_reasons,
            "items_differing": differing,
        }));
    }
    let applied_total = decided.len();
    for moderator in &moderators {
        let _ = moderator
            .engine
            .sign_out(steward_core::SignOutMode::Discard)
            .await;
    }
    Ok(json!({
        "engines": moderators.len(),
        "queue_items": truth.len(),
        "open_at_start": open_at_start.len(),
        "bootstrap_seconds": round(bootstrap_s),
        "work_seconds": round(work_s),
        "decisions_applied": applied_total,
        "decisions_per_second": round(applied_total as f64 / work_s),
        "conflicts_shown": conflicts,
        "doubled": doubled,
        "missed": missed,
        "still_open": still_open,
        "claim_violations": claim_violations,
        "engines_diverged": diverged_engines,
        "engines_with_unaccounted_decisions": unaccounted,
        "database_connections": connections,
        "per_engine": per_engine,
    }))
}

async fn open(
    i: usize,
    front: &str,
    username: &str,
    password: &str,
) -> Result<Moderator, BoxError> {
    let data = tempfile::tempdir()?;
    let mut config = EngineConfig::new(data.path().to_path_buf());
    config.keychain_service = format!("dev.steward.load.{}.{i}", std::process::id());
    config.undo_window = Duration::ZERO;
    // The event stream pokes; polling is the slow safety net, as in the app.
    config.poll_interval = Duration::from_secs(15);
    let engine = Engine::open(config).await?;
    engine.sign_in(front, username, password).await?;
    engine.sync_now().await?;
    Ok(Moderator {
        username: username.to_string(),
        engine,
        _data: data,
    })
}

/// How many of the first free items a moderator chooses from: moderators sharing a queue
/// spread over its head, and still collide.
const PICK_AMONG: usize = 10;
/// How far down the list a moderator looks for a free item (more than the engines of a
/// full run hold claims on at once).
const LOOK_AT: usize = 60;

/// A moderator at work: open one of the first few open items nobody else holds (so
/// moderators still collide, before their claims reach each other), which claims it;
/// read it for a fast moderator's moment (0.3-1.2 s); decide; and on to the next, until
/// the queue is empty in this cache and on the server.
async fn work(engine: &Engine, queue_id: i64, deadline: Duration) -> Result<Worked, BoxError> {
    let started = Instant::now();
    let mut worked = Worked {
        decisions_made: 0,
        local_refusals: 0,
        refusal_reasons: HashMap::new(),
    };
    let mut idle_rounds = 0;
    loop {
        if started.elapsed() > deadline {
            let left = engine.list_queue_items(queue_id).await?;
            let status = engine.sync_status().await;
            return Err(format!(
                "the queue was not done within {deadline:?}: {} items still open in this \
                 cache, none free to take; {status:?}",
                left.iter().filter(|i| i.state == ItemState::Open).count()
            )
            .into());
        }
        let mut open = Vec::new();
        let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        let candidates = engine
            .list_queue_items(queue_id)
            .await?
            .into_iter()
            .filter(|item| item.state == ItemState::Open && item.pending_action.is_none());
        // A moderator looks at the head of the list, not at every item in it.
        let mut looked_at = 0;
        for item in candidates {
            looked_at += 1;
            if looked_at > LOOK_AT {
                break;
            }
            // The list shows who is working on what: skip what someone else holds.
            let detail = engine.get_item(item.id).await?;
            let taken = detail
                .claim
                .is_some_and(|claim| !detail.claimed_by_me && claim.expires_at > now);
            if !taken {
                open.push(item.id);
                if open.len() == PICK_AMONG {
                    break;
                }
            }
        }
        if open.is_empty() && looked_at > LOOK_AT {
            // The head of the queue is all taken: wait for those moderators to finish.
            tokio::time::sleep(Duration::from_millis(300)).await;
            continue;
        }
        if open.is_empty() {
            let status = engine.sync_status().await;
            if status.pending == 0 {
                idle_rounds += 1;
                if idle_rounds >= 3 {
                    return Ok(worked);
                }
                engine.sync_now().await?;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
            continue;
        }
        idle_rounds = 0;
        let (pick, pause, action) = {
            let mut rng = rand::rng();
            let pick = open[rng.random_range(0..open.len())];
            let pause = Duration::from_millis(rng.random_range(300..1200));
            let action = if rng.random_bool(0.5) {
                DecisionAction::Remove
            } else {
                DecisionAction::Approve
            };
            (pick, pause, action)
        };
        if let Err(error) = engine.claim_item(pick).await {
            worked.local_refusals += 1;
            *worked.refusal_reasons.entry(error.message).or_default() += 1;
            continue;
        }
        tokio::time::sleep(pause).await;
        match engine.decide_item(pick, action, None, None).await {
            Ok(_) => worked.decisions_made += 1,
            // The cache already knows the item is taken or decided: nothing was queued.
            // Moving on to the next item gives the claim back, as the app does.
            Err(error) => {
                worked.local_refusals += 1;
                *worked.refusal_reasons.entry(error.message).or_default() += 1;
                if let Err(error) = engine.release_item(pick).await {
                    *worked.refusal_reasons.entry(error.message).or_default() += 1;
                }
            }
        }
    }
}

fn target(event: &Value) -> i64 {
    match &event["target_id"] {
        Value::String(text) => text.parse().unwrap_or(-1),
        other => other.as_i64().unwrap_or(-1),
    }
}

/// Decisions made while another user held a live claim on the item (claims and releases
/// from the audit log, in order): the server must never let one through.
fn claim_violations(item_events: &[Value], decided: &[Value]) -> usize {
    let mut events: Vec<&Value> = item_events.iter().collect();
    events.sort_by_key(|e| e["id"].as_i64().unwrap_or(0));
    let mut violations = 0;
    for decision in decided {
        let item = target(decision);
        let at = decision["created_at"].as_str().unwrap_or_default();
        let mut holder: Option<(&str, &str)> = None;
        for event in events.iter().filter(|e| target(e) == item) {
            if event["id"].as_i64() >= decision["id"].as_i64() {
                break;
            }
            let actor = event["actor_username"].as_str().unwrap_or_default();
            match event["action"].as_str() {
                Some("item.claim") => {
                    holder = Some((
                        actor,
                        event["data"]["expires_at"].as_str().unwrap_or_default(),
                    ))
                }
                Some("item.release") if holder.map(|(h, _)| h) == Some(actor) => holder = None,
                _ => {}
            }
        }
        if let Some((who, until)) = holder
            && who != decision["actor_username"].as_str().unwrap_or_default()
            && chrono_after(until, at)
        {
            violations += 1;
        }
    }
    violations
}

/// Whether timestamp `a` is after `b` (both ISO 8601, any offset).
fn chrono_after(a: &str, b: &str) -> bool {
    match (
        chrono::DateTime::parse_from_rfc3339(a),
        chrono::DateTime::parse_from_rfc3339(b),
    ) {
        (Ok(a), Ok(b)) => a > b,
        _ => false,
    }
}

async fn server_items(
    admin: &Admin,
    queue_id: i64,
) -> Result<HashMap<i64, (String, i64)>, BoxError> {
    let rows = admin
        .all_rows(
            &format!("items?queue={queue_id}&limit=500"),
            "updated_after",
        )
        .await?;
    Ok(rows
        .iter()
        .map(|row| {
            let state = row["state"].as_str().unwrap_or_default().to_string();
            (
                row["id"].as_i64().unwrap_or(-1),
                (state, row["version"].as_i64().unwrap_or(-1)),
            )
        })
        .collect())
}

async fn cached_items(
    engine: &Engine,
    queue_id: i64,
) -> Result<HashMap<i64, (String, i64)>, BoxError> {
    let mut items = HashMap::new();
    for state in [
        ItemState::Open,
        ItemState::Approved,
        ItemState::Removed,
        ItemState::Escalated,
        ItemState::Ignored,
        ItemState::Deleted,
    ] {
        for item in cached_items_in(engine, queue_id, state).await? {
            items.insert(item.id, (state.as_str().to_string(), item.version));
        }
    }
    Ok(items)
}

pub fn round(value: f64) -> f64 {
    (value * 100.0).round() / 100.0
}
