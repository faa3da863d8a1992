//! Triage: queues and their items from the cache, decisions (one or many, undoable),
//! claims, reason templates, and an item's images on request.

use steward_client::images::ImageFetcher;
use steward_core::error::sentence;
use steward_core::{
    AppError, AuthorInfo, BulkOutcome, ClaimInfo, ContentObject, Decided, DecisionAction,
    ErrorCode, ItemDetail, ItemPage, ItemSort, ItemState, ItemSummary, QueueSummary,
    ReasonTemplate, ReportInfo, UndoOutcome,
};
use steward_store::{NewAction, OutboxKind, Store};

use crate::{DueAction, Engine, images, records, sanitize_html};

/// The longest note and reason code the server takes (its request serializers): checked
/// before an action is queued, so a long note is refused while the user still has it in
/// front of them, not later by the server after it left their screen.
pub const MAX_NOTE_CHARS: usize = 4000;
const MAX_REASON_CODE_CHARS: usize = 64;

impl Engine {
    pub async fn list_queues(&self) -> Result<Vec<QueueSummary>, AppError> {
        Ok(self.require_active().await?.store.list_queues().await?)
    }

    /// Open items of a queue without a pending decision, oldest first (up to 1000).
    pub async fn list_queue_items(&self, queue_id: i64) -> Result<Vec<ItemSummary>, AppError> {
        Ok(self
            .require_active()
            .await?
            .store
            .list_open_items(queue_id)
            .await?)
    }

    /// A window of a queue's items in one state, for a virtualized list.
    pub async fn list_items(
        &self,
        queue_id: i64,
        state: ItemState,
        sort: ItemSort,
        offset: i64,
        limit: i64,
    ) -> Result<ItemPage, AppError> {
        Ok(self
            .require_active()
            .await?
            .store
            .list_items_page(queue_id, state, sort, offset, limit)
            .await?)
    }

    pub async fn get_item(&self, item_id: i64) -> Result<ItemDetail, AppError> {
        let active = self.require_active().await?;
        let record = active.store.item(item_id).await?;
        let summary = active.store.item_summary(item_id).await?;
        let (history, strikes) = match record.author_id {
            Some(author_id) => active.store.author_history(author_id, 20).await?,
            None => (Vec::new(), 0),
        };
        let object = content_object(item_id, record.object_json.as_deref())?;
        let reports: Vec<ReportInfo> = serde_json::from_str(&record.reports_json)
            .map_err(|e| AppError::storage(format!("reports of item {item_id}: {e}")))?;
        let sanitized = sanitize_html(&record.body_html);
        let claimed_by_me =
            record.claim_username.as_deref() == Some(active.user().username.as_str());
        Ok(ItemDetail {
            summary,
            safe_html: sanitized.html,
            blocked_images: sanitized.blocked_images,
            author: record.author_id.map(|id| AuthorInfo {
                id,
                username: record.author_username,
                status: record.author_status,
            }),
            object,
            reports,
            claim: record.claim_username.zip(record.claim_expires_at).map(
                |(username, expires_at)| ClaimInfo {
                    username,
                    expires_at,
                },
            ),
            claimed_by_me,
            author_history: history
                .into_iter()
                .filter(|entry| entry.item_id != item_id)
                .collect(),
            author_strikes: strikes,
        })
    }

    /// The link to the item's object on the product's public site, for the system
    /// browser (never the webview). Only http and https links are handed out.
    pub async fn item_public_url(&self, item_id: i64) -> Result<String, AppError> {
        let active = self.require_active().await?;
        let record = active.store.item(item_id).await?;
        let url = content_object(item_id, record.object_json.as_deref())?
            .and_then(|object| object.url)
            .ok_or_else(|| {
                AppError::new(
                    ErrorCode::NotFound,
                    format!("Item {item_id} has no link to the product's site."),
                )
            })?;
        match url::Url::parse(&url) {
            Ok(parsed) if matches!(parsed.scheme(), "http" | "https") => Ok(parsed.to_string()),
            _ => Err(AppError::new(
                ErrorCode::BadResponse,
                format!("The product's link for item {item_id} is not a web address: {url}"),
            )),
        }
    }

    /// The item's content with its images, fetched by the engine (never by the webview)
    /// and inlined; for the moderator who clicked "show images".
    pub async fn load_item_images(&self, item_id: i64) -> Result<String, AppError> {
        let active = self.require_active().await?;
        let record = active.store.item(item_id).await?;
        let fetcher = ImageFetcher::new(self.config.allow_private_images)
            .map_err(|error| error.to_app_error())?;
        Ok(images::inline_images(&fetcher, &record.body_html)
            .await
            .html)
    }

    /// Records a decision locally (outbox row and optimistic change in one transaction)
    /// and wakes the worker, which pushes it once the undo window has passed.
    pub async fn decide_item(
        &self,
        item_id: i64,
        action: DecisionAction,
        reason_code: Option<String>,
        note: Option<String>,
    ) -> Result<Decided, AppError> {
        let mut outcome = self
            .decide_items(&[item_id], action, reason_code, note)
            .await?;
        match (outcome.queued.pop(), outcome.skipped.pop()) {
            (Some(item), _) => Ok(Decided {
                item,
                undo_until: outcome.undo_until,
            }),
            (None, Some(skipped)) => Err(AppError::new(
                ErrorCode::Conflict,
                sentence(&skipped.reason),
            )),
            (None, None) => Err(AppError::internal(
                "a decision was neither queued nor skipped",
            )),
        }
    }

    /// Records the same decision on many items as one undoable action.
    pub async fn decide_items(
        &self,
        item_ids: &[i64],
        action: DecisionAction,
        reason_code: Option<String>,
        note: Option<String>,
    ) -> Result<BulkOutcome, AppError> {
        if item_ids.is_empty() {
            return Err(AppError::new(
                ErrorCode::InvalidInput,
                "Select at least one item.",
            ));
        }
        check_reason_and_note(reason_code.as_deref(), note.as_deref())?;
        let active = self.require_active().await?;
        let group = uuid::Uuid::new_v4().to_string();
        let now = records::now();
        let not_before = records::later(self.config.undo_window);
        let outcome = active
            .store
            .enqueue_decisions(
                item_ids,
                action,
                reason_code.as_deref().unwrap_or(""),
                note.as_deref().unwrap_or(""),
                &NewAction {
                    group_id: &group,
                    now: &now,
                    not_before: &not_before,
                },
                || uuid::Uuid::new_v4().to_string(),
            )
            .await?;
        tracing::info!(
            queued = outcome.queued.len(),
            skipped = outcome.skipped.len(),
            action = action.as_str(),
            "decisions queued"
        );
        active.after_local_change().await;
        Ok(outcome)
    }

    /// Withdraws the most recent (bulk) decision if it has not been sent yet.
    pub async fn undo_last(&self) -> Result<UndoOutcome, AppError> {
        let active = self.require_active().await?;
        let item_ids = active.store.undo_last().await?;
        tracing::info!(items = item_ids.len(), "decision undone");
        active.after_local_change().await;
        Ok(UndoOutcome { item_ids })
    }

    /// Claims an item for the signed-in user (opening an item does this).
    pub async fn claim_item(&self, item_id: i64) -> Result<(), AppError> {
        self.enqueue_claim(item_id, OutboxKind::ClaimItem).await
    }

    /// Releases the signed-in user's claim (leaving an item does this).
    pub async fn release_item(&self, item_id: i64) -> Result<(), AppError> {
        self.enqueue_claim(item_id, OutboxKind::ReleaseItem).await
    }

    pub async fn list_reason_templates(
        &self,
        scope: &str,
    ) -> Result<Vec<ReasonTemplate>, AppError> {
        Ok(self
            .require_active()
            .await?
            .store
            .list_reason_templates(scope)
            .await?)
    }

    async fn enqueue_claim(&self, item_id: i64, kind: OutboxKind) -> Result<(), AppError> {
        let active = self.require_active().await?;
        let until = records::later(self.config.claim_lease);
        queue_claim(
            &active.store,
            item_id,
            kind,
            &active.user().username,
            &until,
        )
        .await?;
        active.after_local_change().await;
        Ok(())
    }
}

/// Queues a claim (until `claim_until`) or its release; claims are not undoable, so the
/// row is due at once.
pub(crate) async fn queue_claim(
    store: &Store,
    item_id: i64,
    kind: OutboxKind,
    me: &str,
    claim_until: &str,
) -> Result<(), AppError> {
    let due = DueAction::new();
    Ok(store
        .enqueue_claim(item_id, kind, me, claim_until, &due.action(), &due.key)
        .await?)
}

pub(crate) fn check_reason_and_note(
    reason_code: Option<&str>,
    note: Option<&str>,
) -> Result<(), AppError> {
    let note_chars = note.map_or(0, |n| n.chars().count());
    if note_chars > MAX_NOTE_CHARS {
        return Err(AppError::new(
            ErrorCode::InvalidInput,
            format!(
                "The note is {note_chars} characters long; the server takes at most {MAX_NOTE_CHARS}. Shorten it and try again."
            ),
        ));
    }
    if reason_code.is_some_and(|code| code.chars().count() > MAX_REASON_CODE_CHARS) {
        return Err(AppError::new(
            ErrorCode::InvalidInput,
            format!("A reason code has at most {MAX_REASON_CODE_CHARS} characters."),
        ));
    }
    Ok(())
}

/// The product object stored with an item (the server's JSON), if it has one.
fn content_object(item_id: i64, json: Option<&str>) -> Result<Option<ContentObject>, AppError> {
    json.map(|json| {
        serde_json::from_str(json)
            .map_err(|e| AppError::storage(format!("the object of item {item_id}: {e}")))
    })
    .transpose()
}
