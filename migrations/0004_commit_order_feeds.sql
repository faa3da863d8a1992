-- The server's delta feeds now page in commit order (a stamp the database gives each
-- write) with cursors of a new form, so that no committed row is ever skipped. Cursors
-- of the old form mean nothing there: every feed is read again from the start. Rows
-- are upserted and audit events already held are skipped, so this costs one download.
DELETE FROM sync_cursors;

-- The push loop takes the oldest due row with no earlier pending row on the same target
-- (Store::next_push); this index answers the "earlier row on the same target" probe.
CREATE INDEX outbox_by_target ON outbox (status, target_id, id);
