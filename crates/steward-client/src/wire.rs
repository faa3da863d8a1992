//! The JSON shapes of API v1, as the server sends and accepts them.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Deserialize)]
pub struct Page<T> {
    pub results: Vec<T>,
    #[serde(default)]
    pub next_cursor: Option<String>,
    #[serde(default)]
    pub has_more: bool,
    /// Rows in the whole feed, on its first page (for progress bars).
    #[serde(default)]
    pub total: Option<i64>,
}

#[derive(Clone, Deserialize)]
pub struct LoginResponse {
    pub access_token: String,
    pub access_expires_at: String,
    pub refresh_token: String,
    /// SHA-256 (hex) of the access token, a newline and the refresh token; absent from
    /// servers older than the field. `LoginResponse::is_intact` checks it.
    #[serde(default)]
    pub token_digest: Option<String>,
    pub user: Me,
}

impl LoginResponse {
    /// Whether the tokens are the ones the server sent. A body damaged on the way can
    /// still parse, and a damaged refresh token kept in the keychain ends the session at
    /// the next refresh; one found damaged now is treated as a lost answer instead, and
    /// the refresh is retried with the token presented.
    pub fn is_intact(&self) -> bool {
        use sha2::{Digest, Sha256};
        let Some(expected) = &self.token_digest else {
            return true;
        };
        let mut hasher = Sha256::new();
        hasher.update(self.access_token.as_bytes());
        hasher.update(b"\n");
        hasher.update(self.refresh_token.as_bytes());
        let actual: String = hasher
            .finalize()
            .iter()
            .map(|byte| format!("{byte:02x}"))
            .collect();
        actual.eq_ignore_ascii_case(expected)
    }
}

// Tokens must never reach a log line, so Debug leaves them out.
impl std::fmt::Debug for LoginResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginResponse")
            .field("access_token", &"<redacted>")
            .field("access_expires_at", &self.access_expires_at)
            .field("refresh_token", &"<redacted>")
            .field("user", &self.user)
            .finish()
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct Me {
    pub id: i64,
    pub username: String,
    #[serde(default)]
    pub display_name: String,
    #[serde(default)]
    pub roles: Vec<String>,
    #[serde(default)]
    pub permissions: Vec<String>,
    /// How long the server remembers an applied action's idempotency key; an action
    /// queued longer ago must not be resent blindly. Absent on older servers.
    #[serde(default)]
    pub idempotency_retention_seconds: Option<i64>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ApiQueue {
    pub id: i64,
    pub slug: String,
    pub name: String,
    pub priority: i64,
    pub open_count: i64,
    pub oldest_open_at: Option<String>,
    pub updated_at: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ApiItem {
    pub id: i64,
    pub queue: i64,
    pub state: String,
    pub version: i64,
    pub content: ApiContent,
    /// The product object the item is about; None on servers before the content registry.
    #[serde(default)]
    pub object: Option<ApiObject>,
    /// None for content whose author is unknown (an anonymous post).
    #[serde(default)]
    pub author: Option<ApiAuthor>,
    #[serde(default)]
    pub reports: Vec<ApiReport>,
    #[serde(default)]
    pub claim: Option<ApiClaim>,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ApiContent {
    pub title: String,
    pub body_html: String,
}

/// The product object behind an item: its type ("forum.post"), a label for the type
/// ("post"), its key as text, a link to it on the product's public site, and whether the
/// product deleted it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ApiObject {
    #[serde(rename = "type")]
    pub object_type: String,
    #[serde(default)]
    pub label: String,
    #[serde(default)]
    pub key: String,
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub deleted: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ApiAuthor {
    pub id: i64,
    pub username: String,
    pub status: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ApiReport {
    pub reason: String,
    #[serde(default)]
    pub note: String,
    /// Who reported it, when the product says.
    #[serde(default)]
    pub reporter: Option<ApiUserRef>,
    pub created_at: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ApiClaim {
    pub user: ApiUserRef,
    pub expires_at: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ApiUserRef {
    pub id: i64,
    pub username: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DecisionRequest {
    pub action: String,
    pub reason_code: String,
    pub note: String,
    pub base_version: i64,
}

/// One operation of a `POST /mutations` batch: an outbox row as the server names it.
#[derive(Debug, Clone, Serialize)]
pub struct MutationOperation<'a> {
    pub idempotency_key: &'a str,
    /// The outbox row's kind: `decide_item`, `claim_item`, `account_action`, ...
    pub op: &'a str,
    pub target_id: i64,
    /// The single endpoint's request body (`{}` for those that take none).
    pub args: &'a serde_json::Value,
}

#[derive(Debug, Clone, Deserialize)]
pub struct MutationBatchAnswer {
    pub results: Vec<MutationResult>,
}

/// One operation's answer: the status and body its single endpoint would have sent.
#[derive(Debug, Clone, Deserialize)]
pub struct MutationResult {
    pub idempotency_key: String,
    pub status: u16,
    pub body: serde_json::Value,
}

#[derive(Debug, Clone, Deserialize)]
pub struct DecisionResponse {
    pub decision: ApiDecision,
    pub item: ApiItem,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ApiDecision {
    pub id: i64,
    pub action: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ApiAuditEvent {
    pub id: i64,
    pub actor: Option<ApiUserRef>,
    #[serde(default)]
    pub actor_username: String,
    pub action: String,
    pub target_type: String,
    pub target_id: String,
    pub created_at: String,
    #[serde(default)]
    pub data: serde_json::Value,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ApiReasonTemplate {
    pub id: i64,
    pub scope: String,
    pub code: String,
    pub label: String,
    #[serde(default)]
    pub text: String,
    #[serde(default)]
    pub actions: Vec<String>,
    #[serde(default)]
    pub position: i64,
    #[serde(default)]
    pub updated_at: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ApiAccountCounts {
    #[serde(default)]
    pub items: i64,
    #[serde(default)]
    pub removed_items: i64,
    #[serde(default)]
    pub reports_received: i64,
    #[serde(default)]
    pub notes: i64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ApiAccount {
    pub id: i64,
    pub username: String,
    #[serde(default)]
    pub display_name: String,
    #[serde(default)]
    pub email: String,
    pub status: String,
    #[serde(default)]
    pub roles: Vec<String>,
    pub joined_at: String,
    #[serde(default)]
    pub last_seen_at: Option<String>,
    #[serde(default)]
    pub suspended_until: Option<String>,
    #[serde(default)]
    pub sessions_revoked_at: Option<String>,
    #[serde(default)]
    pub counts: ApiAccountCounts,
    pub updated_at: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ApiNote {
    pub id: i64,
    pub account: i64,
    #[serde(default)]
    pub author: Option<ApiUserRef>,
    pub body: String,
    pub created_at: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ApiJob {
    pub id: i64,
    /// Which job system runs it ("tasks" for django-tasks, "celery", ...).
    #[serde(default)]
    pub backend: String,
    #[serde(default)]
    pub queue: String,
    pub kind: String,
    pub status: String,
    #[serde(default)]
    pub attempts: i64,
    #[serde(default)]
    pub payload_summary: String,
    #[serde(default)]
    pub created_by: Option<ApiUserRef>,
    pub created_at: String,
    #[serde(default)]
    pub started_at: Option<String>,
    #[serde(default)]
    pub finished_at: Option<String>,
    pub updated_at: String,
    #[serde(default)]
    pub last_error: String,
    #[serde(default)]
    pub last_traceback: String,
    /// Whether the server can retry it (it holds the exact task and arguments); when not,
    /// `retry_blocked_reason` says why.
    #[serde(default = "yes")]
    pub can_retry: bool,
    #[serde(default)]
    pub retry_blocked_reason: String,
    #[serde(default)]
    pub can_cancel: bool,
}

fn yes() -> bool {
    true
}

#[cfg(test)]
mod tests {
    use crate::wire::LoginResponse;

    fn answer(access: &str, refresh: &str, digest: Option<&str>) -> LoginResponse {
        serde_json::from_value(serde_json::json!({
            "access_token": access,
            "access_expires_at": "2026-12-06T00:00:00Z",
            "refresh_token": refresh,
            "token_digest": digest,
            "user": {"id": 1, "username": "mia"},
        }))
        .unwrap()
    }

    /// The digest is the server's (steward/serializers/auth.py: sha256 of access, a
    /// newline, refresh); one changed byte anywhere in either token is caught.
    #[test]
    fn a_token_answer_is_intact_only_when_its_digest_matches() {
        let digest = "42438fdf807a29f427f0c79bed91822805be02ecc5c5c1fdbc0b4636f3e9034b";
        assert!(answer("stw_at_A", "stw_rt_B", Some(digest)).is_intact());
        assert!(!answer("stw_at_A", "stw_rt_C", Some(digest)).is_intact());
        assert!(!answer("stw_at_a", "stw_rt_B", Some(digest)).is_intact());
        assert!(!answer("stw_at_A", "stw_rt_B", Some("00")).is_intact());
        // A server from before the digest: nothing to check.
        assert!(answer("stw_at_A", "stw_rt_B", None).is_intact());
    }
}
