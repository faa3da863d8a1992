-- The jobs dashboard at scale (bench: jobs_local, 5M cached jobs). Counting by status and
-- kind read every row of the jobs table on each refresh (a second at millions of jobs),
-- the failures chart scanned the whole table, and the failed list sorted every failed job
-- for its first page; "retry all that match" counted its jobs by reading them all. Now: counts kept per (effective status, kind) by triggers in the
-- writing transaction; an index that serves a status's newest jobs in order; a partial
-- index over failed jobs by the time they failed; a partial index of the retryable jobs.
CREATE TABLE job_counts (
    effective_status TEXT NOT NULL,
    kind             TEXT NOT NULL,
    count            INTEGER NOT NULL,
    PRIMARY KEY (effective_status, kind)
) WITHOUT ROWID;

INSERT INTO job_counts (effective_status, kind, count)
    SELECT effective_status, kind, count(*) FROM jobs GROUP BY effective_status, kind;

CREATE TRIGGER job_counts_after_insert AFTER INSERT ON jobs BEGIN
    INSERT INTO job_counts (effective_status, kind, count) VALUES (NEW.effective_status, NEW.kind, 1)
        ON CONFLICT (effective_status, kind) DO UPDATE SET count = count + 1;
END;

CREATE TRIGGER job_counts_after_delete AFTER DELETE ON jobs BEGIN
    UPDATE job_counts SET count = count - 1
        WHERE effective_status = OLD.effective_status AND kind = OLD.kind;
END;

CREATE TRIGGER job_counts_after_update AFTER UPDATE OF status, pending_action, kind ON jobs
    WHEN OLD.effective_status IS NOT NEW.effective_status OR OLD.kind IS NOT NEW.kind
BEGIN
    UPDATE job_counts SET count = count - 1
        WHERE effective_status = OLD.effective_status AND kind = OLD.kind;
    INSERT INTO job_counts (effective_status, kind, count) VALUES (NEW.effective_status, NEW.kind, 1)
        ON CONFLICT (effective_status, kind) DO UPDATE SET count = count + 1;
END;

CREATE INDEX jobs_by_status_newest ON jobs (effective_status, created_at, id);
CREATE INDEX jobs_failed_by_time ON jobs (coalesce(finished_at, updated_at)) WHERE status = 'failed';
CREATE INDEX jobs_retryable ON jobs (effective_status, kind, created_at)
    WHERE can_retry = 1 AND pending_action IS NULL;
