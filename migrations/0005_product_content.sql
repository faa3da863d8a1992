-- Items are the product's own content now (server issue 12): each names the object it is
-- about (its type, a label, its key and a link to it on the public site), and content can
-- have no known author (an anonymous post), so author_id may be NULL. SQLite cannot drop a
-- NOT NULL constraint in place: the table is rebuilt, its rows and indexes kept. An item's
-- author_username and author_status are '' when its author is unknown.
CREATE TABLE items_rebuilt (
    id               INTEGER PRIMARY KEY,
    queue_id         INTEGER NOT NULL,
    state            TEXT NOT NULL,
    version          INTEGER NOT NULL,
    title            TEXT NOT NULL,
    body_html        TEXT NOT NULL,
    author_id        INTEGER,
    author_username  TEXT NOT NULL,
    author_status    TEXT NOT NULL,
    reports_json     TEXT NOT NULL,
    report_count     INTEGER NOT NULL,
    top_reason       TEXT,
    claim_username   TEXT,
    claim_expires_at TEXT,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL,
    pending_action   TEXT,
    -- The product object as the server describes it: {type, label, key, url, deleted}.
    object_json      TEXT,
    effective_state  TEXT GENERATED ALWAYS AS (
        CASE pending_action
            WHEN 'approve' THEN 'approved' WHEN 'remove' THEN 'removed'
            WHEN 'escalate' THEN 'escalated' WHEN 'ignore' THEN 'ignored'
            ELSE state END) VIRTUAL
);
INSERT INTO items_rebuilt (id, queue_id, state, version, title, body_html, author_id,
    author_username, author_status, reports_json, report_count, top_reason, claim_username,
    claim_expires_at, created_at, updated_at, pending_action)
SELECT id, queue_id, state, version, title, body_html, author_id, author_username,
    author_status, reports_json, report_count, top_reason, claim_username, claim_expires_at,
    created_at, updated_at, pending_action
FROM items;
DROP TABLE items;
ALTER TABLE items_rebuilt RENAME TO items;
CREATE INDEX items_by_queue_state ON items (queue_id, effective_state, created_at, id);
CREATE INDEX items_by_author_id ON items (author_id);

-- Jobs are the product's own, on several backends (django-tasks, Celery): which backend
-- and queue a job runs on, and whether the server can retry or cancel it (and why not).
ALTER TABLE jobs ADD COLUMN backend TEXT NOT NULL DEFAULT '';
ALTER TABLE jobs ADD COLUMN queue TEXT NOT NULL DEFAULT '';
ALTER TABLE jobs ADD COLUMN can_retry INTEGER NOT NULL DEFAULT 1;
ALTER TABLE jobs ADD COLUMN retry_blocked_reason TEXT NOT NULL DEFAULT '';
ALTER TABLE jobs ADD COLUMN can_cancel INTEGER NOT NULL DEFAULT 0;

-- Both feeds are read again so the new columns fill.
DELETE FROM sync_cursors WHERE collection IN ('items', 'jobs');
