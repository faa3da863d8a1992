//! The delta feeds the worker pulls: one loop (`Active::pull_feed`) for every collection,
//! and one `Feed` per collection saying how its rows are cached and what news they bring.

use serde::de::DeserializeOwned;
use steward_client::wire::{ApiAccount, ApiAuditEvent, ApiItem, ApiJob, Page};
use steward_store::{
    AccountRecord, AuditRecord, ItemRecord, JobRecord, NewItemsInQueue, NewlyFailed, Store,
    StoreError,
};

use crate::EngineEvent;
use crate::active::Active;
use crate::records;
use crate::sync::{RoundError, round_error, storage};

/// Rows per page of a delta feed.
const PAGE_SIZE: u32 = 500;

/// One collection the server serves as a delta feed.
pub(crate) trait Feed {
    /// The collection's name: its cursor in the cache, its path on the server and the
    /// `CollectionChanged` event its pages raise.
    const COLLECTION: &'static str;
    /// The query parameter the server reads the cursor from.
    const CURSOR_PARAM: &'static str = "updated_after";
    /// Whether pages are gathered into batches while more follow (see `write_batch_now`):
    /// items and audit events land at random places in their indexes, so fewer commits
    /// write far less (bench/ingest); accounts and jobs are written page by page.
    const BATCHED: bool;
    type Wire: DeserializeOwned + Send + 'static;
    type Record: Send + Sync;
    /// What writing a batch found that the shell hears about outside a first download.
    type News: Send;

    fn record(wire: &Self::Wire) -> Self::Record;

    /// Writes a batch of rows with the cursor after them, in one transaction.
    async fn apply(
        store: &Store,
        rows: &[Self::Record],
        cursor: Option<&str>,
        now: &str,
    ) -> Result<Self::News, StoreError>;

    /// Tells the shell about a batch's news (not during a first download).
    async fn announce(_active: &Active, _news: Self::News) {}
}

/// Whether the rows gathered from a feed are written now: a feed's first page alone, so
/// the UI has rows at once; then every `CATCH_UP_BATCH_ROWS` rows (see the store's
/// constant for why); and the last page ends a batch.
fn write_batch_now(done: i64, pending: usize, last_page: bool) -> bool {
    done == 0 || pending >= steward_store::CATCH_UP_BATCH_ROWS || last_page
}

impl Active {
    /// Pulls one feed from the cache's cursor to its end: pages in order, each batch
    /// written with its cursor, progress reported while the collection downloads for the
    /// first time, and news announced afterwards. After the first page, a task of its own
    /// fetches and decodes the following ones while this loop maps and writes them, up to
    /// two batches ahead, so a long download costs about the server's time rather than
    /// the server's plus the cache's (bench/src/bin/bootstrap.rs).
    pub(crate) async fn pull_feed<F: Feed>(&self) -> Result<(), RoundError> {
        let mut cursor = self.store.cursor(F::COLLECTION).await.map_err(storage)?;
        let bootstrapping = cursor.is_none();
        let mut done: i64 = 0;
        let mut total: Option<i64> = None;
        let mut pending: Vec<F::Record> = Vec::new();
        let mut ahead: Option<PagesAhead<F::Wire>> = None;
        loop {
            let fetched = match ahead.as_mut() {
                Some(pages) => pages.next().await,
                None => None,
            };
            let page = match fetched {
                Some(page) => page,
                // Nothing fetched ahead, or a 401, a network error, anything: ask for
                // this page the usual way, which refreshes the session and maps the error.
                None => {
                    ahead = None;
                    self.feed_page::<F>(cursor.clone()).await?
                }
            };
            if page.results.is_empty() {
                break;
            }
            let last_page = cursor_after(&page).is_none();
            if !last_page && ahead.is_none() {
                ahead = self.pages_ahead::<F>(page.next_cursor.clone()).await;
            }
            pending.extend(page.results.iter().map(F::record));
            total = page.total.or(total);
            if !F::BATCHED || write_batch_now(done, pending.len(), last_page) {
                let news = F::apply(
                    &self.store,
                    &pending,
                    page.next_cursor.as_deref(),
                    &records::now(),
                )
                .await
                .map_err(storage)?;
                done += pending.len() as i64;
                pending.clear();
                if bootstrapping {
                    self.progress(F::COLLECTION, done, total).await;
                } else {
                    F::announce(self, news).await;
                }
                let _ = self
                    .events
                    .send(EngineEvent::CollectionChanged(F::COLLECTION));
            }
            if last_page {
                break;
            }
            cursor = page.next_cursor;
        }
        Ok(())
    }

    /// Starts fetching the pages from `cursor` on, one after another, on a task of its
    /// own with the access token held now (none held: nothing is started, and pages are
    /// asked for in turn). It stays at most `PAGES_AHEAD` pages ahead of the writer, and
    /// stops at the feed's last page or its first failure.
    async fn pages_ahead<F: Feed>(&self, cursor: Option<String>) -> Option<PagesAhead<F::Wire>> {
        let access = self.session.access_token().await?;
        let client = self.session.client.clone();
        let (sender, pages) = tokio::sync::mpsc::channel(PAGES_AHEAD);
        let task = tokio::spawn(async move {
            let mut cursor = cursor;
            loop {
                let page = fetch_page::<F>(&client, &access, cursor.as_deref()).await;
                let next = page.as_ref().ok().and_then(cursor_after).map(str::to_owned);
                if sender.send(page).await.is_err() {
                    return;
                }
                match next {
                    Some(next) => cursor = Some(next),
                    None => return,
                }
            }
        });
        Some(PagesAhead { pages, task })
    }

    /// One page of `F`'s feed after `cursor`.
    async fn feed_page<F: Feed>(
        &self,
        cursor: Option<String>,
    ) -> Result<Page<F::Wire>, RoundError> {
        let client = &self.session.client;
        self.session
            .authorized(|access| {
                let cursor = cursor.clone();
                async move { fetch_page::<F>(client, &access, cursor.as_deref()).await }
            })
            .await
            .map_err(round_error)
    }
}

/// The cursor of the page after `page`, if one follows: the rule both the writing loop
/// and the fetching task end a feed by.
fn cursor_after<T>(page: &Page<T>) -> Option<&str> {
    match page.next_cursor.as_deref() {
        Some(next) if page.has_more && !page.results.is_empty() => Some(next),
        _ => None,
    }
}

/// One page of `F`'s feed after `cursor`, asked with `access`: the one request both the
/// session's way (`Active::feed_page`) and the fetching task (`Active::pages_ahead`) make.
async fn fetch_page<F: Feed>(
    client: &steward_client::Client,
    access: &str,
    cursor: Option<&str>,
) -> Result<Page<F::Wire>, steward_client::ClientError> {
    client
        .feed_page(access, F::COLLECTION, F::CURSOR_PARAM, cursor, PAGE_SIZE)
        .await
}

/// How many pages the fetching task may hold ahead of the writer: two catch-up batches,
/// so the server keeps working through a batch's commit (about 20 MB of audit events).
const PAGES_AHEAD: usize = 2 * steward_store::CATCH_UP_BATCH_ROWS / PAGE_SIZE as usize;

/// Pages fetched ahead of the writer by a task of their own (`Active::pages_ahead`).
/// Dropped (an error, a stop, the feed's end), the task and its request are aborted.
struct PagesAhead<T> {
    pages: tokio::sync::mpsc::Receiver<Result<Page<T>, steward_client::ClientError>>,
    task: tokio::task::JoinHandle<()>,
}

impl<T> PagesAhead<T> {
    /// The next page, or None when the task failed or ended: the caller asks in turn.
    async fn next(&mut self) -> Option<Page<T>> {
        self.pages.recv().await?.ok()
    }
}

impl<T> Drop for PagesAhead<T> {
    fn drop(&mut self) {
        self.task.abort();
    }
}

pub(crate) struct Items;

impl Feed for Items {
    const COLLECTION: &'static str = "items";
    const BATCHED: bool = true;
    type Wire = ApiItem;
    type Record = ItemRecord;
    type News = Vec<NewItemsInQueue>;

    fn record(wire: &ApiItem) -> ItemRecord {
        records::item_record(wire)
    }

    async fn apply(
        store: &Store,
        rows: &[ItemRecord],
        cursor: Option<&str>,
        now: &str,
    ) -> Result<Self::News, StoreError> {
        store.apply_items_page(rows, cursor, now).await
    }

    /// New open items in high-priority queues.
    async fn announce(active: &Active, news: Self::News) {
        for entry in news {
            let Ok(Some(queue)) = active.store.queue(entry.queue_id).await else {
                continue;
            };
            if queue.priority >= active.config.high_priority {
                let _ = active.events.send(EngineEvent::NewHighPriorityItems {
                    queue_id: queue.id,
                    queue_name: queue.name,
                    count: entry.count,
                });
            }
        }
    }
}

pub(crate) struct Accounts;

impl Feed for Accounts {
    const COLLECTION: &'static str = "accounts";
    const BATCHED: bool = false;
    type Wire = ApiAccount;
    type Record = AccountRecord;
    type News = ();

    fn record(wire: &ApiAccount) -> AccountRecord {
        records::account_record(wire)
    }

    async fn apply(
        store: &Store,
        rows: &[AccountRecord],
        cursor: Option<&str>,
        now: &str,
    ) -> Result<(), StoreError> {
        store.apply_accounts_page(rows, cursor, now).await
    }
}

pub(crate) struct Jobs;

impl Feed for Jobs {
    const COLLECTION: &'static str = "jobs";
    const BATCHED: bool = false;
    type Wire = ApiJob;
    type Record = JobRecord;
    type News = Vec<NewlyFailed>;

    fn record(wire: &ApiJob) -> JobRecord {
        records::job_record(wire)
    }

    async fn apply(
        store: &Store,
        rows: &[JobRecord],
        cursor: Option<&str>,
        now: &str,
    ) -> Result<Self::News, StoreError> {
        store.apply_jobs_page(rows, cursor, now).await
    }

    /// Jobs that failed since the last pull, per kind.
    async fn announce(active: &Active, news: Self::News) {
        for entry in news {
            let _ = active.events.send(EngineEvent::JobsFailed {
                kind: entry.kind,
                count: entry.count,
            });
        }
    }
}

pub(crate) struct Audit;

impl Feed for Audit {
    const COLLECTION: &'static str = "audit";
    /// The audit log is a feed by ascending id; its cursor is `cursor`.
    const CURSOR_PARAM: &'static str = "cursor";
    const BATCHED: bool = true;
    type Wire = ApiAuditEvent;
    type Record = AuditRecord;
    type News = ();

    fn record(wire: &ApiAuditEvent) -> AuditRecord {
        records::audit_record(wire)
    }

    async fn apply(
        store: &Store,
        rows: &[AuditRecord],
        cursor: Option<&str>,
        now: &str,
    ) -> Result<(), StoreError> {
        store.apply_audit_page(rows, cursor, now).await
    }
}
