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

/// An environment Steward can sign in to (local, staging, production, ...).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct ProfileInfo {
    pub name: String,
    pub server_url: String,
    /// Production is visibly marked and destructive bulk actions there ask first.
    pub production: bool,
    /// The account last signed in on this profile, if any.
    pub username: Option<String>,
    pub active: bool,
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
    /// The product deleted the object while its item was open; nothing left to decide.
    Deleted,
}

impl ItemState {
    pub fn as_str(self) -> &'static str {
        match self {
            ItemState::Open => "open",
            ItemState::Approved => "approved",
            ItemState::Removed => "removed",
            ItemState::Escalated => "escalated",
            ItemState::Ignored => "ignored",
            ItemState::Deleted => "deleted",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "open" => ItemState::Open,
            "approved" => ItemState::Approved,
            "removed" => ItemState::Removed,
            "escalated" => ItemState::Escalated,
            "ignored" => ItemState::Ignored,
            "deleted" => ItemState::Deleted,
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
    /// The product user who reported it, when the product says.
    #[serde(default, deserialize_with = "reporter_name")]
    #[specta(type = Option<String>)]
    pub reporter: Option<String>,
    pub created_at: String,
}

/// The server sends the reporter as `{id, username}`; the UI needs the name.
fn reporter_name<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Reporter {
        User { username: String },
        Name(String),
    }
    Ok(
        Option::<Reporter>::deserialize(deserializer)?.map(|reporter| match reporter {
            Reporter::User { username } | Reporter::Name(username) => username,
        }),
    )
}

/// The product object an item is about, as the product describes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct ContentObject {
    /// The model, e.g. "forum.post".
    #[serde(rename = "type")]
    pub object_type: String,
    /// What to call it: "post", "comment".
    #[serde(default)]
    pub label: String,
    #[serde(default)]
    pub key: String,
    /// A link to it on the product's public site, when it has one.
    #[serde(default)]
    pub url: Option<String>,
    /// The product deleted it.
    #[serde(default)]
    pub deleted: bool,
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
    /// How many images were held back (their sources removed) by the sanitizer.
    pub blocked_images: i64,
    /// None when the product does not know who wrote it (an anonymous post).
    pub author: Option<AuthorInfo>,
    /// The product object behind the item: its type and a link to it on the public site.
    pub object: Option<ContentObject>,
    pub reports: Vec<ReportInfo>,
    pub claim: Option<ClaimInfo>,
    /// Whether the claim is the signed-in user's own.
    pub claimed_by_me: bool,
    /// Earlier items by the same author that were decided, newest first (from the cache).
    pub author_history: Vec<AuthorHistoryEntry>,
    /// How many of the author's items were removed: the author's strikes.
    pub author_strikes: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct AuthorHistoryEntry {
    pub item_id: i64,
    pub title: String,
    pub state: ItemState,
    pub updated_at: String,
}

/// How an item list is ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum ItemSort {
    OldestFirst,
    NewestFirst,
    MostReported,
}

/// One window of an item list, for a virtualized view.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct ItemPage {
    /// How many items match in all.
    pub total: i64,
    pub offset: i64,
    pub items: Vec<ItemSummary>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct ReasonTemplate {
    pub id: i64,
    /// "decision" or "account".
    pub scope: String,
    pub code: String,
    pub label: String,
    pub text: String,
    /// The actions this reason fits (for decisions: approve, remove, ...); empty means any.
    pub actions: Vec<String>,
}

/// The outcome of a (bulk) decision: what was queued, what was skipped and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct BulkOutcome {
    pub queued: Vec<ItemSummary>,
    pub skipped: Vec<SkippedItem>,
    /// When the queued decisions go out: until then `undo_last` withdraws them. The UI's
    /// undo button must be gone by then.
    pub undo_until: String,
}

/// A decision on one item, queued.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct Decided {
    pub item: ItemSummary,
    /// When the decision goes out: until then `undo_last` withdraws it.
    pub undo_until: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct SkippedItem {
    pub item_id: i64,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct UndoOutcome {
    /// The items whose pending decisions were withdrawn.
    pub item_ids: Vec<i64>,
}

/// A decision the server refused because its state had moved on, kept for the user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct ConflictInfo {
    pub outbox_id: i64,
    pub item_id: i64,
    pub title: String,
    pub my_action: DecisionAction,
    pub my_reason_code: String,
    pub my_note: String,
    pub my_base_version: i64,
    /// The item as the server has it now.
    pub server_state: ItemState,
    pub server_version: i64,
    pub message: String,
    pub created_at: String,
}

/// What the user chooses for a conflict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ConflictResolution {
    /// Forget the local decision; the server's state stands.
    Drop,
    /// Decide again on the server's current version.
    DecideAgain {
        action: DecisionAction,
        reason_code: Option<String>,
        note: Option<String>,
    },
}

/// Progress of the first full download of a collection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct BootstrapProgress {
    pub collection: String,
    pub done: i64,
    /// Unknown until the server says.
    pub total: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, specta::Type)]
pub struct SyncStatus {
    pub online: bool,
    /// A pull is bringing the cache up to date (pushes alone do not set it).
    pub syncing: bool,
    /// Actions written locally that the server has not confirmed yet.
    pub pending: i64,
    /// Actions the server refused because its state had moved on.
    pub conflicts: i64,
    /// Actions the server refused for good, kept until the user dismisses them.
    pub refused: i64,
    pub last_synced_at: Option<String>,
    pub last_error: Option<AppError>,
    /// Set while a collection is downloaded for the first time.
    pub bootstrap: Option<BootstrapProgress>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct AccountCounts {
    pub items: i64,
    pub removed_items: i64,
    pub reports_received: i64,
    pub notes: i64,
}

/// An account of the product (a member whose content is moderated).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct AccountSummary {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub email: String,
    /// "active" or "suspended" (as the server last said, or as a pending action makes it).
    pub status: String,
    pub roles: Vec<String>,
    pub joined_at: String,
    pub last_seen_at: Option<String>,
    /// When a suspension ends; None while suspended means until reactivated.
    pub suspended_until: Option<String>,
    pub sessions_revoked_at: Option<String>,
    pub counts: AccountCounts,
    /// An account action written here that the server has not confirmed yet.
    pub pending_action: Option<AccountAction>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum AccountAction {
    Suspend,
    Reactivate,
    ForceLogout,
    SendPasswordReset,
}

impl AccountAction {
    pub fn as_str(self) -> &'static str {
        match self {
            AccountAction::Suspend => "suspend",
            AccountAction::Reactivate => "reactivate",
            AccountAction::ForceLogout => "force_logout",
            AccountAction::SendPasswordReset => "send_password_reset",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "suspend" => AccountAction::Suspend,
            "reactivate" => AccountAction::Reactivate,
            "force_logout" => AccountAction::ForceLogout,
            "send_password_reset" => AccountAction::SendPasswordReset,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct AccountNote {
    pub id: i64,
    pub author_username: Option<String>,
    pub body: String,
    pub created_at: String,
    /// Written here, not yet confirmed by the server.
    pub pending: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct AccountDetail {
    pub account: AccountSummary,
    pub notes: Vec<AccountNote>,
    /// Decided items by this account, from the cache, newest first.
    pub moderation_history: Vec<AuthorHistoryEntry>,
    /// Audit events about this account, from the cache, newest first.
    pub audit_trail: Vec<AuditEventInfo>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct AuditEventInfo {
    pub id: i64,
    pub actor_username: String,
    pub action: String,
    pub target_type: String,
    pub target_id: String,
    pub created_at: String,
    /// The event's data as indented JSON (untrusted text: show it as text).
    pub data_json: String,
}

/// A search of the cached audit log. Every filter is optional; `text` is full-text.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct AuditQuery {
    pub text: Option<String>,
    pub actor: Option<String>,
    pub action: Option<String>,
    pub target_type: Option<String>,
    pub target_id: Option<String>,
    /// Inclusive lower bound on created_at (ISO 8601).
    pub from: Option<String>,
    /// Exclusive upper bound on created_at (ISO 8601).
    pub to: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct AuditPage {
    /// How many events match, up to `total_cap`; `total_capped` says whether there are more.
    pub total: i64,
    pub total_capped: bool,
    pub offset: i64,
    pub events: Vec<AuditEventInfo>,
}
