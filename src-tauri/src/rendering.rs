//! How the webview draws on Linux. WebKitGTK composites with OpenGL by default; on a
//! machine without a GPU (a VM, a remote desktop, Xvfb) Mesa then emulates OpenGL on the
//! CPU, and every frame costs two to three times what drawing straight into a CPU buffer
//! costs: key press to next item painted went from 54 ms to 16 ms at the median
//! (bench/ui-latency). So without a GPU render node the webview draws without
//! compositing. `STEWARD_RENDERING=gpu` or `=cpu` overrides the detection.

use std::path::Path;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rendering {
    /// WebKitGTK's default: composite with OpenGL when it wants to.
    Gpu,
    /// Never composite with OpenGL.
    Cpu,
}

impl Rendering {
    /// Decides from the override (`STEWARD_RENDERING`) and the names in /dev/dri.
    pub fn choose<S: AsRef<str>>(
        requested: Option<&str>,
        dri_entries: impl IntoIterator<Item = S>,
    ) -> Rendering {
        match requested.map(str::trim) {
            Some("gpu") => return Rendering::Gpu,
            Some("cpu") => return Rendering::Cpu,
            _ => {}
        }
        let has_render_node = dri_entries
            .into_iter()
            .any(|name| name.as_ref().starts_with("renderD"));
        if has_render_node {
            Rendering::Gpu
        } else {
            Rendering::Cpu
        }
    }

    /// What this machine gets.
    pub fn detect() -> Rendering {
        let requested = std::env::var("STEWARD_RENDERING").ok();
        let entries: Vec<String> = std::fs::read_dir(Path::new("/dev/dri"))
            .map(|dir| {
                dir.filter_map(Result::ok)
                    .map(|entry| entry.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        Rendering::choose(requested.as_deref(), entries)
    }
}

/// Applies the choice to a window's webview.
#[cfg(target_os = "linux")]
pub fn apply<R: tauri::Runtime>(window: &tauri::WebviewWindow<R>, rendering: Rendering) {
    if rendering == Rendering::Gpu {
        return;
    }
    let applied = window.with_webview(|webview| {
        use webkit2gtk::{HardwareAccelerationPolicy, SettingsExt, WebViewExt};
        if let Some(settings) = WebViewExt::settings(&webview.inner()) {
            settings.set_hardware_acceleration_policy(HardwareAccelerationPolicy::Never);
        }
    });
    match applied {
        Ok(()) => {
            tracing::info!("no GPU render node: the webview draws without OpenGL compositing")
        }
        Err(error) => tracing::warn!(%error, "could not set the webview's rendering"),
    }
}

#[cfg(not(target_os = "linux"))]
pub fn apply<R: tauri::Runtime>(_window: &tauri::WebviewWindow<R>, _rendering: Rendering) {}

#[cfg(test)]
mod tests {
    use super::Rendering;

    #[test]
    fn without_a_render_node_the_webview_draws_on_the_cpu() {
        let none: [&str; 0] = [];
        assert_eq!(Rendering::choose(None, none), Rendering::Cpu);
        // A card without a render node (some virtual GPUs) is no help either.
        assert_eq!(Rendering::choose(None, ["card0"]), Rendering::Cpu);
        assert_eq!(
            Rendering::choose(None, ["card0", "renderD128"]),
            Rendering::Gpu
        );
    }

    #[test]
    fn the_override_wins_over_detection() {
        let none: [&str; 0] = [];
        assert_eq!(Rendering::choose(Some("gpu"), none), Rendering::Gpu);
        assert_eq!(
            Rendering::choose(Some("cpu"), ["renderD128"]),
            Rendering::Cpu
        );
        assert_eq!(
            Rendering::choose(Some("auto"), ["renderD128"]),
            Rendering::Gpu
        );
    }
}
