-- Scheduled polls (issue 16), as SQLite's 0015: the opening time of a poll not yet
-- posted by its `open_poll` job (NULL once opened, or never scheduled).
ALTER TABLE theories ADD COLUMN opens_at BIGINT;
