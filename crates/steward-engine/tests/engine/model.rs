//! A model-based randomized test of the outbox: random sequences of decisions, undos,
//! pushes, network partitions, lost answers, other moderators' decisions and crashes,
//! run against the real store and push step, and checked against a reference model of
//! the server. Whatever happens, every decision that was not undone is applied exactly
//! once or kept as a conflict, nothing undone ever reaches the server, and the cache ends
//! up agreeing with the server.

use std::cell::RefCell;
use std::collections::HashMap;

use proptest::prelude::*;
use steward_client::ClientError;
use steward_core::{DecisionAction, ItemState};
use steward_engine::outbox::{PushRound, PushTransport, push_step};
use steward_engine::session::SessionError;
use steward_store::{ItemRecord, NewAction, OutboxRow, Store, StoreError};

const ITEMS: i64 = 5;
const NOW: &str = "2026-01-01T00:00:00.000Z";

#[derive(Debug, Clone)]
enum Op {
    Decide(i64, DecisionAction),
    DecideMany(Vec<i64>, DecisionAction),
    Undo,
    Push,
    Partition(bool),
    LoseNextAnswer,
    OtherModeratorDecides(i64),
    Pull,
    Crash,
}

fn action() -> impl Strategy<Value = DecisionAction> {
    prop_oneof![
        Just(DecisionAction::Approve),
        Just(DecisionAction::Remove),
        Just(DecisionAction::Escalate),
        Just(DecisionAction::Ignore),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (1..=ITEMS, action()).prop_map(|(item, action)| Op::Decide(item, action)),
        1 => (proptest::collection::vec(1..=ITEMS, 1..4), action()).prop_map(|(items, action)| Op::DecideMany(items, action)),
        2 => Just(Op::Undo),
        5 => Just(Op::Push),
        1 => any::<bool>().prop_map(Op::Partition),
        1 => Just(Op::LoseNextAnswer),
        1 => (1..=ITEMS).prop_map(Op::OtherModeratorDecides),
        2 => Just(Op::Pull),
        1 => Just(Op::Crash),
    ]
}

/// The reference server: item states and versions, and idempotency records.
#[derive(Debug, Default)]
struct ModelServer {
    items: HashMap<i64, (String, i64)>,
    /// Idempotency key -> (status, body) of the first answer.
    answered: HashMap<String, (u16, serde_json::Value)>,
    /// How many times each key changed the server's state.
    applied: HashMap<String, u32>,
    partitioned: bool,
    lose_next_answer: bool,
}

fn item_json(id: i64, state: &str, version: i64) -> serde_json::Value {
    serde_json::json!({
        "id": id, "queue": 1, "state": state, "version": version,
        "content": {"title": format!("Item {id}"), "body_html": "<p>text</p>"},
        "author": {"id": 1, "username": "author", "status": "active"},
        "reports": [], "claim": null,
        "created_at": "2025-12-01T00:00:00.000Z",
        "updated_at": format!("2025-12-01T00:00:{version:02}.000Z"),
    })
}

impl ModelServer {
    fn decide(
        &mut self,
        key: &str,
        item: i64,
        action: &str,
        base_version: i64,
    ) -> (u16, serde_json::Value) {
        if let Some(first) = self.answered.get(key) {
            return first.clone();
        }
        let (state, version) = self.items[&item].clone();
        let answer = if state != "open" || version != base_version {
            (
                409,
                serde_json::json!({"code": "stale_version", "message": "The item changed.", "fields": {}, "current": item_json(item, &state, version)}),
            )
        } else {
            let new_state = DecisionAction::parse(action)
                .unwrap()
                .resulting_state()
                .as_str()
                .to_string();
            self.items.insert(item, (new_state.clone(), version + 1));
            *self.applied.entry(key.to_string()).or_default() += 1;
            (
                201,
                serde_json::json!({"decision": {"id": 1, "action": action}, "item": item_json(item, &new_state, version + 1)}),
            )
        };
        // Like the real server, only successes are stored for replay.
        if answer.0 == 201 {
            self.answered.insert(key.to_string(), answer.clone());
        }
        answer
    }
}

struct ModelTransport<'a>(&'a RefCell<ModelServer>);

impl PushTransport for ModelTransport<'_> {
    async fn push_batch(
        &self,
        rows: &[OutboxRow],
    ) -> Result<Vec<Result<serde_json::Value, ClientError>>, SessionError> {
        let mut server = self.0.borrow_mut();
        let unreachable = || {
            SessionError::Client(ClientError::Unreachable {
                url: "model".into(),
                detail: "partitioned".into(),
            })
        };
        if server.partitioned {
            return Err(unreachable());
        }
        let mut answers = Vec::new();
        for row in rows {
            let action = row.payload["action"].as_str().unwrap().to_string();
            let (status, body) = server.decide(
                &row.idempotency_key,
                row.target_id,
                &action,
                row.base_version,
            );
            answers.push(if status == 201 {
                Ok(body)
            } else {
                Err(ClientError::Api {
                    status,
                    code: body["code"].as_str().unwrap().into(),
                    message: body["message"].as_str().unwrap().into(),
                    body,
                })
            });
        }
        // The whole batch was applied; its answer is lost on the way back.
        if std::mem::take(&mut server.lose_next_answer) {
            return Err(unreachable());
        }
        Ok(answers)
    }
}

pub fn record(id: i64, state: &str, version: i64) -> ItemRecord {
    ItemRecord {
        id,
        queue_id: 1,
        state: state.into(),
        version,
        title: format!("Item {id}"),
        body_html: "<p>text</p>".into(),
        author_id: Some(1),
        author_username: "author".into(),
        author_status: "active".into(),
        reports_json: "[]".into(),
        report_count: 0,
        top_reason: None,
        claim_username: None,
        claim_expires_at: None,
        created_at: "2025-12-01T00:00:00.000Z".into(),
        updated_at: format!("2025-12-01T00:00:{version:02}.000Z"),
        object_json: None,
    }
}

/// What the test remembers of each user action, to check the end state against.
#[derive(Debug)]
struct Group {
    keys: Vec<String>,
    undone: bool,
}

/// Runs `ops`; each push sends a batch of at most `batch` rows.
async fn run(ops: Vec<Op>, batch: usize) -> Result<(), TestCaseError> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cache.sqlite3");
    let mut store = Store::open(&path).await.unwrap();
    let server = RefCell::new(ModelServer::default());
    let initial: Vec<ItemRecord> = (1..=ITEMS).map(|id| record(id, "open", 1)).collect();
    for id in 1..=ITEMS {
        server.borrow_mut().items.insert(id, ("open".into(), 1));
    }
    store
        .apply_items_page(&initial, Some("c"), NOW)
        .await
        .unwrap();
    let mut groups: Vec<Group> = Vec::new();

    for (n, op) in ops.into_iter().enumerate() {
        match op {
            Op::Decide(item, action) => decide(&store, &mut groups, n, &[item], action).await,
            Op::DecideMany(items, action) => decide(&store, &mut groups, n, &items, action).await,
            Op::Undo => match store.undo_last().await {
                Ok(_) => {
                    let last = groups
                        .iter_mut()
                        .rev()
                        .find(|g| !g.undone)
                        .expect("an undo needs a group");
                    last.undone = true;
                }
                Err(StoreError::NothingToUndo | StoreError::AlreadySent) => {}
                Err(other) => panic!("undo failed: {other}"),
            },
            Op::Push => {
                push_step(&store, &ModelTransport(&server), NOW, batch)
                    .await
                    .unwrap();
            }
            Op::Partition(on) => server.borrow_mut().partitioned = on,
            Op::LoseNextAnswer => server.borrow_mut().lose_next_answer = true,
            Op::OtherModeratorDecides(item) => {
                let version = server.borrow().items[&item].1;
                server
                    .borrow_mut()
                    .decide(&format!("other-{n}"), item, "approve", version);
            }
            Op::Pull => pull(&store, &server).await,
            Op::Crash => {
                store.close().await;
                store = Store::open(&path).await.unwrap();
            }
        }
    }

    // Heal the network and drain.
    server.borrow_mut().partitioned = false;
    server.borrow_mut().lose_next_answer = false;
    for _ in 0..200 {
        if push_step(&store, &ModelTransport(&server), NOW, batch)
            .await
            .unwrap()
            == PushRound::Idle
        {
            break;
        }
    }
    prop_assert_eq!(
        store.outbox_counts().await.unwrap().pending,
        0,
        "the outbox drains"
    );
    pull(&store, &server).await;

    let conflicts = store.list_conflicts().await.unwrap();
    let mut cached = HashMap::new();
    for id in 1..=ITEMS {
        cached.insert(id, store.item_summary(id).await.unwrap());
    }
    let server = server.borrow();
    for group in &groups {
        for key in &group.keys {
            let applied = server.applied.get(key).copied().unwrap_or(0);
            if group.undone {
                prop_assert_eq!(applied, 0, "an undone decision reached the server");
            } else {
                prop_assert!(applied <= 1, "a decision was applied twice");
            }
        }
    }
    let applied_keys = server
        .applied
        .keys()
        .filter(|k| !k.starts_with("other-"))
        .count();
    let live_keys = groups
        .iter()
        .filter(|g| !g.undone)
        .map(|g| g.keys.len())
        .sum::<usize>();
    prop_assert_eq!(
        applied_keys + conflicts.len(),
        live_keys,
        "each decision is applied or a conflict"
    );
    for (id, cached) in cached {
        let (state, version) = &server.items[&id];
        prop_assert_eq!(cached.state.as_str(), state.as_str(), "item {} state", id);
        prop_assert_eq!(cached.version, *version, "item {} version", id);
        prop_assert_eq!(cached.pending_action, None);
    }
    Ok(())
}

/// The delta feed, simplified: the server's every item as a page.
async fn pull(store: &Store, server: &RefCell<ModelServer>) {
    if server.borrow().partitioned {
        return;
    }
    let page: Vec<ItemRecord> = server
        .borrow()
        .items
        .iter()
        .map(|(id, (state, version))| record(*id, state, *version))
        .collect();
    store.apply_items_page(&page, Some("c"), NOW).await.unwrap();
}

async fn decide(
    store: &Store,
    groups: &mut Vec<Group>,
    n: usize,
    items: &[i64],
    action: DecisionAction,
) {
    let group_id = format!("group-{n}");
    let keys = RefCell::new(Vec::new());
    let outcome = store
        .enqueue_decisions(
            items,
            action,
            "",
            "",
            &NewAction {
                group_id: &group_id,
                now: NOW,
                not_before: NOW,
            },
            || {
                let key = format!("key-{n}-{}", keys.borrow().len());
                keys.borrow_mut().push(key.clone());
                key
            },
        )
        .await
        .unwrap();
    if !outcome.queued.is_empty() {
        groups.push(Group {
            keys: keys.into_inner(),
            undone: false,
        });
    }
    // Skipped items are not open or already pending: the local state says why.
    for skipped in outcome.skipped {
        let item = store.item_summary(skipped.item_id).await.unwrap();
        assert!(
            item.pending_action.is_some()
                || item.state != ItemState::Open
                || items.iter().filter(|&&i| i == skipped.item_id).count() > 1
        );
    }
}

/// 256 schedules by default; `STEWARD_LONG_TESTS=1` runs 10,000 and writes the count to
/// tests/results/outbox-model.json.
#[test]
fn the_outbox_agrees_with_a_reference_server() {
    let long = std::env::var("STEWARD_LONG_TESTS").is_ok_and(|v| v == "1");
    let cases = if long { 10_000 } else { 256 };
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    });
    let schedules = (
        proptest::collection::vec(op(), 1..40),
        prop_oneof![Just(1usize), 2usize..=5, Just(100usize)],
    );
    let started = std::time::Instant::now();
    let result = runner.run(&schedules, |(ops, batch)| {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(run(ops, batch))
    });
    if let Err(failure) = result {
        panic!("the outbox disagreed with the reference server: {failure}");
    }
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "outbox model: {cases} schedules (partitions, lost answers, crashes) agreed in {seconds:.1} s"
    );
    if long {
        let report = serde_json::json!({
            "schedules": cases, "failures": 0, "seconds": (seconds * 10.0).round() / 10.0,
            "operations": "decide, bulk decide, undo, push (batches of 1, 2-5, 100), partition, lost answer, another moderator decides, pull, crash",
        });
        let dir = crate::server::repo_root().join("tests/results");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("outbox-model.json"), format!("{report:#}\n")).unwrap();
    }
}

/// Found by the model: a bulk decision half pushed must not be "undone" for the other half.
#[test]
fn undo_refuses_a_partly_pushed_bulk_decision() -> Result<(), TestCaseError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(run(
        vec![
            Op::DecideMany(vec![1, 2], DecisionAction::Approve),
            Op::Push,
            Op::Undo,
        ],
        1,
    ))
}
