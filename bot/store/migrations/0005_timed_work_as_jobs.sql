-- Timed work moves to the one scheduler's jobs table.
--
-- Countdown reminders still waiting become 'remind' jobs (key "<server>:<kind>", the
-- premiere they count down to in the payload).  A reminder claimed by a bot that stopped
-- before recording the outcome was "at most once": it is not carried over (it may have
-- been posted).  Sent, failed, dropped and skipped reminders are history the bot no
-- longer reads.  Open polls with a closing time get their 'close_poll' job.
INSERT INTO jobs (kind, key, guild_id, due_at, payload, state)
SELECT 'remind', guild_id || ':' || kind, guild_id, due_at,
       json_object('kind', kind, 'premiere_at', premiere_at), 'pending'
FROM reminders
WHERE state = 'pending';

INSERT INTO jobs (kind, key, guild_id, due_at, payload, state)
SELECT 'close_poll', CAST(id AS TEXT), guild_id, closes_at, json_object('theory_id', id), 'pending'
FROM theories
WHERE status = 'open' AND removed_at IS NULL AND closes_at IS NOT NULL;

DROP TABLE reminders;
