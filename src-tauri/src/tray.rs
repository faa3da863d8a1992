//! The tray icon: its menu shows pending actions and open-queue counts, and brings the
//! window back. It is rebuilt when the sync status or the queues change.

use std::sync::Arc;

use steward_engine::Engine;
use tauri::menu::{Menu, MenuItem, PredefinedMenuItem};
use tauri::tray::{TrayIcon, TrayIconBuilder};
use tauri::{AppHandle, Manager, Runtime};

const TRAY_ID: &str = "steward";

/// Creates the tray icon with its first menu. `icon_dir` is where the icon's image file
/// goes on Linux: a directory of the user's own (without XDG_RUNTIME_DIR the tray crate
/// would use a fixed name in the shared temp directory, which another user could prepare).
pub fn create<R: Runtime>(
    app: &AppHandle<R>,
    icon_dir: &std::path::Path,
) -> tauri::Result<TrayIcon<R>> {
    let menu = Menu::with_items(
        app,
        &[&MenuItem::with_id(
            app,
            "show",
            "Show Steward",
            true,
            None::<&str>,
        )?],
    )?;
    let mut builder = TrayIconBuilder::with_id(TRAY_ID)
        .temp_dir_path(icon_dir)
        .tooltip("Steward")
        .menu(&menu)
        .on_menu_event(|app, event| match event.id().as_ref() {
            "show" => show_window(app),
            "sync" => {
                let engine = app.state::<Arc<Engine>>().inner().clone();
                tauri::async_runtime::spawn(async move {
                    let _ = engine.sync_now().await;
                });
            }
            "quit" => app.exit(0),
            _ => {}
        });
    if let Some(icon) = app.default_window_icon() {
        builder = builder.icon(icon.clone());
    }
    builder.build(app)
}

/// Brings the main window to the front (from the tray, or a second launch).
pub fn show_window<R: Runtime>(app: &AppHandle<R>) {
    if let Some(window) = app.get_webview_window("main") {
        let _ = window.unminimize();
        let _ = window.show();
        let _ = window.set_focus();
    }
}

/// Rebuilds the tray menu from the engine's state.
pub async fn refresh<R: Runtime>(app: &AppHandle<R>) {
    let Some(tray) = app.tray_by_id(TRAY_ID) else {
        return;
    };
    let engine = app.state::<Arc<Engine>>().inner().clone();
    let lines = engine.tray_summary().await;
    let build = || -> tauri::Result<Menu<R>> {
        let menu = Menu::new(app)?;
        menu.append(&MenuItem::with_id(
            app,
            "show",
            "Show Steward",
            true,
            None::<&str>,
        )?)?;
        menu.append(&PredefinedMenuItem::separator(app)?)?;
        for (n, line) in lines.iter().enumerate() {
            menu.append(&MenuItem::with_id(
                app,
                format!("info-{n}"),
                line,
                false,
                None::<&str>,
            )?)?;
        }
        menu.append(&PredefinedMenuItem::separator(app)?)?;
        menu.append(&MenuItem::with_id(
            app,
            "sync",
            "Sync now",
            true,
            None::<&str>,
        )?)?;
        menu.append(&MenuItem::with_id(
            app,
            "quit",
            "Quit Steward",
            true,
            None::<&str>,
        )?)?;
        Ok(menu)
    };
    match build() {
        Ok(menu) => {
            if let Err(error) = tray.set_menu(Some(menu)) {
                tracing::warn!(%error, "could not update the tray menu");
            }
        }
        Err(error) => tracing::warn!(%error, "could not build the tray menu"),
    }
}
