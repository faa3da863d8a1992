//! What the user did that the server has not taken (yet, or at all): the counts signing
//! out asks about, and the actions the server refused for good.

use serde::{Deserialize, Serialize};

/// Actions of the signed-in user that live only in the local cache. Signing out wipes
/// the cache, so it asks about these first.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct UnsentWork {
    /// Decisions on items not yet confirmed by the server.
    pub decisions: i64,
    /// Suspensions, reactivations, forced logouts and password resets not yet confirmed.
    pub account_actions: i64,
    /// Notes on accounts not yet confirmed.
    pub notes: i64,
    /// Retries and cancels of jobs not yet confirmed.
    pub job_actions: i64,
    /// Decisions the server refused because its state had moved on, not yet resolved.
    pub conflicts: i64,
    /// Actions the server refused for good, kept with what the user wrote until dismissed.
    pub refused: i64,
}

impl UnsentWork {
    /// Actions that can still be sent.
    pub fn sendable(&self) -> i64 {
        self.decisions + self.account_actions + self.notes + self.job_actions
    }

    /// Everything signing out would throw away.
    pub fn total(&self) -> i64 {
        self.sendable() + self.conflicts + self.refused
    }

    /// "3 decisions, 1 account action and 2 conflicts", for messages.
    pub fn describe(&self) -> String {
        let parts: Vec<String> = [
            (self.decisions, "decision", "decisions"),
            (self.account_actions, "account action", "account actions"),
            (self.notes, "note", "notes"),
            (self.job_actions, "job action", "job actions"),
            (self.conflicts, "conflict", "conflicts"),
            (self.refused, "refused action", "refused actions"),
        ]
        .into_iter()
        .filter(|(count, _, _)| *count > 0)
        .map(|(count, one, many)| format!("{count} {}", if count == 1 { one } else { many }))
        .collect();
        match parts.as_slice() {
            [] => "nothing".to_string(),
            [only] => only.clone(),
            [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
        }
    }
}

/// How signing out treats actions that live only in the cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum SignOutMode {
    /// Sign out only when nothing would be lost; otherwise fail with `unsent_work`.
    IfNothingUnsent,
    /// Send every queued action now (the undo window ends), wait for the answers, then
    /// sign out; fails with what is left when something cannot be sent.
    SendFirst,
    /// Sign out and throw the unsent actions away (the user was told how many).
    Discard,
}

/// An action the server refused for good (no permission, invalid, gone, or a state that
/// moved on), rolled back in the cache and kept here with what the user wrote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct RefusedAction {
    pub outbox_id: i64,
    /// "item", "account" or "job".
    pub target_type: String,
    pub target_id: i64,
    /// What the cache calls the target: an item's title, an account's username, a job's
    /// kind; None when the cache no longer holds it.
    pub target_label: Option<String>,
    /// What was asked: "remove", "suspend", "note", "retry", ...
    pub action: String,
    pub reason_code: String,
    /// The text the user wrote with it: a decision's or an action's note, a note's body.
    pub text: String,
    /// The server's reason, as it said it.
    pub message: String,
    pub created_at: String,
}

#[cfg(test)]
mod tests {
    use crate::unsent::UnsentWork;

    fn check(work: UnsentWork, expected: &str) {
        assert_eq!(work.describe(), expected);
    }

    #[test]
    fn describes_what_would_be_lost_in_words() {
        check(UnsentWork::default(), "nothing");
        check(
            UnsentWork {
                decisions: 1,
                ..UnsentWork::default()
            },
            "1 decision",
        );
        check(
            UnsentWork {
                decisions: 3,
                notes: 1,
                conflicts: 2,
                ..UnsentWork::default()
            },
            "3 decisions, 1 note and 2 conflicts",
        );
        let work = UnsentWork {
            decisions: 2,
            account_actions: 1,
            refused: 4,
            ..UnsentWork::default()
        };
        assert_eq!(work.sendable(), 3);
        assert_eq!(work.total(), 7);
    }
}
