//! The audit log from the cache: search, and the CSV export with its progress events.

use std::path::PathBuf;

use steward_core::{AppError, AuditPage, AuditQuery};

use crate::{Engine, EngineEvent, records};

impl Engine {
    /// A window of the cached audit log matching `query`, newest first. Works offline.
    pub async fn search_audit(
        &self,
        query: AuditQuery,
        offset: i64,
        limit: i64,
    ) -> Result<AuditPage, AppError> {
        Ok(self
            .require_active()
            .await?
            .store
            .search_audit(&query, offset, limit)
            .await?)
    }

    /// Writes every cached event matching `query` to a CSV file in `dir` (the downloads
    /// folder when None) and returns its path; progress arrives as events.
    pub async fn export_audit_csv(
        &self,
        query: AuditQuery,
        dir: Option<PathBuf>,
    ) -> Result<String, AppError> {
        let active = self.require_active().await?;
        let dir = dir
            .or_else(dirs::download_dir)
            .unwrap_or_else(|| self.config.data_dir.join("exports"));
        std::fs::create_dir_all(&dir)
            .map_err(|e| AppError::storage(format!("cannot create {}: {e}", dir.display())))?;
        let name = format!(
            "steward-audit-{}.csv",
            records::now().replace([':', '.'], "-")
        );
        let path = dir.join(name);
        let first = active.store.search_audit(&query, 0, 0).await?;
        let total = if first.total_capped {
            None
        } else {
            Some(first.total)
        };
        let mut writer = csv::Writer::from_path(&path)
            .map_err(|e| AppError::storage(format!("cannot write {}: {e}", path.display())))?;
        let write_error =
            |e: csv::Error| AppError::storage(format!("cannot write {}: {e}", path.display()));
        writer
            .write_record([
                "id",
                "created_at",
                "actor",
                "action",
                "target_type",
                "target_id",
                "data",
            ])
            .map_err(write_error)?;
        let mut done: i64 = 0;
        loop {
            let page = active.store.search_audit(&query, done, 1000).await?;
            if page.events.is_empty() {
                break;
            }
            for event in &page.events {
                let id = event.id.to_string();
                // Untrusted text goes to a spreadsheet: neutralize formulas.
                let cells = [
                    id.as_str(),
                    &event.created_at,
                    &csv_safe(&event.actor_username),
                    &csv_safe(&event.action),
                    &csv_safe(&event.target_type),
                    &csv_safe(&event.target_id),
                    &csv_safe(&event.data_json.replace('\n', " ")),
                ];
                writer.write_record(cells).map_err(write_error)?;
            }
            done += page.events.len() as i64;
            let _ = self
                .events
                .send(EngineEvent::ExportProgress { done, total });
        }
        writer
            .flush()
            .map_err(|e| AppError::storage(format!("cannot write {}: {e}", path.display())))?;
        tracing::info!(rows = done, "audit exported");
        Ok(path.display().to_string())
    }
}

/// Keeps a spreadsheet from reading untrusted text as a formula.
fn csv_safe(text: &str) -> String {
    match text.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{text}"),
        _ => text.to_string(),
    }
}
