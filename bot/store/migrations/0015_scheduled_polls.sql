-- Scheduled polls (issue 16): a poll created with an opening time keeps it here until the
-- scheduler's `open_poll` job posts it (in `channel_id`, stored at creation, where
-- /theory new was used) and clears it.  NULL: the poll is open (or was never scheduled).
ALTER TABLE theories ADD COLUMN opens_at INTEGER;
