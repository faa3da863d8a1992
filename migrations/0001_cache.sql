-- The local cache of one (environment, account). Tokens are never stored here.

CREATE TABLE queues (
    id              INTEGER PRIMARY KEY,
    slug            TEXT NOT NULL,
    name            TEXT NOT NULL,
    priority        INTEGER NOT NULL,
    open_count      INTEGER NOT NULL,
    oldest_open_at  TEXT,
    synced_at       TEXT NOT NULL
);

-- One row per item the server has told us about, in every state, so a queue is mirrored.
CREATE TABLE items (
    id               INTEGER PRIMARY KEY,
    queue_id         INTEGER NOT NULL,
    state            TEXT NOT NULL,
    version          INTEGER NOT NULL,
    title            TEXT NOT NULL,
    body_html        TEXT NOT NULL,
    author_id        INTEGER NOT NULL,
    author_username  TEXT NOT NULL,
    author_status    TEXT NOT NULL,
    reports_json     TEXT NOT NULL,
    report_count     INTEGER NOT NULL,
    top_reason       TEXT,
    claim_username   TEXT,
    claim_expires_at TEXT,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL,
    -- A local decision the server has not confirmed yet. `state` stays the server's;
    -- readers overlay this, so rolling back is clearing it.
    pending_action   TEXT,
    -- What the user sees: the server's state, or the state a pending decision leads to.
    effective_state  TEXT GENERATED ALWAYS AS (
        CASE pending_action
            WHEN 'approve' THEN 'approved' WHEN 'remove' THEN 'removed'
            WHEN 'escalate' THEN 'escalated' WHEN 'ignore' THEN 'ignored'
            ELSE state END) VIRTUAL
);
CREATE INDEX items_by_queue_state ON items (queue_id, effective_state, created_at, id);
CREATE INDEX items_by_author ON items (author_id, updated_at);

-- Where each delta feed stopped; written in the same transaction as the rows it covers.
CREATE TABLE sync_cursors (
    collection  TEXT PRIMARY KEY,
    cursor      TEXT NOT NULL,
    synced_at   TEXT NOT NULL
);

-- Actions written locally, pushed to the server in id order, each exactly once.
CREATE TABLE outbox (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    idempotency_key  TEXT NOT NULL UNIQUE,
    kind             TEXT NOT NULL,
    target_id        INTEGER NOT NULL,
    payload_json     TEXT NOT NULL,
    base_version     INTEGER NOT NULL,
    status           TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'conflict', 'rejected')),
    -- One user action (a bulk decision is one group): undone together.
    group_id         TEXT NOT NULL,
    -- How many rows the group had when written: an undo needs all of them still here.
    group_size       INTEGER NOT NULL DEFAULT 1,
    -- The push waits until then, so the user can undo; the undo window.
    not_before       TEXT NOT NULL,
    -- Set (and committed) before the request goes out: such a row can no longer be
    -- undone, and after a crash it is sent again with the same idempotency key.
    sending          INTEGER NOT NULL DEFAULT 0,
    attempts         INTEGER NOT NULL DEFAULT 0,
    last_error       TEXT,
    server_state_json TEXT,
    created_at       TEXT NOT NULL
);
CREATE INDEX outbox_by_status ON outbox (status, id);

CREATE TABLE reason_templates (
    id          INTEGER PRIMARY KEY,
    scope       TEXT NOT NULL,
    code        TEXT NOT NULL,
    label       TEXT NOT NULL,
    text        TEXT NOT NULL,
    actions_json TEXT NOT NULL,
    position    INTEGER NOT NULL,
    updated_at  TEXT NOT NULL
);

-- Small facts about this cache: the signed-in user (no secrets), schema notes.
CREATE TABLE meta (
    key    TEXT PRIMARY KEY,
    value  TEXT NOT NULL
);
