-- Accounts, the audit log and jobs, mirrored for support staff and admins.

CREATE TABLE accounts (
    id                   INTEGER PRIMARY KEY,
    username             TEXT NOT NULL,
    display_name         TEXT NOT NULL,
    email                TEXT NOT NULL,
    status               TEXT NOT NULL,
    roles_json           TEXT NOT NULL,
    joined_at            TEXT NOT NULL,
    last_seen_at         TEXT,
    suspended_until      TEXT,
    sessions_revoked_at  TEXT,
    counts_json          TEXT NOT NULL,
    updated_at           TEXT NOT NULL,
    -- An account action written here that the server has not confirmed yet.
    pending_action       TEXT
);
CREATE INDEX accounts_by_username ON accounts (username COLLATE NOCASE);

-- Notes on accounts; a note written here waits in the outbox with a negative id.
CREATE TABLE account_notes (
    id               INTEGER PRIMARY KEY,
    account_id       INTEGER NOT NULL,
    author_username  TEXT,
    body             TEXT NOT NULL,
    created_at       TEXT NOT NULL
);
CREATE INDEX account_notes_by_account ON account_notes (account_id, created_at);

-- The audit log, append-only, mirrored by ascending id.
CREATE TABLE audit_events (
    id              INTEGER PRIMARY KEY,
    actor_username  TEXT NOT NULL,
    action          TEXT NOT NULL,
    target_type     TEXT NOT NULL,
    target_id       TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    data_json       TEXT NOT NULL
);
CREATE INDEX audit_by_actor ON audit_events (actor_username, created_at);
CREATE INDEX audit_by_action ON audit_events (action, created_at);
CREATE INDEX audit_by_target ON audit_events (target_type, target_id, created_at);
CREATE INDEX audit_by_time ON audit_events (created_at);

-- Full-text index over each event's words (actor, action, target, data), rowid = event id.
-- Contentless: the text lives in audit_events; the index only holds the words.
CREATE VIRTUAL TABLE audit_fts USING fts5 (text, content = '', tokenize = 'unicode61 remove_diacritics 2');

CREATE TABLE jobs (
    id               INTEGER PRIMARY KEY,
    kind             TEXT NOT NULL,
    status           TEXT NOT NULL,
    attempts         INTEGER NOT NULL,
    payload_summary  TEXT NOT NULL,
    created_by       TEXT,
    created_at       TEXT NOT NULL,
    started_at       TEXT,
    finished_at      TEXT,
    updated_at       TEXT NOT NULL,
    last_error       TEXT NOT NULL,
    last_traceback   TEXT NOT NULL,
    -- retry or cancel written here that the server has not confirmed yet.
    pending_action   TEXT,
    effective_status TEXT GENERATED ALWAYS AS (
        CASE pending_action WHEN 'retry' THEN 'pending' WHEN 'cancel' THEN 'cancelled' ELSE status END) VIRTUAL
);
CREATE INDEX jobs_by_status ON jobs (effective_status, kind, created_at);
CREATE INDEX jobs_by_time ON jobs (created_at);

-- Local bookkeeping of an outbox row that is not sent to the server (e.g. the id of a
-- note shown while it waits), kept apart from the arguments that are sent.
ALTER TABLE outbox ADD COLUMN local_json TEXT;
