//! Typed events for the UI, fed from the engine's broadcast channel.

use serde::{Deserialize, Serialize};
use steward_core::SyncStatus;
use steward_engine::EngineEvent;
use tauri::{AppHandle, Runtime};
use tauri_specta::Event;
use tokio::sync::broadcast;

#[derive(Debug, Clone, Serialize, Deserialize, specta::Type, tauri_specta::Event)]
pub struct SyncStatusChanged {
    pub status: SyncStatus,
}

#[derive(Debug, Clone, Serialize, Deserialize, specta::Type, tauri_specta::Event)]
pub struct CollectionChanged {
    /// "queues" or "items".
    pub collection: String,
}

/// Forwards engine events to the window until the engine goes away.
pub fn forward<R: Runtime>(app: AppHandle<R>, mut events: broadcast::Receiver<EngineEvent>) {
    tauri::async_runtime::spawn(async move {
        loop {
            let event = match events.recv().await {
                Ok(event) => event,
                Err(broadcast::error::RecvError::Lagged(missed)) => {
                    tracing::warn!(missed, "the UI missed engine events");
                    continue;
                }
                Err(broadcast::error::RecvError::Closed) => return,
            };
            let sent = match event {
                EngineEvent::SyncStatusChanged(status) => SyncStatusChanged { status }.emit(&app),
                EngineEvent::CollectionChanged(collection) => CollectionChanged {
                    collection: collection.to_string(),
                }
                .emit(&app),
            };
            if let Err(error) = sent {
                tracing::warn!(%error, "could not emit an event to the UI");
            }
        }
    });
}
