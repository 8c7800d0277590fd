-- +goose Up
-- The pending links pass (notify.Store.ResolvePending, every 2 s, once per
-- cluster) read every /start link of its last 24 h with its ticket and chat
-- to find the few whose chat is not yet linked to their ticket: ~0.75 s a
-- pass at 500,000 links (docs/performance.md). resolved_at is when a pass
-- found the link's chat linked to its ticket (by the ticket's ingest, by
-- the /start itself or by the pass); NULL while the link is pending (its
-- ticket has not arrived, or arrived unlinked). The pass reads only the
-- pending links, through the index below, and marks those it sees linked.
--
-- On a large table the exclusive lock is held only briefly. First, with
-- reads only (/start, the bookings and the ingest go on), the links whose
-- chat is not linked to their ticket are gathered: one read of every link
-- with its ticket and chat, as one pass of the old statement (1.0 s at
-- 500,000 links on the 2-core test machine, load 7.7). Then ADD COLUMN
-- takes the table's exclusive lock to the commit: its default, the
-- migration's time, is stored once in the catalogue (a non-volatile
-- default: no row is written), so every existing link reads as resolved;
-- the default goes (new links start pending); the gathered links, and
-- every link of the last 10 minutes (made while they were gathered:
-- pending until a pass sees them linked), are set back to NULL; the index
-- is built and the table analysed. /start, the bookings and the ingest's
-- read of the links wait for that part: 0.37 s at 500,000 links (same
-- run; docs/deploy.md).
CREATE TEMP TABLE links_00034 ON COMMIT DROP AS
SELECT l.token, l.chat_id FROM telegram_token_links l
WHERE NOT EXISTS (SELECT 1 FROM tickets t
    JOIN telegram_ticket_chats c ON c.branch = t.branch AND c.ticket = t.id
    WHERE t.token = l.token AND t.token <> '' AND c.chat_id = l.chat_id);
ALTER TABLE telegram_token_links ADD COLUMN resolved_at TIMESTAMPTZ DEFAULT now();
ALTER TABLE telegram_token_links ALTER COLUMN resolved_at DROP DEFAULT;
UPDATE telegram_token_links l SET resolved_at = NULL FROM links_00034 p
WHERE l.token = p.token AND l.chat_id = p.chat_id;
UPDATE telegram_token_links SET resolved_at = NULL WHERE created_at >= now() - interval '10 minutes';
-- The index's expression is the link's creation time while it is pending
-- (NULL once resolved); ANALYZE gives the planner its statistics (those of
-- a partial index are not used), which tell how few links of the pass's
-- window are pending.
CREATE INDEX telegram_token_links_pending ON telegram_token_links ((CASE WHEN resolved_at IS NULL THEN created_at END));
ANALYZE telegram_token_links;

-- +goose Down
DROP INDEX telegram_token_links_pending;
ALTER TABLE telegram_token_links DROP COLUMN resolved_at;
