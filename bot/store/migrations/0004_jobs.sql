-- The one scheduler's jobs: reminders, poll closing, the daily purge, retries.
--
-- A job is named by (kind, key): the kind picks the handler, the key the thing it acts on
-- ("<server>:week").  Scheduling the same (kind, key) again replaces the row with a new
-- one (a new id), so one thing never has two jobs.  Ids are AUTOINCREMENT, never reused:
-- a channel post made by a job carries a nonce made from its id, and Discord must never
-- take a new job's post for an old one's retry.
--
-- pending -> claimed (a process runs it until lease_until; after that another process
-- may take it over) -> done, or back to pending (a retry), or failed (given up).  A job
-- is done in the same transaction that commits its effect, so a crash at any point
-- leaves it pending or claimed, and it runs again.  Done and failed rows are kept for the
-- record until the purge forgets them.  Times are Unix seconds passed in by the
-- application.
CREATE TABLE jobs (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    kind        TEXT NOT NULL CHECK (length(kind) > 0),
    key         TEXT NOT NULL,
    guild_id    INTEGER REFERENCES guilds (guild_id) ON DELETE CASCADE,  -- NULL: no server's
    due_at      INTEGER NOT NULL,
    payload     TEXT NOT NULL DEFAULT '{}'    -- JSON object: the handler's input
                CHECK (json_valid(payload) AND json_type(payload) = 'object'),
    state       TEXT NOT NULL DEFAULT 'pending'
                CHECK (state IN ('pending', 'claimed', 'done', 'failed')),
    attempts    INTEGER NOT NULL DEFAULT 0,   -- handler runs started (claims)
    failures    INTEGER NOT NULL DEFAULT 0,   -- runs that raised: back-off, then failed
    claimed_by  TEXT,                         -- the process that runs (or ran) it
    lease_until INTEGER,                      -- set while claimed
    done_at     INTEGER,                      -- set when done or failed
    note        TEXT,                         -- why it was retried or failed
    UNIQUE (kind, key),
    CHECK ((state = 'claimed') = (claimed_by IS NOT NULL AND lease_until IS NOT NULL)
           OR state IN ('done', 'failed'))
);

-- The scheduler's scans: pending jobs by due time, claims by the end of their lease.
CREATE INDEX jobs_pending ON jobs (due_at) WHERE state = 'pending';
CREATE INDEX jobs_claimed ON jobs (lease_until) WHERE state = 'claimed';

-- A server's jobs: its export, and the cascade when the purge deletes it.
CREATE INDEX jobs_guild ON jobs (guild_id) WHERE guild_id IS NOT NULL;
