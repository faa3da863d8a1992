//! The Tauri commands: each one line into the engine. The list here, `specta_builder`'s
//! `collect_commands!` and the generated TypeScript bindings must stay the same set.

use std::sync::Arc;

use steward_core::{
    AppError, AppState, DecisionAction, ItemDetail, ItemSummary, QueueSummary, SessionInfo,
    SyncStatus,
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
pub async fn get_item(engine: EngineState<'_>, item_id: i64) -> Result<ItemDetail, AppError> {
    engine.get_item(item_id).await
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
pub async fn sync_now(engine: EngineState<'_>) -> Result<SyncStatus, AppError> {
    engine.sync_now().await
}

#[tauri::command]
#[specta::specta]
pub async fn get_sync_status(engine: EngineState<'_>) -> Result<SyncStatus, AppError> {
    Ok(engine.sync_status().await)
}
