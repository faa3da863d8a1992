//! The active session's background worker: push the outbox (pushing.rs), then pull the
//! delta feeds.

use std::sync::Arc;
use std::time::Duration;

use rand::Rng;
use steward_core::push::backoff_delay;
use steward_core::{AppError, ErrorCode, SyncStatus};
use steward_store::NextPush;
use tokio::time::Instant;

use crate::active::Active;
use crate::feeds;
use crate::outbox::RETENTION_META;
use crate::records;
use crate::session::SessionError;
use crate::{Engine, EngineEvent};

pub(crate) const BACKOFF_BASE: Duration = Duration::from_millis(500);
pub(crate) const BACKOFF_CAP: Duration = Duration::from_secs(30);
/// The worker's rounds pull at most this often. A moderator deciding at speed makes an
/// outbox row come due every keystroke or two, and the server pokes back after each push;
/// pulling every feed after each of those (six requests) kept the server and the
/// machine busy while the moderator waited for the next item. Pushes are never held
/// back, and a sync the user asks for pulls at once.
const PULL_MIN_GAP: Duration = Duration::from_secs(1);

/// How long a round's pull must wait: `None` when it may pull now (never pulled, the last
/// pull began `PULL_MIN_GAP` ago or more, or the pull is forced).
fn pull_wait(last_pull: Option<Instant>, now: Instant, force: bool) -> Option<Duration> {
    let since = now.saturating_duration_since(last_pull?);
    (!force && since < PULL_MIN_GAP).then(|| PULL_MIN_GAP - since)
}

/// How often the user's roles are read again (`/me`) while nothing prompts it.
const ME_READ_EVERY: Duration = Duration::from_secs(300);

/// How the worker behaves; the engine's config decides.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    pub poll_interval: Duration,
    /// Queues at or above this priority raise "new item" events.
    pub high_priority: i64,
}

/// Why a sync round stopped early.
pub(crate) enum RoundError {
    /// Try again after a backoff (offline, 5xx, malformed answer).
    Retry(AppError),
    /// The session is over; wait for the user to sign in again.
    Expired(AppError),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SyncOutcome {
    Ok,
    /// Pushed and pulled; the next outbox row waits for its undo window to pass.
    WaitingUntil(String),
    /// Pushed; the pull waits `pull_in` (`PULL_MIN_GAP`), and the next outbox row, if
    /// any, until `waiting`.
    PullDeferred {
        pull_in: Duration,
        waiting: Option<String>,
    },
    Retry,
    Expired,
}

impl Engine {
    /// Pushes and pulls now, and returns the status afterwards.
    pub async fn sync_now(&self) -> Result<SyncStatus, AppError> {
        let active = self.require_active().await?;
        active.sync_once().await;
        Ok(active.status().await)
    }

    pub async fn sync_status(&self) -> SyncStatus {
        match self.active.lock().await.clone() {
            Some(active) => active.status().await,
            None => SyncStatus::default(),
        }
    }

    /// What the tray menu shows: actions waiting to sync, conflicts, and open items per queue.
    pub async fn tray_summary(&self) -> Vec<String> {
        let Some(active) = self.active.lock().await.clone() else {
            return vec!["Not signed in".to_string()];
        };
        let status = active.status().await;
        let mut lines = vec![match status.pending {
            0 => "No actions waiting to sync".to_string(),
            1 => "1 action waiting to sync".to_string(),
            n => format!("{n} actions waiting to sync"),
        }];
        if status.conflicts > 0 {
            lines.push(format!("{} conflicts to review", status.conflicts));
        }
        if let Ok(queues) = active.store.list_queues().await {
            lines.extend(
                queues
                    .iter()
                    .map(|q| format!("{}: {} open", q.name, q.open_count)),
            );
        }
        lines
    }
}

impl Active {
    pub(crate) async fn run(self: Arc<Self>) {
        let mut failures: u32 = 0;
        loop {
            let delay = match self.round(false).await {
                SyncOutcome::Ok => {
                    failures = 0;
                    self.config.poll_interval
                }
                SyncOutcome::WaitingUntil(until) => {
                    failures = 0;
                    records::until(&until).min(self.config.poll_interval)
                }
                SyncOutcome::PullDeferred { pull_in, waiting } => {
                    // A round that only waited for the pull gap says nothing about the
                    // server: after a failed pull, the backoff must keep growing.
                    waiting.map_or(pull_in, |until| records::until(&until).min(pull_in))
                }
                SyncOutcome::Retry => {
                    failures = failures.saturating_add(1);
                    let jitter: f64 = rand::rng().random();
                    // Never spin: at least a fifth of a second between failed rounds.
                    backoff_delay(failures, BACKOFF_BASE, BACKOFF_CAP, jitter)
                        .max(Duration::from_millis(200))
                }
                SyncOutcome::Expired => return,
            };
            tokio::select! {
                () = self.wake.notified() => {}
                () = tokio::time::sleep(delay) => {}
            }
        }
    }

    /// One round: push every due outbox row in order, then pull the delta feeds.
    pub async fn sync_once(&self) -> SyncOutcome {
        self.round(true).await
    }

    /// A round whose pull, unless `force_pull`, waits for `PULL_MIN_GAP` since the last.
    async fn round(&self, force_pull: bool) -> SyncOutcome {
        let _guard = self.sync_lock.lock().await;
        if self.expired.lock().await.is_some() {
            return SyncOutcome::Expired;
        }
        // Nothing to send and the pull must wait (the server's poke after our own push, a
        // row still in its undo window): a quiet round, with no status change for the UI.
        if let Some(pull_in) = pull_wait(*self.last_pull.lock().await, Instant::now(), force_pull) {
            match self.store.next_push(&records::now()).await {
                Ok(NextPush::Idle) => {
                    return SyncOutcome::PullDeferred {
                        pull_in,
                        waiting: None,
                    };
                }
                Ok(NextPush::Waiting(until)) => {
                    return SyncOutcome::PullDeferred {
                        pull_in,
                        waiting: Some(until),
                    };
                }
                _ => {}
            }
        }
        let result = match self.push_outbox().await {
            Ok(waiting) => {
                let wait = {
                    let mut last_pull = self.last_pull.lock().await;
                    let now = Instant::now();
                    let wait = pull_wait(*last_pull, now, force_pull);
                    if wait.is_none() {
                        *last_pull = Some(now);
                    }
                    wait
                };
                match wait {
                    None => {
                        // Only a pull shows as syncing: a push is one short request, and
                        // during fast triage one ends every keystroke or two; the
                        // pending count already shows the outbox draining.
                        self.update_status(|status| status.syncing = true).await;
                        self.pull().await.map(|()| (waiting, None))
                    }
                    Some(pull_in) => Ok((waiting, Some(pull_in))),
                }
            }
            Err(error) => Err(error),
        };
        let outcome = match result {
            Ok((waiting, deferred)) => {
                // "Last synced" is when the cache last caught up with the server: a pull.
                let pulled = deferred.is_none().then(records::now);
                self.update_status(|status| {
                    status.online = true;
                    if pulled.is_some() {
                        status.last_synced_at = pulled;
                    }
                    status.last_error = None;
                })
                .await;
                match (deferred, waiting) {
                    (Some(pull_in), waiting) => SyncOutcome::PullDeferred { pull_in, waiting },
                    (None, Some(until)) => SyncOutcome::WaitingUntil(until),
                    (None, None) => SyncOutcome::Ok,
                }
            }
            Err(RoundError::Retry(error)) => {
                tracing::warn!(code = ?error.code, %error, "sync round failed; will retry");
                if error.code == ErrorCode::PermissionDenied {
                    // A role may have been taken away: read `/me` before the next pull.
                    self.me_stale
                        .store(true, std::sync::atomic::Ordering::SeqCst);
                }
                self.update_status(|status| {
                    status.online = error.code != ErrorCode::ServerUnreachable;
                    status.last_error = Some(error);
                })
                .await;
                SyncOutcome::Retry
            }
            Err(RoundError::Expired(error)) => {
                tracing::warn!("session expired; waiting for a new sign-in");
                *self.expired.lock().await = Some(error.clone());
                self.update_status(|status| status.last_error = Some(error))
                    .await;
                let _ = self.events.send(EngineEvent::SessionExpired);
                SyncOutcome::Expired
            }
        };
        self.refresh_counts().await;
        self.update_status(|status| {
            status.syncing = false;
            status.bootstrap = None;
        })
        .await;
        outcome
    }

    async fn pull(&self) -> Result<(), RoundError> {
        let me_due = self
            .me_read_at
            .lock()
            .await
            .is_none_or(|at| at.elapsed() >= ME_READ_EVERY);
        if me_due || self.me_stale.load(std::sync::atomic::Ordering::SeqCst) {
            self.refresh_me().await?;
        }
        let client = &self.session.client;
        let queues = self
            .session
            .authorized(|access| async move { client.queues(&access).await })
            .await
            .map_err(round_error)?;
        let now = records::now();
        let queue_records: Vec<_> = queues.iter().map(records::queue_record).collect();
        self.store
            .replace_queues(&queue_records, &now)
            .await
            .map_err(storage)?;
        let templates = self
            .session
            .authorized(|access| async move { client.reason_templates(&access).await })
            .await
            .map_err(round_error)?;
        let template_records: Vec<_> = templates.iter().map(records::template_record).collect();
        let templates_changed = self
            .store
            .replace_reason_templates(&template_records)
            .await
            .map_err(storage)?;
        let _ = self.events.send(EngineEvent::CollectionChanged("queues"));
        if templates_changed {
            let _ = self
                .events
                .send(EngineEvent::CollectionChanged("reason_templates"));
        }
        self.pull_feed::<feeds::Items>().await?;
        if self.may("accounts.view") {
            self.pull_feed::<feeds::Accounts>().await?;
        }
        if self.may("jobs.view") {
            self.pull_feed::<feeds::Jobs>().await?;
        }
        if self.may("audit.view") {
            self.pull_feed::<feeds::Audit>().await?;
        }
        Ok(())
    }

    /// Reads who the user is now. When their roles changed, the session shows it at once
    /// (the UI's screens follow `SessionChanged`), collections they may no longer read
    /// leave the cache, and ones they may now read download on this pull.
    pub(crate) async fn refresh_me(&self) -> Result<(), RoundError> {
        let client = &self.session.client;
        let me = self
            .session
            .authorized(|access| async move { client.me(&access).await })
            .await
            .map_err(round_error)?;
        self.me_stale
            .store(false, std::sync::atomic::Ordering::SeqCst);
        *self.me_read_at.lock().await = Some(Instant::now());
        if let Some(seconds) = me.idempotency_retention_seconds {
            self.store
                .set_meta(RETENTION_META, &seconds.to_string())
                .await
                .map_err(storage)?;
        }
        let fresh = records::user_info(&me);
        let before = self.user();
        if fresh == before {
            return Ok(());
        }
        tracing::info!(roles = ?fresh.roles, "the user's roles changed");
        self.store
            .set_meta("user", &records::user_json(&fresh))
            .await
            .map_err(storage)?;
        *self
            .user
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = fresh.clone();
        for (permission, collection) in [
            ("accounts.view", "accounts"),
            ("audit.view", "audit"),
            ("jobs.view", "jobs"),
        ] {
            let had = before.permissions.iter().any(|p| p == permission);
            if had && !self.may(permission) {
                self.store
                    .forget_collection(collection)
                    .await
                    .map_err(storage)?;
                let _ = self.events.send(EngineEvent::CollectionChanged(collection));
            }
        }
        let _ = self
            .events
            .send(EngineEvent::SessionChanged(self.session_info()));
        Ok(())
    }
}

pub(crate) fn storage(error: steward_store::StoreError) -> RoundError {
    RoundError::Retry(error.into())
}

pub(crate) fn round_error(error: SessionError) -> RoundError {
    match error {
        SessionError::Expired(error) => RoundError::Expired(error),
        other => RoundError::Retry(other.to_app_error()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_pull_and_a_forced_one_never_wait() {
        let now = Instant::now();
        assert_eq!(pull_wait(None, now, false), None);
        assert_eq!(pull_wait(Some(now), now, true), None);
    }

    #[test]
    fn a_pull_within_the_gap_waits_for_the_rest_of_it() {
        let began = Instant::now();
        let now = began + Duration::from_millis(300);
        assert_eq!(
            pull_wait(Some(began), now, false),
            Some(PULL_MIN_GAP - Duration::from_millis(300))
        );
        assert_eq!(pull_wait(Some(began), began + PULL_MIN_GAP, false), None);
        assert_eq!(
            pull_wait(Some(began), began + PULL_MIN_GAP * 3, false),
            None
        );
    }
}
