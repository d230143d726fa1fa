-- Where the premiere date comes from: its source's name, link and certainty (JSON), set
-- with the date.  NULL for a date set before the bot asked, and when there is no date.
ALTER TABLE release ADD COLUMN premiere_source TEXT;
