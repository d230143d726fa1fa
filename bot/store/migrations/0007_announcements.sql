-- The last announcement of each topic in a server (today: the premiere date), so that a
-- correction made soon after edits that message instead of posting and pinging again.
-- `before` is what the announcement said the value was before (JSON): a correction keeps
-- saying "moved from" the value before the first announcement, not from a typo.
CREATE TABLE announcements (
    guild_id   INTEGER NOT NULL REFERENCES guilds (guild_id) ON DELETE CASCADE,
    topic      TEXT NOT NULL,
    channel_id INTEGER NOT NULL,
    message_id INTEGER NOT NULL,
    posted_at  INTEGER NOT NULL,
    before     TEXT,
    PRIMARY KEY (guild_id, topic)
);
