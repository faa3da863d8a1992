//! Typed events for the UI, fed from the engine's broadcast channel, and the OS
//! notifications the engine's events turn into.

use serde::{Deserialize, Serialize};
use steward_core::notify::NotificationPolicy;
use steward_core::{AppError, SessionInfo, SyncStatus};
use steward_engine::EngineEvent;
use tauri::{AppHandle, Manager, Runtime};
use tauri_specta::Event;
use tokio::sync::broadcast;

use crate::notifications;

#[derive(Debug, Clone, Serialize, Deserialize, specta::Type, tauri_specta::Event)]
pub struct SyncStatusChanged {
    pub status: SyncStatus,
}

#[derive(Debug, Clone, Serialize, Deserialize, specta::Type, tauri_specta::Event)]
pub struct CollectionChanged {
    /// "queues", "items", "reason_templates", "accounts", "audit" or "jobs".
    pub collection: String,
}

/// The server refused an action for good; the UI shows the message.
#[derive(Debug, Clone, Serialize, Deserialize, specta::Type, tauri_specta::Event)]
pub struct ActionRefused {
    pub error: AppError,
    /// The refused operation: decide_item, claim_item, release_item, account_action,
    /// add_account_note, retry_job or cancel_job.
    pub kind: String,
    /// The item, account or job it was about.
    pub target_id: i64,
}

/// The session ended by itself; the UI asks the user to sign in again.
#[derive(Debug, Clone, Serialize, Deserialize, specta::Type, tauri_specta::Event)]
pub struct SessionExpired {}

/// The user's roles changed on the server; the UI shows the screens they now allow.
#[derive(Debug, Clone, Serialize, Deserialize, specta::Type, tauri_specta::Event)]
pub struct SessionChanged {
    pub session: SessionInfo,
}

/// New items arrived in a high-priority queue.
#[derive(Debug, Clone, Serialize, Deserialize, specta::Type, tauri_specta::Event)]
pub struct NewHighPriorityItems {
    pub queue_id: i64,
    pub queue_name: String,
    pub count: i64,
}

/// Jobs failed since the last pull.
#[derive(Debug, Clone, Serialize, Deserialize, specta::Type, tauri_specta::Event)]
pub struct JobsFailed {
    pub kind: String,
    pub count: i64,
}

/// An audit export wrote `done` of `total` rows (total unknown beyond the count cap).
#[derive(Debug, Clone, Serialize, Deserialize, specta::Type, tauri_specta::Event)]
pub struct ExportProgress {
    pub done: i64,
    pub total: Option<i64>,
}

/// Minimum time between two OS notifications.
const NOTIFICATION_INTERVAL_MS: u64 = 20_000;

/// Forwards engine events to the window and feeds the notification policy, until the
/// engine goes away.
pub fn forward<R: Runtime>(app: AppHandle<R>, mut events: broadcast::Receiver<EngineEvent>) {
    tauri::async_runtime::spawn(async move {
        let mut policy = NotificationPolicy::new(NOTIFICATION_INTERVAL_MS);
        let started = std::time::Instant::now();
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(1));
        // The tray menu follows the status and the queues, rebuilt at most once a second.
        let mut tray_stale = true;
        loop {
            tokio::select! {
                received = events.recv() => match received {
                    Ok(event) => {
                        tray_stale |= matches!(
                            event,
                            EngineEvent::SyncStatusChanged(_) | EngineEvent::CollectionChanged("queues")
                        );
                        emit(&app, event, &mut policy);
                    }
                    Err(broadcast::error::RecvError::Lagged(missed)) => {
                        tracing::warn!(missed, "the UI missed engine events");
                    }
                    Err(broadcast::error::RecvError::Closed) => return,
                },
                _ = tick.tick() => {
                    if std::mem::take(&mut tray_stale) {
                        crate::tray::refresh(&app).await;
                    }
                    // Notifications are for when the user is elsewhere; a focused window
                    // shows the same news itself.
                    if window_focused(&app) {
                        policy.discard();
                    } else if let Some(notice) = policy.poll(started.elapsed().as_millis() as u64) {
                        notifications::show(notice);
                    }
                }
            }
        }
    });
}

fn emit<R: Runtime>(app: &AppHandle<R>, event: EngineEvent, policy: &mut NotificationPolicy) {
    let sent = match event {
        EngineEvent::SyncStatusChanged(status) => SyncStatusChanged { status }.emit(app),
        EngineEvent::CollectionChanged(collection) => CollectionChanged {
            collection: collection.to_string(),
        }
        .emit(app),
        EngineEvent::ActionRefused {
            error,
            kind,
            target_id,
        } => ActionRefused {
            error,
            kind,
            target_id,
        }
        .emit(app),
        EngineEvent::SessionExpired => SessionExpired {}.emit(app),
        EngineEvent::SessionChanged(session) => SessionChanged { session }.emit(app),
        EngineEvent::JobsFailed { kind, count } => {
            policy.offer_failed_jobs(&kind, count);
            JobsFailed { kind, count }.emit(app)
        }
        EngineEvent::ExportProgress { done, total } => ExportProgress { done, total }.emit(app),
        EngineEvent::NewHighPriorityItems {
            queue_id,
            queue_name,
            count,
        } => {
            policy.offer_new_items(&queue_name, count);
            NewHighPriorityItems {
                queue_id,
                queue_name,
                count,
            }
            .emit(app)
        }
    };
    if let Err(error) = sent {
        tracing::warn!(%error, "could not emit an event to the UI");
    }
}

fn window_focused<R: Runtime>(app: &AppHandle<R>) -> bool {
    app.get_webview_window("main")
        .and_then(|window| window.is_focused().ok())
        .unwrap_or(false)
}
