-- A prediction's window: the last day a dated prediction could still come true
-- (Newsweek's "2023 or early 2024" ends on 2024-06-30).  Once it has passed, the release
-- card no longer shows the prediction as the outlook and the timeline marks it "passed
-- without confirmation".  NULL for everything that predicts no date.
ALTER TABLE news ADD COLUMN window_end TEXT
    CHECK (window_end IS NULL OR window_end GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]');

-- The seeded Newsweek item of every server that has it.
UPDATE news SET window_end = '2024-06-30' WHERE seed_key = 'newsweek-2023-early-2024';
