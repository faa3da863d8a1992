//! The baseline of bench's memory and start-up scenario: Tauri's smallest app, one empty
//! window of Steward's size, with the same Tauri (the workspace's, the same features)
//! and the same WebKitGTK. Its page marks its first rendered frame as Steward marks its
//! first queue (dist/paint.js), so both start-ups are measured the same way.

#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    tauri::Builder::default()
        .run(tauri::generate_context!())
        .expect("the minimal app runs");
}
