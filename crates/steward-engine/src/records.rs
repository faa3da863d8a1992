//! Conversions between the API's JSON and the cache's rows.

use std::collections::HashMap;

use steward_client::wire::{
    ApiAccount, ApiAuditEvent, ApiItem, ApiJob, ApiNote, ApiReasonTemplate, Me,
};
use steward_core::UserInfo;
use steward_store::{
    AccountRecord, AuditRecord, ItemRecord, JobRecord, NoteRecord, QueueRecord,
    ReasonTemplateRecord,
};

pub fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// `now()` plus a duration, in the same sortable format.
pub fn later(by: std::time::Duration) -> String {
    let by = chrono::Duration::from_std(by).unwrap_or(chrono::Duration::zero());
    (chrono::Utc::now() + by).to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// `now()` minus a duration, in the same sortable format.
pub fn earlier(by: std::time::Duration) -> String {
    let by = chrono::Duration::from_std(by).unwrap_or(chrono::Duration::zero());
    (chrono::Utc::now() - by).to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// How long until `timestamp` (zero if it passed or cannot be read).
pub fn until(timestamp: &str) -> std::time::Duration {
    chrono::DateTime::parse_from_rfc3339(timestamp)
        .ok()
        .and_then(|at| {
            (at.with_timezone(&chrono::Utc) - chrono::Utc::now())
                .to_std()
                .ok()
        })
        .unwrap_or_default()
}

pub fn template_record(template: &ApiReasonTemplate) -> ReasonTemplateRecord {
    ReasonTemplateRecord {
        id: template.id,
        scope: template.scope.clone(),
        code: template.code.clone(),
        label: template.label.clone(),
        text: template.text.clone(),
        actions_json: serde_json::to_string(&template.actions).expect("strings serialize"),
        position: template.position,
        updated_at: template.updated_at.clone(),
    }
}

pub fn user_info(me: &Me) -> UserInfo {
    UserInfo {
        id: me.id,
        username: me.username.clone(),
        display_name: if me.display_name.is_empty() {
            me.username.clone()
        } else {
            me.display_name.clone()
        },
        roles: me.roles.clone(),
        permissions: me.permissions.clone(),
    }
}

pub fn user_json(user: &UserInfo) -> String {
    serde_json::to_string(user).expect("UserInfo always serializes")
}

pub fn queue_record(queue: &steward_client::wire::ApiQueue) -> QueueRecord {
    QueueRecord {
        id: queue.id,
        slug: queue.slug.clone(),
        name: queue.name.clone(),
        priority: queue.priority,
        open_count: queue.open_count,
        oldest_open_at: queue.oldest_open_at.clone(),
    }
}

pub fn item_record(item: &ApiItem) -> ItemRecord {
    ItemRecord {
        id: item.id,
        queue_id: item.queue,
        state: item.state.clone(),
        version: item.version,
        title: item.content.title.clone(),
        body_html: item.content.body_html.clone(),
        author_id: item.author.as_ref().map(|a| a.id),
        author_username: item
            .author
            .as_ref()
            .map(|a| a.username.clone())
            .unwrap_or_default(),
        author_status: item
            .author
            .as_ref()
            .map(|a| a.status.clone())
            .unwrap_or_default(),
        reports_json: serde_json::to_string(&item.reports).expect("reports always serialize"),
        report_count: item.reports.len() as i64,
        top_reason: top_reason(item),
        claim_username: item.claim.as_ref().map(|c| c.user.username.clone()),
        claim_expires_at: item.claim.as_ref().map(|c| c.expires_at.clone()),
        created_at: item.created_at.clone(),
        updated_at: item.updated_at.clone(),
        object_json: item
            .object
            .as_ref()
            .map(|object| serde_json::to_string(object).expect("objects serialize")),
    }
}

/// The most frequent report reason; ties go to the reason reported first.
fn top_reason(item: &ApiItem) -> Option<String> {
    let mut counts: HashMap<&str, (usize, usize)> = HashMap::new();
    for (index, report) in item.reports.iter().enumerate() {
        let entry = counts.entry(report.reason.as_str()).or_insert((0, index));
        entry.0 += 1;
    }
    counts
        .into_iter()
        .max_by(|a, b| a.1.0.cmp(&b.1.0).then(b.1.1.cmp(&a.1.1)))
        .map(|(reason, _)| reason.to_string())
}

pub fn account_record(account: &ApiAccount) -> AccountRecord {
    AccountRecord {
        id: account.id,
        username: account.username.clone(),
        display_name: account.display_name.clone(),
        email: account.email.clone(),
        status: account.status.clone(),
        roles_json: serde_json::to_string(&account.roles).expect("strings serialize"),
        joined_at: account.joined_at.clone(),
        last_seen_at: account.last_seen_at.clone(),
        suspended_until: account.suspended_until.clone(),
        sessions_revoked_at: account.sessions_revoked_at.clone(),
        counts_json: serde_json::to_string(&account.counts).expect("counts serialize"),
        updated_at: account.updated_at.clone(),
    }
}

pub fn note_record(note: &ApiNote) -> NoteRecord {
    NoteRecord {
        id: note.id,
        account_id: note.account,
        author_username: note.author.as_ref().map(|a| a.username.clone()),
        body: note.body.clone(),
        created_at: note.created_at.clone(),
    }
}

pub fn job_record(job: &ApiJob) -> JobRecord {
    JobRecord {
        id: job.id,
        kind: job.kind.clone(),
        status: job.status.clone(),
        attempts: job.attempts,
        payload_summary: job.payload_summary.clone(),
        created_by: job.created_by.as_ref().map(|u| u.username.clone()),
        created_at: job.created_at.clone(),
        started_at: job.started_at.clone(),
        finished_at: job.finished_at.clone(),
        updated_at: job.updated_at.clone(),
        last_error: job.last_error.clone(),
        last_traceback: job.last_traceback.clone(),
        backend: job.backend.clone(),
        queue: job.queue.clone(),
        can_retry: job.can_retry,
        retry_blocked_reason: job.retry_blocked_reason.clone(),
        can_cancel: job.can_cancel,
    }
}

pub fn audit_record(event: &ApiAuditEvent) -> AuditRecord {
    let actor = if event.actor_username.is_empty() {
        event
            .actor
            .as_ref()
            .map(|a| a.username.clone())
            .unwrap_or_default()
    } else {
        event.actor_username.clone()
    };
    // The target is not repeated here: the store indexes it in its own column.
    let mut text = vec![actor.clone(), event.action.clone()];
    collect_strings(&event.data, &mut text);
    AuditRecord {
        id: event.id,
        actor_username: actor,
        action: event.action.clone(),
        target_type: event.target_type.clone(),
        target_id: event.target_id.clone(),
        created_at: event.created_at.clone(),
        data_json: event.data.to_string(),
        text: text.join(" "),
    }
}

/// Every key and scalar of a JSON value, as words for the full-text index.
fn collect_strings(value: &serde_json::Value, out: &mut Vec<String>) {
    match value {
        serde_json::Value::String(text) => out.push(text.clone()),
        serde_json::Value::Number(number) => out.push(number.to_string()),
        serde_json::Value::Bool(flag) => out.push(flag.to_string()),
        serde_json::Value::Array(values) => values.iter().for_each(|v| collect_strings(v, out)),
        serde_json::Value::Object(map) => {
            for (key, value) in map {
                out.push(key.clone());
                collect_strings(value, out);
            }
        }
        serde_json::Value::Null => {}
    }
}
