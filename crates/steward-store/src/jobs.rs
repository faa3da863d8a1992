//! Background jobs of the product, mirrored for the jobs dashboard.

use sqlx::{QueryBuilder, Row};
use steward_core::{CountEntry, JobAction, JobDetail, JobInfo, JobPage, JobQuery, JobStats};

use crate::{Store, StoreError};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobRecord {
    pub id: i64,
    pub kind: String,
    pub status: String,
    pub attempts: i64,
    pub payload_summary: String,
    pub created_by: Option<String>,
    pub created_at: String,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
    pub updated_at: String,
    pub last_error: String,
    pub last_traceback: String,
    pub backend: String,
    pub queue: String,
    pub can_retry: bool,
    pub retry_blocked_reason: String,
    pub can_cancel: bool,
}

/// Jobs that a page of the feed shows failed and that were not failed in the cache before.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewlyFailed {
    pub kind: String,
    pub count: i64,
}

impl Store {
    /// Stores a page of the jobs delta feed with its cursor; returns the jobs that just failed.
    pub async fn apply_jobs_page(
        &self,
        jobs: &[JobRecord],
        cursor: Option<&str>,
        now: &str,
    ) -> Result<Vec<NewlyFailed>, StoreError> {
        let mut tx = self.write().await?;
        let mut failed: Vec<NewlyFailed> = Vec::new();
        for job in jobs.iter().filter(|j| j.status == "failed") {
            let before: Option<(String, i64)> =
                sqlx::query_as("SELECT status, attempts FROM jobs WHERE id = ?")
                    .bind(job.id)
                    .fetch_optional(&mut *tx)
                    .await?;
            let is_new = match before {
                None => true,
                Some((status, attempts)) => status != "failed" || attempts != job.attempts,
            };
            if is_new {
                match failed.iter_mut().find(|f| f.kind == job.kind) {
                    Some(entry) => entry.count += 1,
                    None => failed.push(NewlyFailed {
                        kind: job.kind.clone(),
                        count: 1,
                    }),
                }
            }
        }
        for chunk in jobs.chunks(100) {
            upsert_jobs(&mut tx, chunk).await?;
        }
        if let Some(cursor) = cursor {
            crate::set_cursor(&mut tx, "jobs", cursor, now).await?;
        }
        tx.commit().await?;
        Ok(failed)
    }

    /// A window of the jobs matching `query`, newest first, with the count of all that
    /// match. Only the filters in use reach the SQL, so an index serves each (a filter
    /// written as `? IS NULL OR ...` keeps SQLite from using any).
    pub async fn list_jobs(
        &self,
        query: &JobQuery,
        offset: i64,
        limit: i64,
    ) -> Result<JobPage, StoreError> {
        // Without a time range the kept counts answer (migration 0006): no job is read.
        let total: i64 = if query.from.is_none() && query.to.is_none() {
            sqlx::query_scalar(
                "SELECT coalesce(sum(count), 0) FROM job_counts
                 WHERE (?1 IS NULL OR effective_status = ?1) AND (?2 IS NULL OR kind = ?2)",
            )
            .bind(query.status.clone())
            .bind(query.kind.clone())
            .fetch_one(self.pool())
            .await?
        } else {
            let mut count = QueryBuilder::new("SELECT count(*) FROM jobs");
            push_job_filters(&mut count, query);
            count.build().fetch_one(self.pool()).await?.get(0)
        };
        let mut page = QueryBuilder::new("SELECT * FROM jobs");
        push_job_filters(&mut page, query);
        page.push(" ORDER BY created_at DESC, id DESC LIMIT ")
            .push_bind(limit.clamp(0, 1000))
            .push(" OFFSET ")
            .push_bind(offset.max(0));
        let rows = page.build().fetch_all(self.pool()).await?;
        Ok(JobPage {
            total,
            offset: offset.max(0),
            jobs: rows.iter().map(job_from_row).collect(),
        })
    }

    /// The ids of the jobs matching `query` that a retry can touch (failed or cancelled,
    /// with no action waiting): what "retry all that match" retries and counts.
    pub async fn retryable_job_ids(&self, query: &JobQuery) -> Result<Vec<i64>, StoreError> {
        let mut ids = QueryBuilder::new("SELECT id FROM jobs");
        push_retryable(&mut ids, query);
        ids.push(" ORDER BY id");
        Ok(ids.build_query_scalar().fetch_all(self.pool()).await?)
    }

    /// How many `retryable_job_ids` there are, read from an index (migration 0006) rather
    /// than the jobs: the number "retry all that match" asks the user to confirm.
    pub async fn count_retryable_jobs(&self, query: &JobQuery) -> Result<i64, StoreError> {
        let mut count = QueryBuilder::new("SELECT count(*) FROM jobs");
        push_retryable(&mut count, query);
        Ok(count.build_query_scalar().fetch_one(self.pool()).await?)
    }

    pub async fn job(&self, job_id: i64) -> Result<JobDetail, StoreError> {
        let row = sqlx::query("SELECT * FROM jobs WHERE id = ?")
            .bind(job_id)
            .fetch_optional(self.pool())
            .await?
            .ok_or(StoreError::JobNotFound(job_id))?;
        Ok(JobDetail {
            job: job_from_row(&row),
            last_traceback: row.get("last_traceback"),
        })
    }

    /// Counts by status and kind, and failures per hour since `since`.
    pub async fn job_stats(&self, since: &str) -> Result<JobStats, StoreError> {
        let counts = |rows: Vec<(String, i64)>| {
            rows.into_iter()
                .map(|(key, count)| CountEntry { key, count })
                .collect::<Vec<_>>()
        };
        // The counts the triggers keep (migration 0006), not a scan of the jobs.
        let by_status = sqlx::query_as(
            "SELECT effective_status, sum(count) AS n FROM job_counts
             GROUP BY effective_status HAVING n > 0 ORDER BY effective_status",
        )
        .fetch_all(self.pool())
        .await?;
        let by_kind = sqlx::query_as(
            "SELECT kind, sum(count) AS n FROM job_counts GROUP BY kind HAVING n > 0 ORDER BY kind",
        )
        .fetch_all(self.pool())
        .await?;
        let failures = sqlx::query_as(
            "SELECT substr(coalesce(finished_at, updated_at), 1, 13) || ':00:00Z' AS hour, count(*) FROM jobs
             WHERE status = 'failed' AND coalesce(finished_at, updated_at) >= ? GROUP BY hour ORDER BY hour",
        )
        .bind(since)
        .fetch_all(self.pool())
        .await?;
        Ok(JobStats {
            by_status: counts(by_status),
            by_kind: counts(by_kind),
            failures_by_hour: counts(failures),
        })
    }
}

/// ` WHERE ...` for the filters `query` sets, each value bound.
fn push_job_filters(builder: &mut QueryBuilder<sqlx::Sqlite>, query: &JobQuery) {
    let filters = [
        ("effective_status = ", &query.status),
        ("kind = ", &query.kind),
        ("created_at >= ", &query.from),
        ("created_at < ", &query.to),
    ];
    let mut first = true;
    for (condition, value) in filters {
        if let Some(value) = value {
            builder.push(if first { " WHERE " } else { " AND " });
            builder.push(condition).push_bind(value.as_str());
            first = false;
        }
    }
}

/// The filters of `query` and what makes a job retryable; the partial index
/// jobs_retryable (migration 0006) holds exactly the jobs the last two conditions admit.
fn push_retryable(builder: &mut QueryBuilder<sqlx::Sqlite>, query: &JobQuery) {
    push_job_filters(builder, query);
    builder.push(if query_has_filters(query) {
        " AND "
    } else {
        " WHERE "
    });
    builder.push(
        "effective_status IN ('failed', 'cancelled') AND can_retry = 1 AND pending_action IS NULL",
    );
}

fn query_has_filters(query: &JobQuery) -> bool {
    query.status.is_some() || query.kind.is_some() || query.from.is_some() || query.to.is_some()
}

pub(crate) async fn upsert_jobs(
    tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
    jobs: &[JobRecord],
) -> Result<(), StoreError> {
    if jobs.is_empty() {
        return Ok(());
    }
    let mut builder = QueryBuilder::new(
        "INSERT INTO jobs (id, kind, status, attempts, payload_summary, created_by, created_at, started_at, finished_at, updated_at, last_error, last_traceback, backend, queue, can_retry, retry_blocked_reason, can_cancel) ",
    );
    builder.push_values(jobs, |mut row, job| {
        row.push_bind(job.id)
            .push_bind(&job.kind)
            .push_bind(&job.status)
            .push_bind(job.attempts)
            .push_bind(&job.payload_summary)
            .push_bind(&job.created_by)
            .push_bind(&job.created_at)
            .push_bind(&job.started_at)
            .push_bind(&job.finished_at)
            .push_bind(&job.updated_at)
            .push_bind(&job.last_error)
            .push_bind(&job.last_traceback)
            .push_bind(&job.backend)
            .push_bind(&job.queue)
            .push_bind(job.can_retry)
            .push_bind(&job.retry_blocked_reason)
            .push_bind(job.can_cancel);
    });
    builder.push(
        " ON CONFLICT(id) DO UPDATE SET kind = excluded.kind, status = excluded.status, attempts = excluded.attempts,
          payload_summary = excluded.payload_summary, created_by = excluded.created_by, created_at = excluded.created_at,
          started_at = excluded.started_at, finished_at = excluded.finished_at, updated_at = excluded.updated_at,
          last_error = excluded.last_error, last_traceback = excluded.last_traceback,
          backend = excluded.backend, queue = excluded.queue, can_retry = excluded.can_retry,
          retry_blocked_reason = excluded.retry_blocked_reason, can_cancel = excluded.can_cancel
          WHERE excluded.updated_at >= jobs.updated_at",
    );
    builder.build().execute(&mut **tx).await?;
    Ok(())
}

fn job_from_row(row: &sqlx::sqlite::SqliteRow) -> JobInfo {
    let pending: Option<String> = row.get("pending_action");
    JobInfo {
        id: row.get("id"),
        kind: row.get("kind"),
        status: row.get("effective_status"),
        attempts: row.get("attempts"),
        payload_summary: row.get("payload_summary"),
        created_by: row.get("created_by"),
        created_at: row.get("created_at"),
        started_at: row.get("started_at"),
        finished_at: row.get("finished_at"),
        updated_at: row.get("updated_at"),
        last_error: row.get("last_error"),
        pending_action: match pending.as_deref() {
            Some("retry") => Some(JobAction::Retry),
            Some("cancel") => Some(JobAction::Cancel),
            _ => None,
        },
        backend: row.get("backend"),
        queue: row.get("queue"),
        can_retry: row.get::<i64, _>("can_retry") != 0,
        retry_blocked_reason: row.get("retry_blocked_reason"),
        can_cancel: row.get::<i64, _>("can_cancel") != 0,
    }
}
