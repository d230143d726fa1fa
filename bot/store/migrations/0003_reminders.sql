-- Countdown reminders for the premiere: 7 days before, 1 day before, at the premiere.
--
-- One row per server and kind.  Setting the premiere date (re)schedules the rows in the
-- same transaction; a row moves only when the premiere it counts down to changes, so
-- restoring the same date never sends a reminder twice.  The poster claims due rows
-- (pending -> claimed) in a committed transaction *before* posting, then records the
-- outcome: a restart can never post a claimed row again (at most once).  Times are Unix
-- seconds passed in by the application.
CREATE TABLE reminders (
    guild_id    INTEGER NOT NULL REFERENCES guilds (guild_id) ON DELETE CASCADE,
    kind        TEXT NOT NULL CHECK (kind IN ('week', 'day', 'premiere')),
    premiere_at INTEGER NOT NULL,
    due_at      INTEGER NOT NULL,
    state       TEXT NOT NULL DEFAULT 'pending' CHECK (state IN
                ('pending', 'claimed', 'sent', 'failed', 'dropped', 'skipped', 'abandoned')),
    attempts    INTEGER NOT NULL DEFAULT 0,
    retry_at    INTEGER,                  -- a refused post is tried again from then on
    claimed_at  INTEGER,
    done_at     INTEGER,
    message_id  INTEGER,                  -- the posted reminder
    note        TEXT,                     -- why it failed, was retried or was dropped
    PRIMARY KEY (guild_id, kind)
);

-- The poster's scans: pending rows by due time, claims left behind by a stopped bot.
CREATE INDEX reminders_open ON reminders (state, due_at)
    WHERE state IN ('pending', 'claimed');
