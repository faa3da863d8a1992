//! The product's background jobs as the jobs screen shows them: on several backends
//! (django-tasks, Celery), with what may be done to each.

use serde::{Deserialize, Serialize};

use crate::model::SkippedItem;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct JobInfo {
    pub id: i64,
    /// The job system it runs on: "tasks" (django-tasks), "celery", ...
    pub backend: String,
    pub queue: String,
    /// The task: its name on the backend (e.g. "forum.tasks.send_email").
    pub kind: String,
    /// pending, running, succeeded, failed or cancelled (a pending local action included).
    pub status: String,
    pub attempts: i64,
    pub payload_summary: String,
    pub created_by: Option<String>,
    pub created_at: String,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
    pub updated_at: String,
    pub last_error: String,
    pub pending_action: Option<JobAction>,
    /// Whether the server can retry it; when not, `retry_blocked_reason` says why (its
    /// arguments could not be stored exactly, it predates the backend, ...).
    pub can_retry: bool,
    pub retry_blocked_reason: String,
    pub can_cancel: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum JobAction {
    Retry,
    Cancel,
}

impl JobAction {
    pub fn as_str(self) -> &'static str {
        match self {
            JobAction::Retry => "retry",
            JobAction::Cancel => "cancel",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct JobDetail {
    pub job: JobInfo,
    /// The traceback of the last failure (untrusted text: show it as text).
    pub last_traceback: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct JobQuery {
    pub status: Option<String>,
    pub kind: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct JobPage {
    pub total: i64,
    pub offset: i64,
    pub jobs: Vec<JobInfo>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct CountEntry {
    pub key: String,
    pub count: i64,
}

/// Counts for the jobs dashboard.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct JobStats {
    pub by_status: Vec<CountEntry>,
    pub by_kind: Vec<CountEntry>,
    /// Failed jobs per hour (key: the hour, ISO 8601), oldest first, over the last days.
    pub failures_by_hour: Vec<CountEntry>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct JobBulkOutcome {
    pub queued: Vec<i64>,
    /// Jobs left alone, with the reason (`item_id` holds the job's id).
    pub skipped: Vec<SkippedItem>,
}
