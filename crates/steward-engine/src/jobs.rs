//! Background jobs for admins: the cached list, detail and counts, and retries and
//! cancellations through the outbox.

use std::time::Duration;

use steward_core::{
    AppError, ErrorCode, JobAction, JobBulkOutcome, JobDetail, JobPage, JobQuery, JobStats,
};

use crate::{DueAction, Engine, records};

impl Engine {
    pub async fn list_jobs(
        &self,
        query: JobQuery,
        offset: i64,
        limit: i64,
    ) -> Result<JobPage, AppError> {
        Ok(self
            .require_active()
            .await?
            .store
            .list_jobs(&query, offset, limit)
            .await?)
    }

    pub async fn get_job(&self, job_id: i64) -> Result<JobDetail, AppError> {
        Ok(self.require_active().await?.store.job(job_id).await?)
    }

    /// Counts by status and kind, and failures per hour over the last three days.
    pub async fn job_stats(&self) -> Result<JobStats, AppError> {
        let since = records::earlier(Duration::from_secs(3 * 24 * 3600));
        Ok(self.require_active().await?.store.job_stats(&since).await?)
    }

    /// How many cached jobs matching `query` a retry would touch (failed or cancelled).
    pub async fn count_matching_jobs(&self, query: JobQuery) -> Result<i64, AppError> {
        let active = self.require_active().await?;
        Ok(active.store.count_retryable_jobs(&query).await?)
    }

    /// Queues a retry or cancel of each job in `job_ids`, as one action.
    pub async fn act_on_jobs(
        &self,
        job_ids: &[i64],
        action: JobAction,
    ) -> Result<JobBulkOutcome, AppError> {
        if job_ids.is_empty() {
            return Err(AppError::new(
                ErrorCode::InvalidInput,
                "Select at least one job.",
            ));
        }
        let active = self.require_active().await?;
        let due = DueAction::new();
        let (queued, skipped) = active
            .store
            .enqueue_job_actions(job_ids, action, &due.action(), || {
                uuid::Uuid::new_v4().to_string()
            })
            .await?;
        tracing::info!(
            queued = queued.len(),
            action = action.as_str(),
            "job actions queued"
        );
        active.after_local_change().await;
        Ok(JobBulkOutcome { queued, skipped })
    }

    /// Retries every cached job matching `query` that can be retried (failed or cancelled).
    pub async fn retry_matching_jobs(&self, query: JobQuery) -> Result<JobBulkOutcome, AppError> {
        let active = self.require_active().await?;
        let ids = active.store.retryable_job_ids(&query).await?;
        self.act_on_jobs(&ids, JobAction::Retry).await
    }
}
