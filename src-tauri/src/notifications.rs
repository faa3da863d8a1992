//! OS notifications through notify-rust (the freedesktop notification service on Linux,
//! the notification centre on macOS and Windows).

use steward_core::notify::Notice;

/// Shows a notification without blocking the caller; failures are logged, not raised:
/// a missing notification daemon must not break the app.
pub fn show(notice: Notice) {
    tauri::async_runtime::spawn_blocking(move || {
        if let Err(error) = show_blocking(&notice) {
            tracing::warn!(%error, "could not show a notification");
        }
    });
}

pub fn show_blocking(notice: &Notice) -> Result<(), notify_rust::error::Error> {
    notify_rust::Notification::new()
        .appname("Steward")
        .summary(&notice.summary)
        .body(&notice.body)
        .show()
        .map(|_| ())
}
