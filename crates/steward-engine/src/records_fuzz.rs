//! Fuzzing what the engine does with the server's answers (proptest): valid answers with
//! one field replaced by anything JSON can hold, and arbitrary JSON, are decoded as each
//! wire type and, when they decode, turned into cache records; error bodies of any shape
//! become an `AppError`. Zero panics; 2,000 cases per type by default,
//! `STEWARD_LONG_TESTS=1` runs 50,000.

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{Value, json};
use steward_client::ClientError;
use steward_client::wire::{
    ApiAccount, ApiAuditEvent, ApiItem, ApiJob, ApiNote, ApiQueue, ApiReasonTemplate, Me,
    MutationBatchAnswer, Page,
};

use crate::records;

fn runner() -> TestRunner {
    let long = std::env::var("STEWARD_LONG_TESTS").is_ok_and(|v| v == "1");
    TestRunner::new(Config {
        cases: if long { 50_000 } else { 2_000 },
        failure_persistence: None,
        ..Config::default()
    })
}

/// Any JSON: the odd values a broken proxy or a hostile server could send.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        Just(json!(u64::MAX)),
        any::<f64>()
            .prop_filter("JSON has no NaN", |f| f.is_finite())
            .prop_map(Value::from),
        ".{0,24}".prop_map(Value::from),
        Just(json!("2026-13-45T99:99:99Z")),
        Just(json!("")),
        Just(json!("9999-12-31T23:59:59.999999+14:00")),
        Just(json!("\u{202e}evil\u{0000}")),
    ];
    leaf.prop_recursive(3, 24, 5, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            proptest::collection::btree_map("[a-z_]{1,10}", inner, 0..5)
                .prop_map(|map| Value::Object(map.into_iter().collect())),
        ]
    })
}

fn samples() -> Vec<(&'static str, Value)> {
    let user = json!({"id": 3, "username": "moderator"});
    vec![
        (
            "item",
            json!({
                "id": 1, "queue": 2, "state": "open", "version": 4,
                "content": {"title": "T", "body_html": "<p>b</p>"},
                "object": {"type": "forum.post", "label": "Post", "key": "9f1c", "url": "https://x.example/p", "deleted": false},
                "author": {"id": 5, "username": "a", "status": "active"},
                "reports": [{"reason": "spam", "note": "n", "reporter": user, "created_at": "2026-11-25T10:00:00Z"}],
                "claim": {"user": user, "expires_at": "2026-11-25T10:05:00+00:00"},
                "created_at": "2026-11-25T10:00:00.123456Z", "updated_at": "2026-11-25T10:00:01Z"
            }),
        ),
        (
            "account",
            json!({
                "id": 5, "username": "a", "display_name": "A", "email": "a@x", "status": "suspended",
                "roles": ["moderator"], "joined_at": "2026-01-01T00:00:00Z", "last_seen_at": null,
                "suspended_until": "2026-12-01T00:00:00Z", "sessions_revoked_at": null,
                "counts": {"items": 1, "removed_items": 0, "reports_received": 2, "notes": 1},
                "updated_at": "2026-11-25T10:00:00Z"
            }),
        ),
        (
            "job",
            json!({
                "id": 7, "backend": "celery", "queue": "default", "kind": "send_email", "status": "failed",
                "attempts": 2, "payload_summary": "to=x", "created_by": user,
                "created_at": "2026-11-25T10:00:00Z", "started_at": "2026-11-25T10:00:01Z",
                "finished_at": "2026-11-25T10:00:02Z", "updated_at": "2026-11-25T10:00:02Z",
                "last_error": "boom", "last_traceback": "Traceback...", "can_retry": false,
                "retry_blocked_reason": "arguments were not kept", "can_cancel": false
            }),
        ),
        (
            "audit",
            json!({
                "id": 9, "actor": user, "actor_username": "moderator", "action": "item.decide",
                "target_type": "item", "target_id": "1", "created_at": "2026-11-25T10:00:00Z",
                "data": {"action": "remove"}
            }),
        ),
        (
            "queue",
            json!({"id": 2, "slug": "posts", "name": "Posts", "priority": 10, "open_count": 3,
            "oldest_open_at": "2026-11-20T00:00:00Z", "updated_at": null}),
        ),
        (
            "note",
            json!({"id": 4, "account": 5, "author": user, "body": "b", "created_at": "2026-11-25T10:00:00Z"}),
        ),
        (
            "template",
            json!({"id": 1, "scope": "decision", "code": "spam", "label": "Spam", "text": "t",
            "actions": ["remove"], "position": 1, "updated_at": "2026-11-25T10:00:00Z"}),
        ),
        (
            "me",
            json!({"id": 3, "username": "moderator", "display_name": "M", "roles": ["moderator"],
            "permissions": ["items.view"], "idempotency_retention_seconds": 2592000}),
        ),
        (
            "batch",
            json!({"results": [{"idempotency_key": "k", "status": 201, "body": {"item": {}}}]}),
        ),
    ]
}

/// Decodes `value` as the wire type `kind` names and, when it decodes, builds what the
/// cache would store from it. Must never panic.
fn consume(kind: &str, value: Value) {
    match kind {
        "item" => {
            if let Ok(item) = serde_json::from_value::<ApiItem>(value.clone()) {
                drop(records::item_record(&item));
            }
            if let Ok(page) = serde_json::from_value::<Page<ApiItem>>(json!({"results": [value]})) {
                page.results
                    .iter()
                    .for_each(|item| drop(records::item_record(item)));
            }
        }
        "account" => {
            if let Ok(account) = serde_json::from_value::<ApiAccount>(value) {
                drop(records::account_record(&account));
            }
        }
        "job" => {
            if let Ok(job) = serde_json::from_value::<ApiJob>(value) {
                drop(records::job_record(&job));
            }
        }
        "audit" => {
            if let Ok(event) = serde_json::from_value::<ApiAuditEvent>(value) {
                drop(records::audit_record(&event));
            }
        }
        "queue" => {
            if let Ok(queue) = serde_json::from_value::<ApiQueue>(value) {
                drop(records::queue_record(&queue));
            }
        }
        "note" => {
            if let Ok(note) = serde_json::from_value::<ApiNote>(value) {
                drop(records::note_record(&note));
            }
        }
        "template" => {
            if let Ok(template) = serde_json::from_value::<ApiReasonTemplate>(value) {
                drop(records::template_record(&template));
            }
        }
        "me" => {
            if let Ok(me) = serde_json::from_value::<Me>(value) {
                let _ = records::user_json(&records::user_info(&me));
            }
        }
        _ => {
            let _ = serde_json::from_value::<MutationBatchAnswer>(value);
        }
    }
}

/// Replaces the value at the `pick`-th path of `value` (objects and arrays, any depth)
/// with `replacement`.
fn replace_one(value: &mut Value, pick: usize, replacement: Value) {
    fn paths(value: &Value, here: &mut Vec<String>, all: &mut Vec<Vec<String>>) {
        match value {
            Value::Object(map) => {
                for (key, child) in map {
                    here.push(key.clone());
                    all.push(here.clone());
                    paths(child, here, all);
                    here.pop();
                }
            }
            Value::Array(items) => {
                for (i, child) in items.iter().enumerate() {
                    here.push(i.to_string());
                    all.push(here.clone());
                    paths(child, here, all);
                    here.pop();
                }
            }
            _ => {}
        }
    }
    let mut all = Vec::new();
    paths(value, &mut Vec::new(), &mut all);
    if all.is_empty() {
        return;
    }
    let path = &all[pick % all.len()];
    let pointer = format!("/{}", path.join("/"));
    if let Some(slot) = value.pointer_mut(&pointer) {
        *slot = replacement;
    }
}

#[test]
fn answers_with_any_field_replaced_never_panic_the_engine() {
    for (kind, sample) in samples() {
        runner()
            .run(&(any::<usize>(), any_json()), |(pick, replacement)| {
                let mut value = sample.clone();
                replace_one(&mut value, pick, replacement);
                consume(kind, value);
                Ok(())
            })
            .unwrap();
    }
}

#[test]
fn arbitrary_json_never_panics_the_engine_and_any_error_body_becomes_an_app_error() {
    runner()
        .run(&(any_json(), any::<u16>()), |(value, status)| {
            for (kind, _) in samples() {
                consume(kind, value.clone());
            }
            let error = ClientError::from_error_body(status, value).to_app_error();
            prop_assert!(!error.message.is_empty());
            Ok(())
        })
        .unwrap();
}
