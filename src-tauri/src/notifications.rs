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

#[cfg(test)]
mod tests {
    use std::process::Command;

    use steward_core::notify::{Notice, NotificationPolicy};

    use crate::notifications::show_blocking;

    /// Needs a notification server on the session bus: `scripts/with-desktop-session.sh`
    /// provides dunst, as CI does. dunst lists a notification in its history once closed.
    #[test]
    fn a_coalesced_notice_reaches_the_notification_server() {
        let mut policy = NotificationPolicy::new(60_000);
        policy.offer_new_items("Reported posts", 2);
        policy.offer_new_items("Reported posts", 1);
        let notice: Notice = policy.poll(0).expect("a notice is due");
        show_blocking(&notice).expect("the notification server accepts the notice");
        let dunstctl = |args: &[&str]| {
            Command::new("dunstctl")
                .args(args)
                .output()
                .expect("dunstctl (dunst) is installed")
        };
        let mut history = String::new();
        for _ in 0..50 {
            dunstctl(&["close-all"]);
            history = String::from_utf8_lossy(&dunstctl(&["history"]).stdout).into_owned();
            if history.contains("3 new items in Reported posts") {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        assert!(
            history.contains("3 new items in Reported posts"),
            "dunst history: {history}"
        );
        assert!(
            history.contains("Steward"),
            "the app name is shown: {history}"
        );
    }
}
