//! Shared pieces of the benchmarks: deterministic data that looks like production's,
//! and the report format (a measurement, its baseline, and their ratio).

pub mod cache;
pub mod report;
pub mod router;
pub mod stack;

use steward_store::{AuditRecord, ItemRecord};

/// A small deterministic generator (xorshift), so every run measures the same data.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed.max(1))
    }

    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    pub fn pick<'a>(&mut self, words: &'a [&'a str]) -> &'a str {
        words[(self.next_u64() % words.len() as u64) as usize]
    }
}

pub const WORDS: &[&str] = &[
    "spam",
    "harassment",
    "refund",
    "football",
    "election",
    "crypto",
    "giveaway",
    "phishing",
    "duplicate",
    "offtopic",
    "insult",
    "threat",
    "nsfw",
    "impersonation",
    "scam",
    "link",
    "bot",
    "flood",
    "appeal",
    "warning",
    "sourdough",
    "network",
    "council",
    "release",
    "cat",
];
pub const ACTORS: &[&str] = &[
    "moderator",
    "support",
    "admin",
    "ana",
    "bo",
    "chen",
    "dara",
    "eli",
];
pub const ACTIONS: &[&str] = &[
    "item.decide",
    "item.claim",
    "item.release",
    "account.suspend",
    "account.reactivate",
    "account.note",
    "job.retry",
    "job.cancel",
];

pub fn item(rng: &mut Rng, id: i64) -> ItemRecord {
    let title = format!(
        "{} {} {}",
        rng.pick(WORDS),
        rng.pick(WORDS),
        rng.pick(WORDS)
    );
    let body = format!(
        "<p>{} {} {} {} {} {} {}</p>",
        rng.pick(WORDS),
        rng.pick(WORDS),
        rng.pick(WORDS),
        rng.pick(WORDS),
        rng.pick(WORDS),
        rng.pick(WORDS),
        rng.pick(WORDS)
    );
    let minute = id % 60;
    let hour = (id / 60) % 24;
    ItemRecord {
        id,
        queue_id: 1 + id % 3,
        state: "open".into(),
        version: 1,
        title,
        body_html: body,
        author_id: Some(1 + (rng.next_u64() % 5000) as i64),
        author_username: format!("member{:04}", rng.next_u64() % 5000),
        author_status: "active".into(),
        reports_json: format!(
            r#"[{{"reason":"{}","note":"","created_at":"2026-11-01T00:00:00Z"}}]"#,
            rng.pick(WORDS)
        ),
        report_count: 1,
        top_reason: Some(rng.pick(WORDS).to_string()),
        claim_username: None,
        claim_expires_at: None,
        created_at: format!("2026-11-01T{hour:02}:{minute:02}:00.000Z"),
        updated_at: format!("2026-11-01T{hour:02}:{minute:02}:00.000Z"),
        // As the server sends it (forum posts have UUID keys), so the bench stores what
        // the sync stores.
        object_json: Some(format!(
            r#"{{"type":"forum.post","label":"post","key":"{id:08x}-0000-4000-8000-000000000000","url":"https://forum.example/posts/{id}","deleted":false}}"#
        )),
    }
}

pub fn audit_event(rng: &mut Rng, id: i64) -> AuditRecord {
    let actor = rng.pick(ACTORS).to_string();
    let action = rng.pick(ACTIONS).to_string();
    let target = (rng.next_u64() % 100_000).to_string();
    let note = format!(
        "{} {} {}",
        rng.pick(WORDS),
        rng.pick(WORDS),
        rng.pick(WORDS)
    );
    let reason = rng.pick(WORDS);
    let data = serde_json::json!({ "reason_code": reason, "note": note, "version": id % 7 });
    // Spread a million events over about a year, ascending with the id.
    let seconds = id * 31;
    let day = 1 + (seconds / 86_400) % 28;
    let month = 1 + (seconds / (86_400 * 28)) % 12;
    let time = seconds % 86_400;
    AuditRecord {
        id,
        text: format!("{actor} {action} reason_code {reason} note {note}"),
        actor_username: actor,
        action,
        target_type: "item".into(),
        target_id: target,
        created_at: format!(
            "2026-{month:02}-{day:02}T{:02}:{:02}:{:02}.000Z",
            time / 3600,
            (time / 60) % 60,
            time % 60
        ),
        data_json: data.to_string(),
    }
}

/// Prints one result line: what was measured, against which named baseline, and the
/// ratio (above 1 means better than the baseline for rates, below 1 for latencies).
pub fn report(
    what: &str,
    value: f64,
    unit: &str,
    baseline_name: &str,
    baseline: f64,
    higher_is_better: bool,
) {
    let ratio = if higher_is_better {
        value / baseline
    } else {
        baseline / value
    };
    let verdict = if ratio >= 1.0 { "meets" } else { "misses" };
    println!(
        "{what}: {value:.1} {unit} | baseline \"{baseline_name}\" {baseline:.1} {unit} | ratio {ratio:.2}x ({verdict})"
    );
}
