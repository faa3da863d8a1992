//! Triage keys pressed while the keyboard focus is inside an item's content.
//!
//! A click in the content (to select text, say) moves the focus into its sandboxed frame.
//! The frame's documents run no script, so the keys pressed there never reach the app:
//! j, k and the decision keys stopped working until the moderator clicked elsewhere.
//! Moving the focus back at once would break selecting and copying text. So the focus
//! stays where the user put it, the UI says when it is inside a content frame
//! (`set_content_focus`), and while it is, the shell takes the triage keys from the
//! webview widget before WebKit routes them into the frame and hands them to the UI
//! (`ContentKey`), which moves the focus back to itself and handles the key as any
//! other. Everything else (Ctrl+C, Shift+arrows, Page Down) goes to the frame as usual.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use serde::{Deserialize, Serialize};

/// Whether the keyboard focus is inside a content frame, as the UI last said.
#[derive(Debug, Clone, Default)]
pub struct ContentFocus(Arc<AtomicBool>);

impl ContentFocus {
    pub fn set(&self, focused: bool) {
        self.0.store(focused, Ordering::SeqCst);
    }

    /// True once: the key being handed over ends the frame's hold on the keyboard.
    fn take(&self) -> bool {
        self.0.swap(false, Ordering::SeqCst)
    }

    fn get(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

/// A triage key pressed while the focus was inside a content frame; `key` is what a
/// KeyboardEvent's `key` would say ("j", "Enter", "ArrowDown").
#[derive(
    Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type, tauri_specta::Event,
)]
pub struct ContentKey {
    pub key: String,
    pub ctrl: bool,
    pub alt: bool,
    pub shift: bool,
}

/// The triage key a press stands for, if it is one the app answers to: the plain keys
/// of the triage screen, Ctrl+K (commands) and Alt+1..4 (screens). None for anything
/// the frame should have: Ctrl+C, Ctrl+A, arrows with Shift, Space, Page Down.
pub fn triage_key(
    name: &str,
    text: Option<char>,
    ctrl: bool,
    alt: bool,
    shift: bool,
) -> Option<ContentKey> {
    let key = |key: &str| {
        Some(ContentKey {
            key: key.to_string(),
            ctrl,
            alt,
            shift,
        })
    };
    match (ctrl, alt) {
        (true, false) => match text {
            Some('k') => key("k"),
            _ => None,
        },
        (false, true) => match text {
            Some(digit @ '1'..='4') => key(&digit.to_string()),
            _ => None,
        },
        (false, false) => match (name, text) {
            ("Return" | "KP_Enter", _) => key("Enter"),
            ("Escape", _) => key("Escape"),
            ("Up", _) if !shift => key("ArrowUp"),
            ("Down", _) if !shift => key("ArrowDown"),
            (
                _,
                Some(c @ ('j' | 'k' | 'J' | 'K' | 'a' | 'r' | 'e' | 'i' | 'n' | 'u' | 'x' | '?')),
            ) => key(&c.to_string()),
            (_, Some(digit @ '1'..='9')) => key(&digit.to_string()),
            _ => None,
        },
        (true, true) => None,
    }
}

/// Watches the window's key presses for triage keys meant for the app.
#[cfg(target_os = "linux")]
pub fn install<R: tauri::Runtime>(window: &tauri::WebviewWindow<R>, focus: ContentFocus) {
    use gtk::prelude::WidgetExt;
    use tauri::Manager;
    use tauri_specta::Event;

    let app = window.app_handle().clone();
    let installed = window.with_webview(move |webview| {
        webview.inner().connect_key_press_event(move |_, event| {
            if !focus.get() {
                return gtk::glib::Propagation::Proceed;
            }
            let keyval = event.keyval();
            let state = event.state();
            let name = keyval.name().map(|n| n.to_string()).unwrap_or_default();
            let Some(key) = triage_key(
                &name,
                keyval.to_unicode(),
                state.contains(gtk::gdk::ModifierType::CONTROL_MASK),
                state.contains(gtk::gdk::ModifierType::MOD1_MASK),
                state.contains(gtk::gdk::ModifierType::SHIFT_MASK),
            ) else {
                return gtk::glib::Propagation::Proceed;
            };
            focus.take();
            if let Err(error) = key.emit(&app) {
                tracing::warn!(%error, "could not hand a key from the content to the UI");
            }
            gtk::glib::Propagation::Stop
        });
    });
    if let Err(error) = installed {
        tracing::warn!(%error, "triage keys will not work while the content has the focus");
    }
}

#[cfg(not(target_os = "linux"))]
pub fn install<R: tauri::Runtime>(_window: &tauri::WebviewWindow<R>, _focus: ContentFocus) {}

#[cfg(test)]
mod tests {
    use crate::content_keys::triage_key;

    fn check(
        name: &str,
        text: Option<char>,
        ctrl: bool,
        alt: bool,
        shift: bool,
        expected: Option<&str>,
    ) {
        let got = triage_key(name, text, ctrl, alt, shift).map(|k| k.key);
        assert_eq!(
            got.as_deref(),
            expected,
            "{name} {text:?} ctrl={ctrl} alt={alt} shift={shift}"
        );
    }

    #[test]
    fn triage_keys_go_to_the_app_and_everything_else_to_the_frame() {
        check("j", Some('j'), false, false, false, Some("j"));
        check("K", Some('K'), false, false, true, Some("K"));
        check("r", Some('r'), false, false, false, Some("r"));
        check("question", Some('?'), false, false, true, Some("?"));
        check("3", Some('3'), false, false, false, Some("3"));
        check("Return", None, false, false, false, Some("Enter"));
        check("Escape", None, false, false, false, Some("Escape"));
        check("Down", None, false, false, false, Some("ArrowDown"));
        check("k", Some('k'), true, false, false, Some("k"));
        check("2", Some('2'), false, true, false, Some("2"));
        // The frame keeps what selecting, copying and reading need.
        check("c", Some('c'), true, false, false, None);
        check("a", Some('a'), true, false, false, None);
        check("Down", None, false, false, true, None);
        check("space", Some(' '), false, false, false, None);
        check("Page_Down", None, false, false, false, None);
        check("b", Some('b'), false, false, false, None);
        check("9", Some('9'), false, true, false, None);
    }
}
