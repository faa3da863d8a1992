//! The Tauri commands: each one line into the engine. The list here, `specta_builder`'s
//! `collect_commands!` and the generated TypeScript bindings must stay the same set.

use std::sync::Arc;

use steward_core::{
    AppError, AppState, BulkOutcome, ConflictInfo, ConflictResolution, DecisionAction, ItemDetail,
    ItemPage, ItemSort, ItemState, ItemSummary, ProfileInfo, QueueSummary, ReasonTemplate,
    SessionInfo, SyncStatus, UndoOutcome,
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
pub async fn sign_out(engine: EngineState<'_>) -> Result<(), AppError> {
    engine.sign_out().await
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
) -> Result<ItemSummary, AppError> {
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
