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
        .body(&body_for_server(&notice.body, body_is_markup()))
        .show()
        .map(|_| ())
}

/// The body as the server will read it. Its names (queues, job kinds) come from the
/// product, not from us: a server that reads the body as markup (freedesktop's
/// `body-markup`, or `body-hyperlinks`, which dunst parses links by while it leaves
/// `body-markup` out) gets them escaped, so `<b>`, `<a href>` or `<img>` in a name is
/// shown as text, never rendered, linked or loaded. The summary is plain text by the
/// specification (dunst and GNOME escape it themselves).
fn body_for_server(body: &str, markup: bool) -> String {
    if !markup {
        return body.to_string();
    }
    let mut escaped = String::with_capacity(body.len());
    for c in body.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&apos;"),
            c => escaped.push(c),
        }
    }
    escaped
}

/// Whether the notification server reads bodies as markup (asked each time: notices are
/// rare, and the server may have been replaced since).
#[cfg(all(unix, not(target_os = "macos")))]
fn body_is_markup() -> bool {
    match notify_rust::get_capabilities() {
        Ok(capabilities) => capabilities
            .iter()
            .any(|c| c == "body-markup" || c == "body-hyperlinks"),
        // Unknown: escaping shows a stray `&amp;` at worst; not escaping could render.
        Err(_) => true,
    }
}

#[cfg(not(all(unix, not(target_os = "macos"))))]
fn body_is_markup() -> bool {
    false
}

#[cfg(test)]
mod tests {
    use std::process::Command;

    use steward_core::notify::{Notice, NotificationPolicy};

    use crate::notifications::{body_for_server, show_blocking};

    #[test]
    fn names_are_escaped_only_for_servers_that_read_markup() {
        let body = r#"Spam & scams: 2, <img src="http://x/"> "q" 'a': 1"#;
        assert_eq!(body_for_server(body, false), body);
        assert_eq!(
            body_for_server(body, true),
            "Spam &amp; scams: 2, &lt;img src=&quot;http://x/&quot;&gt; &quot;q&quot; &apos;a&apos;: 1"
        );
    }

    fn dunst_history() -> serde_json::Value {
        let output = Command::new("dunstctl")
            .arg("history")
            .output()
            .expect("dunstctl (dunst) is installed");
        serde_json::from_slice(&output.stdout).expect("dunstctl history is JSON")
    }

    /// A queue named with markup reaches dunst as text: the body dunst renders (its
    /// `message`) holds the name's characters, not a bold run, a link or an image.
    #[test]
    fn a_queue_name_with_markup_is_shown_as_text_by_the_notification_server() {
        let name = r#"<b>Loud</b> & <a href="http://127.0.0.1:9/x">click</a><img src="file:///etc/passwd">"#;
        let mut policy = NotificationPolicy::new(60_000);
        policy.offer_new_items(name, 1);
        let notice: Notice = policy.poll(0).expect("a notice is due");
        show_blocking(&notice).expect("the notification server accepts the notice");
        let mut shown = None;
        for _ in 0..50 {
            Command::new("dunstctl").arg("close-all").output().unwrap();
            let history = dunst_history();
            shown = history["data"][0].as_array().and_then(|entries| {
                entries.iter().find_map(|entry| {
                    let message = entry["message"]["data"].as_str()?;
                    message.contains("Loud").then(|| message.to_string())
                })
            });
            if shown.is_some() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        let message = shown.expect("the notice is in dunst's history");
        // dunst keeps the rendered message as Pango markup: our name's characters are
        // entities in it, and no tag of the name survived.
        assert!(
            message.contains("&lt;b&gt;Loud&lt;/b&gt; &amp; &lt;a href="),
            "{message}"
        );
        assert!(!message.contains("<b>Loud"), "{message}");
        assert!(!message.contains("<img"), "{message}");
    }

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
