-- Polls fans ask for (issue 16), as SQLite's 0014: up to `max_choices` answers a member
-- (1 by default), an optional voter role and ping role; a member's answers are rows of
-- `votes`, one per chosen option, so the primary key grows by the option.
ALTER TABLE theories ADD COLUMN max_choices BIGINT NOT NULL DEFAULT 1
    CHECK (max_choices BETWEEN 1 AND 10);
ALTER TABLE theories ADD COLUMN voter_role_id BIGINT;
ALTER TABLE theories ADD COLUMN ping_role_id BIGINT;

ALTER TABLE votes DROP CONSTRAINT votes_pkey;
ALTER TABLE votes ADD PRIMARY KEY (theory_id, member_id, option_position);
