-- Polls fans ask for (issue 16): a poll may take up to `max_choices` answers from each
-- member (1, the default, is the old one-answer poll), may be limited to members with
-- one role (`voter_role_id`), and may ping one role when it opens and when its result is
-- posted (`ping_role_id`).  A member's answers are rows of `votes`, one per chosen
-- option, so the primary key grows by the option: SQLite rebuilds the table (nothing
-- references it; its own foreign keys stay as they were).
ALTER TABLE theories ADD COLUMN max_choices INTEGER NOT NULL DEFAULT 1
    CHECK (max_choices BETWEEN 1 AND 10);
ALTER TABLE theories ADD COLUMN voter_role_id INTEGER;
ALTER TABLE theories ADD COLUMN ping_role_id INTEGER;

CREATE TABLE votes_0014 (
    theory_id       INTEGER NOT NULL,
    member_id       INTEGER NOT NULL,
    guild_id        INTEGER NOT NULL,
    option_position INTEGER NOT NULL,
    voted_at        INTEGER NOT NULL,
    PRIMARY KEY (theory_id, member_id, option_position),
    FOREIGN KEY (guild_id, theory_id) REFERENCES theories (guild_id, id) ON DELETE CASCADE,
    FOREIGN KEY (theory_id, option_position) REFERENCES theory_options (theory_id, position)
        ON DELETE CASCADE
) WITHOUT ROWID;
INSERT INTO votes_0014 (theory_id, member_id, guild_id, option_position, voted_at)
    SELECT theory_id, member_id, guild_id, option_position, voted_at FROM votes;
DROP TABLE votes;
ALTER TABLE votes_0014 RENAME TO votes;
CREATE INDEX votes_by_member ON votes (guild_id, member_id);
