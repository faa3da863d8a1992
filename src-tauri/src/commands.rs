//! The Tauri commands: each one line into the engine. The list here, `specta_builder`'s
//! `collect_commands!` and the generated TypeScript bindings must stay the same set.

use std::sync::Arc;

use steward_core::{
    AccountAction, AccountDetail, AccountNote, AccountSummary, AppError, AppState, AuditPage,
    AuditQuery, BulkOutcome, ConflictInfo, ConflictResolution, Decided, DecisionAction, ItemDetail,
    ItemPage, ItemSort, ItemState, ItemSummary, JobAction, JobBulkOutcome, JobDetail, JobPage,
    JobQuery, JobStats, ProfileInfo, QueueSummary, ReasonTemplate, RefusedAction, SessionInfo,
    SignOutMode, SyncStatus, UndoOutcome, UnsentWork,
};
use steward_engine::Engine;
use tauri::State;

type EngineState<'a> = State<'a, Arc<Engine>>;

#[tauri::command]
#[specta::specta]
pub async fn get_app_state(engine: EngineState<'_>) -> Result<AppState, AppError> {
    Ok(engine.app_state().await)
}

#[tauri::command]
#[specta::specta]
pub async fn list_profiles(engine: EngineState<'_>) -> Result<Vec<ProfileInfo>, AppError> {
    Ok(engine.list_profiles().await)
}

#[tauri::command]
#[specta::specta]
pub async fn save_profile(
    engine: EngineState<'_>,
    name: String,
    server_url: String,
    production: bool,
) -> Result<ProfileInfo, AppError> {
    engine.save_profile(&name, &server_url, production).await
}

#[tauri::command]
#[specta::specta]
pub async fn switch_profile(engine: EngineState<'_>, name: String) -> Result<AppState, AppError> {
    engine.switch_profile(&name).await
}

#[tauri::command]
#[specta::specta]
pub async fn sign_in(
    engine: EngineState<'_>,
    server_url: String,
    username: String,
    password: String,
) -> Result<SessionInfo, AppError> {
    engine.sign_in(&server_url, &username, &password).await
}

#[tauri::command]
#[specta::specta]
pub async fn sign_out(engine: EngineState<'_>, mode: SignOutMode) -> Result<(), AppError> {
    engine.sign_out(mode).await
}

#[tauri::command]
#[specta::specta]
pub async fn get_unsent_work(engine: EngineState<'_>) -> Result<UnsentWork, AppError> {
    engine.unsent_work().await
}

#[tauri::command]
#[specta::specta]
pub async fn list_refused(engine: EngineState<'_>) -> Result<Vec<RefusedAction>, AppError> {
    engine.list_refused().await
}

#[tauri::command]
#[specta::specta]
pub async fn dismiss_refused(engine: EngineState<'_>, outbox_id: i64) -> Result<(), AppError> {
    engine.dismiss_refused(outbox_id).await
}

#[tauri::command]
#[specta::specta]
pub async fn list_queues(engine: EngineState<'_>) -> Result<Vec<QueueSummary>, AppError> {
    engine.list_queues().await
}

#[tauri::command]
#[specta::specta]
pub async fn list_queue_items(
    engine: EngineState<'_>,
    queue_id: i64,
) -> Result<Vec<ItemSummary>, AppError> {
    engine.list_queue_items(queue_id).await
}

#[tauri::command]
#[specta::specta]
pub async fn list_items(
    engine: EngineState<'_>,
    queue_id: i64,
    state: ItemState,
    sort: ItemSort,
    offset: i64,
    limit: i64,
) -> Result<ItemPage, AppError> {
    engine
        .list_items(queue_id, state, sort, offset, limit)
        .await
}

#[tauri::command]
#[specta::specta]
pub async fn get_item(engine: EngineState<'_>, item_id: i64) -> Result<ItemDetail, AppError> {
    engine.get_item(item_id).await
}

#[tauri::command]
#[specta::specta]
pub async fn load_item_images(engine: EngineState<'_>, item_id: i64) -> Result<String, AppError> {
    engine.load_item_images(item_id).await
}

#[tauri::command]
#[specta::specta]
pub async fn decide_item(
    engine: EngineState<'_>,
    item_id: i64,
    action: DecisionAction,
    reason_code: Option<String>,
    note: Option<String>,
) -> Result<Decided, AppError> {
    engine.decide_item(item_id, action, reason_code, note).await
}

#[tauri::command]
#[specta::specta]
pub async fn decide_items(
    engine: EngineState<'_>,
    item_ids: Vec<i64>,
    action: DecisionAction,
    reason_code: Option<String>,
    note: Option<String>,
) -> Result<BulkOutcome, AppError> {
    engine
        .decide_items(&item_ids, action, reason_code, note)
        .await
}

#[tauri::command]
#[specta::specta]
pub async fn undo_last(engine: EngineState<'_>) -> Result<UndoOutcome, AppError> {
    engine.undo_last().await
}

#[tauri::command]
#[specta::specta]
pub async fn claim_item(engine: EngineState<'_>, item_id: i64) -> Result<(), AppError> {
    engine.claim_item(item_id).await
}

#[tauri::command]
#[specta::specta]
pub async fn release_item(engine: EngineState<'_>, item_id: i64) -> Result<(), AppError> {
    engine.release_item(item_id).await
}

#[tauri::command]
#[specta::specta]
pub async fn list_reason_templates(
    engine: EngineState<'_>,
    scope: String,
) -> Result<Vec<ReasonTemplate>, AppError> {
    engine.list_reason_templates(&scope).await
}

#[tauri::command]
#[specta::specta]
pub async fn list_conflicts(engine: EngineState<'_>) -> Result<Vec<ConflictInfo>, AppError> {
    engine.list_conflicts().await
}

#[tauri::command]
#[specta::specta]
pub async fn resolve_conflict(
    engine: EngineState<'_>,
    outbox_id: i64,
    resolution: ConflictResolution,
) -> Result<(), AppError> {
    engine.resolve_conflict(outbox_id, resolution).await
}

#[tauri::command]
#[specta::specta]
pub async fn sync_now(engine: EngineState<'_>) -> Result<SyncStatus, AppError> {
    engine.sync_now().await
}

#[tauri::command]
#[specta::specta]
pub async fn get_sync_status(engine: EngineState<'_>) -> Result<SyncStatus, AppError> {
    Ok(engine.sync_status().await)
}

#[tauri::command]
#[specta::specta]
pub async fn search_accounts(
    engine: EngineState<'_>,
    query: String,
    status: Option<String>,
) -> Result<Vec<AccountSummary>, AppError> {
    engine.search_accounts(&query, status).await
}

#[tauri::command]
#[specta::specta]
pub async fn get_account(
    engine: EngineState<'_>,
    account_id: i64,
) -> Result<AccountDetail, AppError> {
    engine.get_account(account_id).await
}

#[tauri::command]
#[specta::specta]
pub async fn act_on_account(
    engine: EngineState<'_>,
    account_id: i64,
    action: AccountAction,
    duration_hours: Option<i64>,
    reason_code: Option<String>,
    note: Option<String>,
) -> Result<AccountSummary, AppError> {
    engine
        .act_on_account(account_id, action, duration_hours, reason_code, note)
        .await
}

#[tauri::command]
#[specta::specta]
pub async fn add_account_note(
    engine: EngineState<'_>,
    account_id: i64,
    body: String,
) -> Result<Vec<AccountNote>, AppError> {
    engine.add_account_note(account_id, &body).await
}

#[tauri::command]
#[specta::specta]
pub async fn search_audit(
    engine: EngineState<'_>,
    query: AuditQuery,
    offset: i64,
    limit: i64,
) -> Result<AuditPage, AppError> {
    engine.search_audit(query, offset, limit).await
}

#[tauri::command]
#[specta::specta]
pub async fn export_audit_csv(
    engine: EngineState<'_>,
    query: AuditQuery,
) -> Result<String, AppError> {
    engine.export_audit_csv(query, None).await
}

#[tauri::command]
#[specta::specta]
pub async fn list_jobs(
    engine: EngineState<'_>,
    query: JobQuery,
    offset: i64,
    limit: i64,
) -> Result<JobPage, AppError> {
    engine.list_jobs(query, offset, limit).await
}

#[tauri::command]
#[specta::specta]
pub async fn get_job(engine: EngineState<'_>, job_id: i64) -> Result<JobDetail, AppError> {
    engine.get_job(job_id).await
}

#[tauri::command]
#[specta::specta]
pub async fn job_stats(engine: EngineState<'_>) -> Result<JobStats, AppError> {
    engine.job_stats().await
}

#[tauri::command]
#[specta::specta]
pub async fn count_matching_jobs(
    engine: EngineState<'_>,
    query: JobQuery,
) -> Result<i64, AppError> {
    engine.count_matching_jobs(query).await
}

#[tauri::command]
#[specta::specta]
pub async fn act_on_jobs(
    engine: EngineState<'_>,
    job_ids: Vec<i64>,
    action: JobAction,
) -> Result<JobBulkOutcome, AppError> {
    engine.act_on_jobs(&job_ids, action).await
}

#[tauri::command]
#[specta::specta]
pub async fn retry_matching_jobs(
    engine: EngineState<'_>,
    query: JobQuery,
) -> Result<JobBulkOutcome, AppError> {
    engine.retry_matching_jobs(query).await
}

/// The UI says whether the keyboard focus is inside an item's content frame; while it
/// is, the shell hands the triage keys pressed there to the UI (see content_keys).
#[tauri::command]
#[specta::specta]
pub fn set_content_focus(focus: State<'_, crate::content_keys::ContentFocus>, focused: bool) {
    focus.set(focused);
}

/// Opens the item's object on the product's public site in the system browser; the engine
/// hands out only http(s) links from the cache, never a URL from the page.
#[tauri::command]
#[specta::specta]
pub async fn open_item_link(engine: EngineState<'_>, item_id: i64) -> Result<(), AppError> {
    let url = engine.item_public_url(item_id).await?;
    open::that_detached(&url).map_err(|e| {
        AppError::new(
            steward_core::ErrorCode::Internal,
            format!("Could not open {url} in the browser: {e}"),
        )
    })
}
