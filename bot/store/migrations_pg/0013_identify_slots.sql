-- Shards over processes: the processes of one bot take turns to IDENTIFY with Discord's
-- gateway (as SQLite's 0013).  Discord allows one IDENTIFY per bucket (shard_id %
-- max_concurrency) every 5 seconds, across all of the bot's processes; a process sends
-- one only after claiming its bucket's row here, which holds when the bucket's last
-- IDENTIFY was sent.  `at` is Unix seconds (with a fraction) by the database's own clock,
-- the one clock every process shares.
CREATE TABLE identify_slots (
    bucket BIGINT PRIMARY KEY CHECK (bucket >= 0),
    at     DOUBLE PRECISION NOT NULL
);
