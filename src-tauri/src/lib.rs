//! The Steward desktop shell: a window, the command allow-list and event forwarding.
//!
//! All behaviour lives in steward-engine; this crate only registers one-line commands
//! (see `commands`) and turns engine events into typed Tauri events.

mod commands;
pub mod content_keys;
mod events;
pub mod logging;
pub mod notifications;
pub mod rendering;
mod tray;

use std::path::PathBuf;
use std::sync::Arc;

use steward_engine::logging::LogSink;
use steward_engine::{Engine, EngineConfig};
use tauri::{Manager, Runtime};
use tracing_subscriber::Layer;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// The one list of commands and events the UI may use; the TypeScript bindings are
/// generated from it (see the `bindings_are_fresh` test).
pub fn specta_builder<R: Runtime>() -> tauri_specta::Builder<R> {
    tauri_specta::Builder::<R>::new()
        .commands(tauri_specta::collect_commands![
            commands::get_app_state,
            commands::list_profiles,
            commands::save_profile,
            commands::switch_profile,
            commands::sign_in,
            commands::sign_out,
            commands::get_unsent_work,
            commands::list_refused,
            commands::dismiss_refused,
            commands::list_queues,
            commands::list_queue_items,
            commands::list_items,
            commands::get_item,
            commands::load_item_images,
            commands::open_item_link,
            commands::decide_item,
            commands::decide_items,
            commands::undo_last,
            commands::claim_item,
            commands::release_item,
            commands::list_reason_templates,
            commands::list_conflicts,
            commands::resolve_conflict,
            commands::sync_now,
            commands::get_sync_status,
            commands::search_accounts,
            commands::get_account,
            commands::act_on_account,
            commands::add_account_note,
            commands::search_audit,
            commands::export_audit_csv,
            commands::list_jobs,
            commands::get_job,
            commands::job_stats,
            commands::count_matching_jobs,
            commands::act_on_jobs,
            commands::retry_matching_jobs,
            commands::set_content_focus,
        ])
        .events(tauri_specta::collect_events![
            events::SyncStatusChanged,
            events::CollectionChanged,
            events::ActionRefused,
            events::SessionExpired,
            events::SessionChanged,
            events::NewHighPriorityItems,
            events::JobsFailed,
            events::ExportProgress,
            content_keys::ContentKey,
        ])
        .dangerously_cast_bigints_to_number()
        .disable_serde_phases()
}

/// Where the app keeps profiles and caches: `STEWARD_DATA_DIR`, else the OS data dir.
fn data_dir<R: Runtime>(app: &tauri::App<R>) -> Result<PathBuf, Box<dyn std::error::Error>> {
    match std::env::var_os("STEWARD_DATA_DIR") {
        Some(dir) => Ok(PathBuf::from(dir)),
        None => Ok(app.path().app_data_dir()?),
    }
}

/// Builds the app on any runtime, so tests can pass `tauri::test::mock_builder()`.
pub fn run_app<R: Runtime>(builder: tauri::Builder<R>) -> tauri::Builder<R> {
    let specta = specta_builder::<R>();
    builder
        // First: a second launch only brings the running window forward.
        .plugin(tauri_plugin_single_instance::init(|app, _argv, _cwd| {
            tray::show_window(app)
        }))
        // The window comes back where and as large as the user left it.
        .plugin(tauri_plugin_window_state::Builder::default().build())
        // Saved as the user resizes or moves it, not only on a clean exit, so a crash or a
        // killed process still brings the window back where it was.
        .on_window_event(|window, event| {
            if matches!(
                event,
                tauri::WindowEvent::Resized(_) | tauri::WindowEvent::Moved(_)
            ) {
                use tauri_plugin_window_state::{AppHandleExt, StateFlags};
                if let Err(error) = window.app_handle().save_window_state(StateFlags::all()) {
                    tracing::warn!(%error, "could not save the window's size and place");
                }
            }
        })
        .invoke_handler(specta.invoke_handler())
        .setup(move |app| {
            specta.mount_events(app);
            let content_focus = content_keys::ContentFocus::default();
            if let Some(window) = app.get_webview_window("main") {
                rendering::apply(&window, rendering::Rendering::detect());
                content_keys::install(&window, content_focus.clone());
            }
            app.manage(content_focus);
            let data_dir = data_dir(app)?;
            if let Err(error) = tray::create(app.handle(), &data_dir.join("tray")) {
                // A desktop without a tray (some Wayland shells) still gets the window.
                tracing::warn!(%error, "no tray icon");
            }
            let mut config = EngineConfig::new(data_dir.clone());
            config.default_server_url = std::env::var("STEWARD_SERVER_URL").ok();
            // For products whose images live on their intranet: let "Show images" fetch
            // from private addresses too (off by default).
            config.allow_private_images =
                std::env::var("STEWARD_ALLOW_PRIVATE_IMAGES").is_ok_and(|value| value == "1");
            // The log file starts in the data directory, never in a shared temp directory.
            config.log_sink = app
                .try_state::<logging::LaterSink>()
                .map(|later| later.set(LogSink::new(&data_dir.join("logs"))));
            let engine = tauri::async_runtime::block_on(Engine::open(config))?;
            events::forward(app.handle().clone(), engine.subscribe());
            app.manage(Arc::clone(&engine));
            Ok(())
        })
}

pub fn run() {
    // Lines go, redacted, to stderr and to the active profile's rolling log file, which
    // starts once setup knows the data directory (logging.rs). No ANSI colours on stderr:
    // they split `password=value` apart and the redaction would miss it.
    let file = logging::LaterSink::default();
    let filter = || {
        tracing_subscriber::EnvFilter::try_from_env("STEWARD_LOG").unwrap_or_else(|_| "info".into())
    };
    tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .with_ansi(false)
                .with_writer(logging::RedactedStderr)
                .with_filter(filter()),
        )
        .with(
            tracing_subscriber::fmt::layer()
                .with_ansi(false)
                .with_writer(file.clone())
                .with_filter(filter()),
        )
        .init();
    run_app(tauri::Builder::default().manage(file))
        .run(tauri::generate_context!())
        .expect("Steward could not start its window");
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use crate::specta_builder;

    fn bindings_path() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../ui/src/lib/backend/bindings.ts")
    }

    /// Regenerates the bindings into a temporary file and compares them with the committed
    /// ones; `UPDATE_BINDINGS=1 cargo test -p steward bindings` rewrites them.
    #[test]
    fn bindings_are_fresh() {
        let temporary = tempfile_path();
        specta_builder::<tauri::Wry>()
            .export(specta_typescript::Typescript::default(), &temporary)
            .expect("the bindings export");
        let fresh = std::fs::read_to_string(&temporary).unwrap();
        std::fs::remove_file(&temporary).ok();
        let committed = std::fs::read_to_string(bindings_path()).unwrap_or_default();
        if std::env::var_os("UPDATE_BINDINGS").is_some() {
            std::fs::write(bindings_path(), &fresh).unwrap();
            return;
        }
        assert!(
            fresh == committed,
            "ui/src/lib/backend/bindings.ts is stale: run `UPDATE_BINDINGS=1 cargo test -p steward bindings` and commit it"
        );
    }

    fn tempfile_path() -> PathBuf {
        std::env::temp_dir().join(format!("steward-bindings-{}.ts", std::process::id()))
    }
}
