-- Halfbie's first schema.
--
-- The migration runner wraps this file in BEGIN IMMEDIATE ... PRAGMA user_version = 1;
-- COMMIT, so it must not contain transaction statements of its own.
--
-- Every table but meta belongs to a server and goes with it: guild_id references
-- guilds ON DELETE CASCADE, directly or through its parent row.  Times are Unix
-- seconds passed in by the application; SQL never reads the clock.  Enumerations are
-- checked against the values of the enums in bot/models.py.

-- "Half" in ASCII: marks the file as Halfbie's, so that another program's SQLite
-- database is never migrated by mistake.
PRAGMA application_id = 1214344294;

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE guilds (
    guild_id      INTEGER PRIMARY KEY,
    first_seen_at INTEGER NOT NULL,
    left_at       INTEGER,                    -- NULL while the bot is in the server
    canon_version INTEGER NOT NULL DEFAULT 0  -- version of the canon last seeded
);

CREATE INDEX guilds_left ON guilds (left_at) WHERE left_at IS NOT NULL;

CREATE TABLE guild_settings (
    guild_id             INTEGER PRIMARY KEY REFERENCES guilds (guild_id) ON DELETE CASCADE,
    admin_role_id        INTEGER,
    announce_channel_id  INTEGER,
    ping_role_id         INTEGER,
    spoiler_mode         TEXT NOT NULL DEFAULT 'hidden'
                         CHECK (spoiler_mode IN ('hidden', 'shown', 'omitted')),
    language             TEXT NOT NULL DEFAULT 'auto'
                         CHECK (language IN ('auto', 'en', 'ko')),
    poll_creator_role_id INTEGER,
    updated_at           INTEGER NOT NULL,
    updated_by           INTEGER               -- NULL: created by the bot
);

CREATE TABLE characters (
    guild_id              INTEGER NOT NULL REFERENCES guilds (guild_id) ON DELETE CASCADE,
    key                   TEXT NOT NULL CHECK (length(key) > 0),
    name                  TEXT NOT NULL CHECK (length(name) > 0),
    hangul                TEXT,
    actor                 TEXT,
    role                  TEXT NOT NULL,
    status                TEXT NOT NULL CHECK (status IN
                          ('alive', 'zombie', 'halfbie', 'immune', 'presumed_dead', 'unknown')),
    fate_s1               TEXT,
    season2               TEXT,
    source_name           TEXT NOT NULL,
    source_url            TEXT,
    source_certainty      TEXT NOT NULL CHECK (source_certainty IN
                          ('official', 'reported', 'speculation', 'fan_theory')),
    status_source_name    TEXT NOT NULL,
    status_source_url     TEXT,
    status_source_certainty TEXT NOT NULL CHECK (status_source_certainty IN
                          ('official', 'reported', 'speculation', 'fan_theory')),
    aliases               TEXT NOT NULL DEFAULT '[]',  -- JSON array of strings
    notes                 TEXT,
    updated_at            INTEGER NOT NULL,
    updated_by            INTEGER,                     -- NULL: seeded from the canon
    removed_at            INTEGER,                     -- soft delete
    PRIMARY KEY (guild_id, key)
);

CREATE TABLE release (
    guild_id    INTEGER PRIMARY KEY REFERENCES guilds (guild_id) ON DELETE CASCADE,
    stage       TEXT NOT NULL CHECK (stage IN
                ('rumoured', 'confirmed', 'in_production', 'dated', 'released')),
    premiere_at INTEGER,
    updated_at  INTEGER NOT NULL,
    updated_by  INTEGER
);

CREATE TABLE news (
    id               INTEGER PRIMARY KEY,
    guild_id         INTEGER NOT NULL REFERENCES guilds (guild_id) ON DELETE CASCADE,
    seed_key         TEXT,                    -- canon items only; NULLs never collide
    headline         TEXT NOT NULL CHECK (length(headline) > 0),
    happened_on      TEXT,                    -- ISO date
    reported_on      TEXT NOT NULL,           -- ISO date
    details          TEXT,
    source_name      TEXT NOT NULL,
    source_url       TEXT,
    source_certainty TEXT NOT NULL CHECK (source_certainty IN
                     ('official', 'reported', 'speculation', 'fan_theory')),
    created_at       INTEGER NOT NULL,
    created_by       INTEGER,
    removed_at       INTEGER,
    UNIQUE (guild_id, seed_key)
);

-- news.list: newest first, by the date the news happened (or was reported).
CREATE INDEX news_by_guild_date
    ON news (guild_id, COALESCE(happened_on, reported_on) DESC, id DESC)
    WHERE removed_at IS NULL;

CREATE TABLE theories (
    id               INTEGER PRIMARY KEY,
    guild_id         INTEGER NOT NULL REFERENCES guilds (guild_id) ON DELETE CASCADE,
    seed_key         TEXT,
    title            TEXT NOT NULL CHECK (length(title) > 0),
    details          TEXT,
    source_name      TEXT NOT NULL,
    source_url       TEXT,
    source_certainty TEXT NOT NULL CHECK (source_certainty IN
                     ('official', 'reported', 'speculation', 'fan_theory')),
    sealed           INTEGER NOT NULL DEFAULT 0 CHECK (sealed IN (0, 1)),
    closes_at        INTEGER,
    status           TEXT NOT NULL DEFAULT 'open'
                     CHECK (status IN ('open', 'closed', 'resolved')),
    outcome          INTEGER CHECK (outcome IS NULL OR status = 'resolved'),
    created_at       INTEGER NOT NULL,
    created_by       INTEGER,
    channel_id       INTEGER,
    message_id       INTEGER,
    removed_at       INTEGER,
    UNIQUE (guild_id, seed_key),
    UNIQUE (guild_id, id)                     -- target of votes' and scores' keys; lists by guild
);

-- theories.due_to_close: the scheduler's scan.
CREATE INDEX theories_due
    ON theories (closes_at)
    WHERE status = 'open' AND closes_at IS NOT NULL AND removed_at IS NULL;

CREATE TABLE theory_options (
    theory_id INTEGER NOT NULL REFERENCES theories (id) ON DELETE CASCADE,
    position  INTEGER NOT NULL CHECK (position BETWEEN 0 AND 9),
    label     TEXT NOT NULL CHECK (length(label) > 0),
    PRIMARY KEY (theory_id, position)
) WITHOUT ROWID;

-- One vote per member per poll, enforced here.  The primary key also serves
-- "votes of a theory" (the tally) as a range scan.
CREATE TABLE votes (
    theory_id       INTEGER NOT NULL,
    member_id       INTEGER NOT NULL,
    guild_id        INTEGER NOT NULL,
    option_position INTEGER NOT NULL,
    voted_at        INTEGER NOT NULL,
    PRIMARY KEY (theory_id, member_id),
    FOREIGN KEY (guild_id, theory_id) REFERENCES theories (guild_id, id) ON DELETE CASCADE,
    FOREIGN KEY (theory_id, option_position) REFERENCES theory_options (theory_id, position)
        ON DELETE CASCADE
) WITHOUT ROWID;

-- theories.votes_of_member.  (Cascades from theories find votes by the primary key.)
CREATE INDEX votes_by_member ON votes (guild_id, member_id);

CREATE TABLE scores (
    guild_id  INTEGER NOT NULL,
    theory_id INTEGER NOT NULL,
    member_id INTEGER NOT NULL,
    points    REAL NOT NULL,
    PRIMARY KEY (theory_id, member_id),
    FOREIGN KEY (guild_id, theory_id) REFERENCES theories (guild_id, id) ON DELETE CASCADE
) WITHOUT ROWID;

-- the leaderboard (to come).
CREATE INDEX scores_by_guild_member ON scores (guild_id, member_id);

CREATE TABLE audit (
    id       INTEGER PRIMARY KEY,
    guild_id INTEGER NOT NULL REFERENCES guilds (guild_id) ON DELETE CASCADE,
    at       INTEGER NOT NULL,
    actor_id INTEGER,                         -- NULL: the bot itself (scheduler, seed)
    action   TEXT NOT NULL,                   -- "character.status", "news.add", ...
    target   TEXT NOT NULL,
    old      TEXT,                            -- JSON object
    new      TEXT                             -- JSON object
);

CREATE INDEX audit_by_guild ON audit (guild_id, id DESC);
