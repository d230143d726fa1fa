-- What each poll message shows, so a restart re-edits only the messages that are stale.
--
-- The tally refresher writes a short key of the state it rendered (status, outcome,
-- the counts or, for a sealed poll, the number of voters) after every successful
-- edit of the poll message.  At start the bot compares it with the state in the
-- database and edits only the polls whose message is behind (votes committed just
-- before a crash, a poll closed or resolved while its edit was pending).
ALTER TABLE theories ADD COLUMN shown TEXT;

-- The start-up scan: posted polls still shown in a channel.
CREATE INDEX theories_posted ON theories (id)
    WHERE message_id IS NOT NULL AND removed_at IS NULL;
