-- A statement-level canon (canon version 3): every line the bot shows carries its own
-- source, certainty and spoiler level, and the certainty "outside" (the article does not
-- say it: Netflix's cast credits, for example) exists.
--
-- Characters: the role line becomes a statement and the Season 1 and Season 2 texts
-- lists of statements, kept as JSON ({"text", "source": {"name", "certainty", "url",
-- "quote"}, "spoiler", "ko"}); the status, the Hangul name and the actor get a source
-- of their own (JSON).  A card's one source is given to each of its statements, the
-- Season 1 and Season 2 texts are spoilers (as they were shown), and the card's old
-- source columns go.  Seeded cards no admin has edited then take the canon's version 3
-- statements when the seeder brings the server up to it.

ALTER TABLE characters ADD COLUMN hangul_source TEXT;
ALTER TABLE characters ADD COLUMN actor_source TEXT;
ALTER TABLE characters ADD COLUMN status_source TEXT;

UPDATE characters SET
    status_source = json_object('certainty', status_source_certainty, 'name', status_source_name,
                                'quote', NULL, 'url', status_source_url),
    hangul_source = CASE WHEN hangul IS NULL THEN NULL ELSE
        json_object('certainty', source_certainty, 'name', source_name, 'quote', NULL, 'url', source_url) END,
    actor_source = CASE WHEN actor IS NULL THEN NULL ELSE
        json_object('certainty', source_certainty, 'name', source_name, 'quote', NULL, 'url', source_url) END,
    role = json_object('ko', NULL, 'source',
        json_object('certainty', source_certainty, 'name', source_name, 'quote', NULL, 'url', source_url),
        'spoiler', 'none', 'text', role),
    fate_s1 = CASE WHEN fate_s1 IS NULL OR trim(fate_s1) = '' THEN '[]' ELSE json_array(json_object('ko', NULL,
        'source', json_object('certainty', source_certainty, 'name', source_name, 'quote', NULL, 'url', source_url),
        'spoiler', 'finale', 'text', fate_s1)) END,
    season2 = CASE WHEN season2 IS NULL OR trim(season2) = '' THEN '[]' ELSE json_array(json_object('ko', NULL,
        'source', json_object('certainty', source_certainty, 'name', source_name, 'quote', NULL, 'url', source_url),
        'spoiler', 'finale', 'text', season2)) END;

ALTER TABLE characters DROP COLUMN source_name;
ALTER TABLE characters DROP COLUMN source_url;
ALTER TABLE characters DROP COLUMN source_certainty;
ALTER TABLE characters DROP COLUMN status_source_name;
ALTER TABLE characters DROP COLUMN status_source_url;
ALTER TABLE characters DROP COLUMN status_source_certainty;

-- News and theories: the article's words a statement rests on, and its spoiler level
-- (a news item's applies to its details: a headline is shown everywhere).  A spoiler
-- theory has a spoiler-free title for where Discord cannot hide text.  The certainty
-- column is made again to allow "outside" (SQLite cannot change a CHECK in place).
ALTER TABLE news ADD COLUMN source_quote TEXT;
ALTER TABLE news ADD COLUMN spoiler TEXT NOT NULL DEFAULT 'none'
    CHECK (spoiler IN ('none', 'finale', 'later'));
ALTER TABLE news ADD COLUMN certainty_was TEXT;
UPDATE news SET certainty_was = source_certainty;
ALTER TABLE news DROP COLUMN source_certainty;
ALTER TABLE news ADD COLUMN source_certainty TEXT NOT NULL DEFAULT 'reported'
    CHECK (source_certainty IN ('official', 'reported', 'speculation', 'fan_theory', 'outside'));
UPDATE news SET source_certainty = certainty_was;
ALTER TABLE news DROP COLUMN certainty_was;

ALTER TABLE theories ADD COLUMN source_quote TEXT;
ALTER TABLE theories ADD COLUMN spoiler TEXT NOT NULL DEFAULT 'none'
    CHECK (spoiler IN ('none', 'finale', 'later'));
ALTER TABLE theories ADD COLUMN safe_title TEXT;
ALTER TABLE theories ADD COLUMN certainty_was TEXT;
UPDATE theories SET certainty_was = source_certainty;
ALTER TABLE theories DROP COLUMN source_certainty;
ALTER TABLE theories ADD COLUMN source_certainty TEXT NOT NULL DEFAULT 'reported'
    CHECK (source_certainty IN ('official', 'reported', 'speculation', 'fan_theory', 'outside'));
UPDATE theories SET source_certainty = certainty_was;
ALTER TABLE theories DROP COLUMN certainty_was;
