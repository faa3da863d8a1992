//! When to raise an OS notification: coalesced and rate-limited.
//!
//! Events arrive in bursts (a report flood, a batch of failed jobs). The policy gathers
//! them per topic and lets at most one notification out per interval, summarizing what
//! gathered since the last one, so nobody's desktop fills with toasts. The caller passes
//! the clock in (milliseconds), so this is deterministic.

use std::collections::BTreeMap;

/// A notification ready to show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub summary: String,
    pub body: String,
}

#[derive(Debug, Clone)]
pub struct NotificationPolicy {
    min_interval_ms: u64,
    last_shown_ms: Option<u64>,
    /// Counts gathered since the last notification, by topic (e.g. a queue's name).
    new_items: BTreeMap<String, i64>,
    failed_jobs: BTreeMap<String, i64>,
}

impl NotificationPolicy {
    pub fn new(min_interval_ms: u64) -> Self {
        Self {
            min_interval_ms,
            last_shown_ms: None,
            new_items: BTreeMap::new(),
            failed_jobs: BTreeMap::new(),
        }
    }

    pub fn offer_new_items(&mut self, queue_name: &str, count: i64) {
        *self.new_items.entry(queue_name.to_string()).or_default() += count.max(0);
    }

    pub fn offer_failed_jobs(&mut self, kind: &str, count: i64) {
        *self.failed_jobs.entry(kind.to_string()).or_default() += count.max(0);
    }

    /// Forgets what gathered (the user is looking at the window anyway).
    pub fn discard(&mut self) {
        self.new_items.clear();
        self.failed_jobs.clear();
    }

    /// The notification to show now, if any is due.
    pub fn poll(&mut self, now_ms: u64) -> Option<Notice> {
        if self.new_items.is_empty() && self.failed_jobs.is_empty() {
            return None;
        }
        if let Some(last) = self.last_shown_ms
            && now_ms.saturating_sub(last) < self.min_interval_ms
        {
            return None;
        }
        let notice = if !self.new_items.is_empty() {
            let total: i64 = self.new_items.values().sum();
            let summary = match self.new_items.len() {
                1 => format!(
                    "{} in {}",
                    plural(total, "new item", "new items"),
                    self.new_items.keys().next().expect("one entry")
                ),
                queues => format!(
                    "{} in {queues} high-priority queues",
                    plural(total, "new item", "new items")
                ),
            };
            let body = self
                .new_items
                .iter()
                .map(|(queue, count)| format!("{queue}: {count}"))
                .collect::<Vec<_>>()
                .join(", ");
            self.new_items.clear();
            Notice { summary, body }
        } else {
            let total: i64 = self.failed_jobs.values().sum();
            let body = self
                .failed_jobs
                .iter()
                .map(|(kind, count)| format!("{kind}: {count}"))
                .collect::<Vec<_>>()
                .join(", ");
            self.failed_jobs.clear();
            Notice {
                summary: plural(total, "job failed", "jobs failed"),
                body,
            }
        };
        self.last_shown_ms = Some(now_ms);
        Some(notice)
    }
}

fn plural(count: i64, one: &str, many: &str) -> String {
    if count == 1 {
        format!("1 {one}")
    } else {
        format!("{count} {many}")
    }
}

#[cfg(test)]
mod tests {
    use crate::notify::{Notice, NotificationPolicy};

    #[test]
    fn a_burst_becomes_one_notification() {
        let mut policy = NotificationPolicy::new(30_000);
        policy.offer_new_items("Reported posts", 2);
        policy.offer_new_items("Reported posts", 3);
        assert_eq!(
            policy.poll(1_000),
            Some(Notice {
                summary: "5 new items in Reported posts".into(),
                body: "Reported posts: 5".into()
            })
        );
        assert_eq!(policy.poll(1_001), None, "nothing left");
    }

    #[test]
    fn notifications_are_rate_limited_and_coalesced() {
        let mut policy = NotificationPolicy::new(30_000);
        policy.offer_new_items("Spam", 1);
        assert!(policy.poll(0).is_some());
        policy.offer_new_items("Spam", 1);
        policy.offer_new_items("Escalations", 4);
        assert_eq!(policy.poll(10_000), None, "inside the interval");
        let notice = policy.poll(30_000).expect("due after the interval");
        assert_eq!(notice.summary, "5 new items in 2 high-priority queues");
        assert_eq!(notice.body, "Escalations: 4, Spam: 1");
    }

    #[test]
    fn failed_jobs_wait_behind_new_items() {
        let mut policy = NotificationPolicy::new(1_000);
        policy.offer_failed_jobs("import_csv", 2);
        policy.offer_new_items("Spam", 1);
        assert_eq!(policy.poll(0).unwrap().summary, "1 new item in Spam");
        assert_eq!(policy.poll(500), None);
        let jobs = policy.poll(1_000).unwrap();
        assert_eq!(jobs.summary, "2 jobs failed");
        assert_eq!(jobs.body, "import_csv: 2");
    }

    #[test]
    fn discarded_offers_never_show() {
        let mut policy = NotificationPolicy::new(0);
        policy.offer_new_items("Spam", 3);
        policy.discard();
        assert_eq!(policy.poll(5), None);
    }
}
