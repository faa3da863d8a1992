//! A batch too large for the server or a proxy in front of it (413) is sent again row by
//! row; a row too large to go on its own is refused for the user, and the others go.

use std::cell::RefCell;

use steward_client::ClientError;
use steward_core::DecisionAction;
use steward_engine::outbox::{PushRound, PushStep, PushTransport, push_step};
use steward_engine::session::SessionError;
use steward_store::{NewAction, OutboxRow, Store};

use crate::model::record;

const NOW: &str = "2026-01-01T00:00:00.000Z";

/// Refuses any request of more than one row, or with a note over 100 characters, as a
/// proxy with a small body limit would; records the size of each request.
struct SmallBodies(RefCell<Vec<usize>>);

impl PushTransport for SmallBodies {
    async fn push_batch(
        &self,
        rows: &[OutboxRow],
    ) -> Result<Vec<Result<serde_json::Value, ClientError>>, SessionError> {
        self.0.borrow_mut().push(rows.len());
        let too_long = rows
            .iter()
            .any(|row| row.payload["note"].as_str().unwrap_or("").len() > 100);
        if rows.len() > 1 || too_long {
            return Err(SessionError::Client(ClientError::Api {
                status: 413,
                code: "payload_too_large".into(),
                message: "Request body too large.".into(),
                body: serde_json::json!({"code": "payload_too_large", "message": "Request body too large."}),
            }));
        }
        Ok(rows
            .iter()
            .map(|row| {
                let mut item = serde_json::to_value(record(row.target_id, "removed", 2)).unwrap();
                item["content"] = serde_json::json!({"title": "t", "body_html": ""});
                item["queue"] = serde_json::json!(1);
                Ok(serde_json::json!({"item": item}))
            })
            .collect())
    }
}

#[tokio::test]
async fn a_batch_refused_as_too_large_goes_row_by_row_and_only_the_oversized_row_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("cache.sqlite3"))
        .await
        .unwrap();
    let items: Vec<_> = (1..=3).map(|id| record(id, "open", 1)).collect();
    store
        .apply_items_page(&items, Some("c"), NOW)
        .await
        .unwrap();
    for (id, note) in [(1, "short"), (2, &"x".repeat(500)[..]), (3, "short")] {
        let group = format!("g{id}");
        let action = NewAction {
            group_id: &group,
            now: NOW,
            not_before: NOW,
        };
        store
            .enqueue_decisions(&[id], DecisionAction::Remove, "", note, &action, || {
                format!("key-{id}")
            })
            .await
            .unwrap();
    }

    let transport = SmallBodies(RefCell::new(Vec::new()));
    let PushRound::Sent(steps) = push_step(&store, &transport, NOW, 100).await.unwrap() else {
        panic!("the rows are due");
    };
    assert_eq!(
        transport.0.borrow().as_slice(),
        [3, 1, 1, 1],
        "one batch, then row by row"
    );
    assert_eq!(steps[0], PushStep::Pushed);
    assert!(
        matches!(&steps[1], PushStep::Rejected { target_id: 2, .. }),
        "{steps:?}"
    );
    assert_eq!(steps[2], PushStep::Pushed);
    let refused = store.list_refused().await.unwrap();
    assert_eq!(refused.len(), 1);
    assert!(
        refused[0].message.contains("Shorten the note"),
        "{}",
        refused[0].message
    );
    assert_eq!(store.outbox_counts().await.unwrap().pending, 0);
}
