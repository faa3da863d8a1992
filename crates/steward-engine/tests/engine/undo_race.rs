//! Undo against the push loop, interleaved by hand: the push reads the oldest due row,
//! then marks it as going out. An undo that commits in between must win outright: the UI
//! says "Undone", so nothing may reach the server.

use std::cell::Cell;

use steward_client::ClientError;
use steward_core::DecisionAction;
use steward_engine::outbox::{PushStep, PushTransport, push_rows};
use steward_engine::session::SessionError;
use steward_store::{NewAction, NextPush, OutboxRow, Store};

use crate::model::record;

const NOW: &str = "2026-01-01T00:00:00.000Z";

/// Counts what would have gone to the server.
struct Counting(Cell<u32>);

impl PushTransport for Counting {
    async fn push_batch(
        &self,
        rows: &[OutboxRow],
    ) -> Result<Vec<Result<serde_json::Value, ClientError>>, SessionError> {
        self.0.set(self.0.get() + rows.len() as u32);
        Ok(rows
            .iter()
            .map(|row| {
                let state = if row.kind == "decide_item" {
                    "removed"
                } else {
                    "open"
                };
                Ok(serde_json::json!({"item": item_json(row.target_id, state)}))
            })
            .collect())
    }
}

fn item_json(id: i64, state: &str) -> serde_json::Value {
    serde_json::json!({
        "id": id, "queue": 1, "state": state, "version": 2,
        "content": {"title": format!("Item {id}"), "body_html": "<p>text</p>"},
        "author": {"id": 1, "username": "author", "status": "active"},
        "reports": [], "claim": null,
        "created_at": "2025-12-01T00:00:00.000Z",
        "updated_at": "2025-12-01T00:00:02.000Z",
    })
}

#[tokio::test]
async fn an_undo_that_lands_between_choosing_and_sending_a_row_keeps_it_off_the_server() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("cache.sqlite3"))
        .await
        .unwrap();
    store
        .apply_items_page(&[record(1, "open", 1)], Some("c"), NOW)
        .await
        .unwrap();
    let group = NewAction {
        group_id: "g",
        now: NOW,
        not_before: NOW,
    };
    store
        .enqueue_decisions(&[1], DecisionAction::Remove, "", "", &group, || {
            "key-1".to_string()
        })
        .await
        .unwrap();

    let NextPush::Due(row) = store.next_push(NOW).await.unwrap() else {
        panic!("the decision is due");
    };
    assert_eq!(
        store.undo_last().await.unwrap(),
        vec![1],
        "the UI says Undone"
    );
    let transport = Counting(Cell::new(0));
    let steps = push_rows(&store, &transport, vec![row]).await.unwrap();

    assert_eq!(steps, vec![PushStep::Withdrawn]);
    assert_eq!(
        transport.0.get(),
        0,
        "the undone decision went to the server"
    );
    assert_eq!(store.next_push(NOW).await.unwrap(), NextPush::Idle);
    let item = store.item_summary(1).await.unwrap();
    assert_eq!(item.pending_action, None);
}
