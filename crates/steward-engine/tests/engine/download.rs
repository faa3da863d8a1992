//! A first download of many pages: the pages fetched ahead of the writer by a task of
//! their own must leave the whole mirror, every row once.

use std::time::Duration;

use steward_store::Store;

use crate::server::TestServer;
use crate::{TestResult, cache_file, signed_in_with};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_download_of_many_pages_fetched_ahead_mirrors_every_row() -> TestResult {
    // 1,200 items and their audit events are several pages of each feed, so the pages
    // after the first come from the fetching task.
    let server = TestServer::start(1200);
    let (engine, data) = signed_in_with(&server.url, "admin", |config| {
        config.poll_interval = Duration::from_secs(3600);
    })
    .await?;
    let admin = server.admin_token().await;
    let total = |value: serde_json::Value| value["total"].as_i64().unwrap_or(-1);
    let items = total(server.get(&admin, "items?limit=1").await);
    let audit = total(server.get(&admin, "audit?limit=1").await);
    assert!(
        items >= 1200 && audit > 1000,
        "{items} items, {audit} events"
    );
    loop {
        let status = engine.sync_now().await?;
        assert!(status.last_error.is_none(), "{status:?}");
        if status.bootstrap.is_none() {
            break;
        }
    }
    engine.close().await;
    let store = Store::open(&cache_file(data.path()).ok_or("no cache")?).await?;
    let (cached_items, cached_audit) = (store.item_count().await?, store.audit_count().await?);
    store.close().await;
    assert_eq!(cached_items, items, "every item, none twice");
    // The download's own sign-ins and refreshes add events after the totals were read.
    assert!(cached_audit >= audit, "{cached_audit} of {audit} events");
    Ok(())
}
