//! What the UI shows: the signed-in session, queues, items and the sync status.

use serde::{Deserialize, Serialize};

use crate::error::AppError;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct UserInfo {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub roles: Vec<String>,
    pub permissions: Vec<String>,
}

/// The signed-in account of the active profile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct SessionInfo {
    pub profile: String,
    pub server_url: String,
    pub production: bool,
    pub user: UserInfo,
}

/// What the UI needs to draw its first screen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct AppState {
    pub session: Option<SessionInfo>,
    /// The server URL to prefill on the sign-in screen.
    pub default_server_url: Option<String>,
    /// Why the user has to sign in again, when an earlier session ended by itself.
    pub needs_sign_in_reason: Option<AppError>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct QueueSummary {
    pub id: i64,
    pub slug: String,
    pub name: String,
    pub priority: i64,
    pub open_count: i64,
    pub oldest_open_at: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum ItemState {
    Open,
    Approved,
    Removed,
    Escalated,
    Ignored,
}

impl ItemState {
    pub fn as_str(self) -> &'static str {
        match self {
            ItemState::Open => "open",
            ItemState::Approved => "approved",
            ItemState::Removed => "removed",
            ItemState::Escalated => "escalated",
            ItemState::Ignored => "ignored",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "open" => ItemState::Open,
            "approved" => ItemState::Approved,
            "removed" => ItemState::Removed,
            "escalated" => ItemState::Escalated,
            "ignored" => ItemState::Ignored,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum DecisionAction {
    Approve,
    Remove,
    Escalate,
    Ignore,
}

impl DecisionAction {
    pub fn as_str(self) -> &'static str {
        match self {
            DecisionAction::Approve => "approve",
            DecisionAction::Remove => "remove",
            DecisionAction::Escalate => "escalate",
            DecisionAction::Ignore => "ignore",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "approve" => DecisionAction::Approve,
            "remove" => DecisionAction::Remove,
            "escalate" => DecisionAction::Escalate,
            "ignore" => DecisionAction::Ignore,
            _ => return None,
        })
    }

    /// The state an open item is in once this decision is applied.
    pub fn resulting_state(self) -> ItemState {
        match self {
            DecisionAction::Approve => ItemState::Approved,
            DecisionAction::Remove => ItemState::Removed,
            DecisionAction::Escalate => ItemState::Escalated,
            DecisionAction::Ignore => ItemState::Ignored,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct ItemSummary {
    pub id: i64,
    pub queue_id: i64,
    pub state: ItemState,
    pub version: i64,
    pub title: String,
    pub author_username: String,
    pub report_count: i64,
    pub top_reason: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    /// A decision made here that the server has not confirmed yet.
    pub pending_action: Option<DecisionAction>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct ReportInfo {
    pub reason: String,
    pub note: String,
    pub created_at: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct AuthorInfo {
    pub id: i64,
    pub username: String,
    pub status: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct ClaimInfo {
    pub username: String,
    pub expires_at: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct ItemDetail {
    pub summary: ItemSummary,
    /// The reported content after the engine's allow-list sanitizer: no scripts, no event
    /// handlers, no remote resources. The UI still renders it in a sandboxed frame.
    pub safe_html: String,
    pub author: AuthorInfo,
    pub reports: Vec<ReportInfo>,
    pub claim: Option<ClaimInfo>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, specta::Type)]
pub struct SyncStatus {
    pub online: bool,
    pub syncing: bool,
    /// Actions written locally that the server has not confirmed yet.
    pub pending: i64,
    /// Actions the server refused because its state had moved on.
    pub conflicts: i64,
    pub last_synced_at: Option<String>,
    pub last_error: Option<AppError>,
}
