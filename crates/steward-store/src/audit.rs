//! The audit log: mirrored by ascending id, searched with FTS5 plus filters.
//!
//! Ingest uses multi-row inserts into the events table and the full-text index; a first
//! download hands this several feed pages at once, so a transaction covers them all.

use std::collections::HashSet;

use sqlx::{QueryBuilder, Row};
use steward_core::{AuditEventInfo, AuditPage, AuditQuery};

use crate::{Store, StoreError};

/// Counting matches stops here; beyond it the UI says "1,000+" and grows the list as
/// the user scrolls. Counting further would cost more than the search itself.
pub const AUDIT_TOTAL_CAP: i64 = 1_000;

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AuditRecord {
    pub id: i64,
    pub actor_username: String,
    pub action: String,
    pub target_type: String,
    pub target_id: String,
    pub created_at: String,
    pub data_json: String,
    /// The words the full-text index holds for this event besides its target, which the
    /// store indexes itself (see [`target_words`]).
    pub text: String,
}

impl Store {
    /// Appends a page of the audit feed and moves its cursor, atomically. Events already
    /// cached are skipped, so a page replayed after a crash changes nothing.
    pub async fn apply_audit_page(
        &self,
        events: &[AuditRecord],
        cursor: Option<&str>,
        now: &str,
    ) -> Result<(), StoreError> {
        if events.is_empty() {
            return Ok(());
        }
        let mut tx = self.write().await?;
        // Multi-row inserts: binding values costs far less than SQLite's JSON functions
        // re-reading every row's JSON (a callgrind profile of a json_each version).
        for chunk in events.chunks(500) {
            let mut known = QueryBuilder::new("SELECT id FROM audit_events WHERE id IN (");
            let mut ids = known.separated(", ");
            for event in chunk {
                ids.push_bind(event.id);
            }
            ids.push_unseparated(")");
            let known: HashSet<i64> = known
                .build_query_scalar()
                .fetch_all(&mut *tx)
                .await?
                .into_iter()
                .collect();
            let mut seen = HashSet::new();
            let new: Vec<&AuditRecord> = chunk
                .iter()
                .filter(|e| !known.contains(&e.id) && seen.insert(e.id))
                .collect();
            if new.is_empty() {
                continue;
            }
            let mut insert = QueryBuilder::new(
                "INSERT INTO audit_events (id, actor_username, action, target_type, target_id, created_at, data_json) ",
            );
            insert.push_values(&new, |mut row, event| {
                row.push_bind(event.id)
                    .push_bind(&event.actor_username)
                    .push_bind(&event.action)
                    .push_bind(&event.target_type)
                    .push_bind(&event.target_id)
                    .push_bind(&event.created_at)
                    .push_bind(&event.data_json);
            });
            insert.build().execute(&mut *tx).await?;
            // Index only the events this page really added.
            let mut index = QueryBuilder::new("INSERT INTO audit_fts (rowid, target, text) ");
            index.push_values(&new, |mut row, event| {
                row.push_bind(event.id)
                    .push_bind(target_words(&event.target_type, &event.target_id))
                    .push_bind(&event.text);
            });
            index.build().execute(&mut *tx).await?;
        }
        if let Some(cursor) = cursor {
            crate::set_cursor(&mut tx, "audit", cursor, now).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    pub async fn audit_count(&self) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar("SELECT count(*) FROM audit_events")
            .fetch_one(self.pool())
            .await?)
    }

    /// A window of the events matching `query`, newest first.
    pub async fn search_audit(
        &self,
        query: &AuditQuery,
        offset: i64,
        limit: i64,
    ) -> Result<AuditPage, StoreError> {
        // A target filter is a phrase on the index's target column (there is no B-tree
        // index on targets: see migrations/0003); the exact comparison below still
        // decides, the phrase only narrows.
        let target = target_phrase(query.target_type.as_deref(), query.target_id.as_deref());
        let words = query
            .text
            .as_deref()
            .map(fts_query)
            .filter(|t| !t.is_empty());
        let text = match (words, target) {
            (Some(words), Some(target)) => Some(format!("({words}) AND {target}")),
            (words, target) => words.or(target),
        };
        // Only the filters in use go into the SQL, so SQLite can pick their index (an
        // `? IS NULL OR column = ?` condition would force a scan). Every value is bound.
        let mut conditions = Vec::new();
        let mut values: Vec<String> = Vec::new();
        for (column, op, value) in [
            ("a.actor_username", "=", &query.actor),
            ("a.action", "=", &query.action),
            ("a.target_type", "=", &query.target_type),
            ("a.target_id", "=", &query.target_id),
            ("a.created_at", ">=", &query.from),
            ("a.created_at", "<", &query.to),
        ] {
            if let Some(value) = value.as_deref().filter(|v| !v.is_empty()) {
                values.push(value.to_string());
                conditions.push(format!("{column} {op} ?{}", values.len() + 1));
            }
        }
        let filters = if conditions.is_empty() {
            "1".to_string()
        } else {
            conditions.join(" AND ")
        };
        let (limit_at, offset_at) = (values.len() + 2, values.len() + 3);
        // With words, walk the full-text index newest first (CROSS JOIN keeps it the outer
        // loop: probing FTS5 once per row of a filter's index takes seconds); without,
        // the newest events by time through whichever index the filters allow.
        let (count_sql, page_sql) = match text {
            Some(_) => (
                format!(
                    "SELECT count(*) FROM (SELECT 1 FROM audit_fts f CROSS JOIN audit_events a ON a.id = f.rowid WHERE audit_fts MATCH ?1 AND {filters} LIMIT ?{limit_at} OFFSET ?{offset_at})"
                ),
                format!(
                    "SELECT a.* FROM audit_fts f CROSS JOIN audit_events a ON a.id = f.rowid WHERE audit_fts MATCH ?1 AND {filters} ORDER BY f.rowid DESC LIMIT ?{limit_at} OFFSET ?{offset_at}"
                ),
            ),
            None => (
                format!(
                    "SELECT count(*) FROM (SELECT 1 FROM audit_events a WHERE ?1 IS NULL AND {filters} LIMIT ?{limit_at} OFFSET ?{offset_at})"
                ),
                format!(
                    "SELECT a.* FROM audit_events a WHERE ?1 IS NULL AND {filters} ORDER BY a.created_at DESC, a.id DESC LIMIT ?{limit_at} OFFSET ?{offset_at}"
                ),
            ),
        };
        let bind_filters = |sql: &str| {
            let mut bound = sqlx::query(sqlx::AssertSqlSafe(sql.to_string())).bind(text.clone());
            for value in &values {
                bound = bound.bind(value.clone());
            }
            bound
        };
        let total: i64 = bind_filters(&count_sql)
            .bind(AUDIT_TOTAL_CAP + 1)
            .bind(0_i64)
            .fetch_one(self.pool())
            .await?
            .get(0);
        let rows = bind_filters(&page_sql)
            .bind(limit.clamp(0, 1000))
            .bind(offset.max(0))
            .fetch_all(self.pool())
            .await?;
        Ok(AuditPage {
            total: total.min(AUDIT_TOTAL_CAP),
            total_capped: total > AUDIT_TOTAL_CAP,
            offset: offset.max(0),
            events: rows.iter().map(event_from_row).collect(),
        })
    }

    pub async fn audit_event(&self, id: i64) -> Result<Option<AuditEventInfo>, StoreError> {
        let row = sqlx::query("SELECT * FROM audit_events a WHERE id = ?")
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        Ok(row.as_ref().map(event_from_row))
    }
}

fn event_from_row(row: &sqlx::sqlite::SqliteRow) -> AuditEventInfo {
    let data: String = row.get("data_json");
    let pretty = serde_json::from_str::<serde_json::Value>(&data)
        .ok()
        .and_then(|value| serde_json::to_string_pretty(&value).ok())
        .unwrap_or(data);
    AuditEventInfo {
        id: row.get("id"),
        actor_username: row.get("actor_username"),
        action: row.get("action"),
        target_type: row.get("target_type"),
        target_id: row.get("target_id"),
        created_at: row.get("created_at"),
        data_json: pretty,
    }
}

/// What the full-text index's `target` column holds for an event: its target type and id.
pub fn target_words(target_type: &str, target_id: &str) -> String {
    format!("{target_type} {target_id}")
}

/// The FTS5 phrase that finds a target (type, id, or both) in the `target` column, or
/// None when the filter has no word characters to look for.
fn target_phrase(target_type: Option<&str>, target_id: Option<&str>) -> Option<String> {
    let tokens: Vec<&str> = [target_type, target_id]
        .into_iter()
        .flatten()
        .flat_map(words)
        .collect();
    (!tokens.is_empty()).then(|| format!("target : \"{}\"", tokens.join(" ")))
}

/// The words of `text` as both query builders quote them: runs of letters, digits and
/// underscores, so no FTS5 syntax survives.
fn words(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !c.is_alphanumeric() && c != '_')
        .filter(|word| !word.is_empty())
}

/// Turns what the user typed into an FTS5 query: every word must appear, as a prefix of
/// a word, and nothing the user types is FTS5 syntax.
pub fn fts_query(typed: &str) -> String {
    words(typed)
        .map(|word| format!("\"{word}\"*"))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use crate::audit::{fts_query, target_phrase};

    #[test]
    fn a_target_filter_becomes_a_phrase_on_the_target_column() {
        assert_eq!(
            target_phrase(Some("item"), Some("42")),
            Some("target : \"item 42\"".into())
        );
        assert_eq!(
            target_phrase(None, Some("a\" OR x")),
            Some("target : \"a OR x\"".into())
        );
        assert_eq!(
            target_phrase(Some("job"), None),
            Some("target : \"job\"".into())
        );
        assert_eq!(target_phrase(Some(""), Some("--")), None);
    }

    #[test]
    fn typed_text_becomes_a_safe_prefix_query() {
        assert_eq!(fts_query("suspend ann"), "\"suspend\"* \"ann\"*");
        assert_eq!(fts_query("item.decide"), "\"item\"* \"decide\"*");
        assert_eq!(
            fts_query("a\" OR b NEAR("),
            "\"a\"* \"OR\"* \"b\"* \"NEAR\"*"
        );
        assert_eq!(fts_query("  "), "");
    }
}
