-- Korean texts beside the English ones (canon version 4): each may be empty, and the bot
-- then shows the English with a small "(English only)" mark.  A card's statements carry
-- theirs inside their JSON (a "ko" key, and "name_ko" in a source); what is added here
-- is for the records kept in columns.
ALTER TABLE characters ADD COLUMN actor_ko TEXT;

ALTER TABLE news ADD COLUMN headline_ko TEXT;
ALTER TABLE news ADD COLUMN details_ko TEXT;
ALTER TABLE news ADD COLUMN source_name_ko TEXT;

ALTER TABLE theories ADD COLUMN title_ko TEXT;
ALTER TABLE theories ADD COLUMN details_ko TEXT;
ALTER TABLE theories ADD COLUMN safe_title_ko TEXT;
ALTER TABLE theories ADD COLUMN source_name_ko TEXT;

ALTER TABLE theory_options ADD COLUMN label_ko TEXT;
