-- The canon corrected against the article (canon version 2), for servers seeded before:
-- each seeded record an admin has not edited takes the corrected text; an edited one is
-- the admin's and stays.  (Records new in version 2 reach those servers by seeding.)
--
-- The director's two statements: only the second was made to the Korea Herald.
UPDATE news SET headline = 'Director Lee Jae-kyoo: the following season will be about the survival of zombies', details = NULL, source_name = 'Director Lee Jae-kyoo (via the article)'
WHERE seed_key = 'director-survival-of-zombies' AND created_by IS NULL AND NOT EXISTS (SELECT 1 FROM audit AS a WHERE a.guild_id = news.guild_id AND a.action = 'news.update' AND a.target = CAST(news.id AS TEXT));

-- The cast's three quotes, as the article gives them.
UPDATE news SET details = 'Yoon Chan-young, who plays Cheong-san, opens it: "Hi everyone, it''s been a while. Thank you for all of the love you''ve shown for All of Us Are Dead." Lomon: "All of Us Are Dead Season 2 has been confirmed. I hope you''ll look forward to the second season." Cho Yi-hyun ends it on a cryptic note: "I wonder what will unfold in All of Us Are Dead Season 2. But I''ll have to leave you here as my friends are waiting for me. Goodbye then." The video confirms the return of Lomon, Cho Yi-hyun and Park Ji-hoo.'
WHERE seed_key = '2022-06-06-cast-video' AND created_by IS NULL AND NOT EXISTS (SELECT 1 FROM audit AS a WHERE a.guild_id = news.guild_id AND a.action = 'news.update' AND a.target = CAST(news.id AS TEXT));

-- The finale as the article tells it; the video confirms the cast's return.
UPDATE characters SET fate_s1 = 'She was slowly giving in to her blood-thirsty desires and, not wanting to hurt her friends or her new crush Su-hyeok, left them behind in the local town. Months later, back at the school, the others learned she was still alive: a halfbie with all the powers of a zombie who retains her humanity. She explained that others live on the outskirts, then turned, said they have arrived, and jumped off the roof.' WHERE key = 'nam-ra' AND updated_by IS NULL;
UPDATE characters SET season2 = 'Cho Yi-hyun ended Netflix''s Season 2 announcement video, which confirms her return. Fans believe Season 2 will explore Cheong-san and Nam-ra''s story.' WHERE key = 'nam-ra' AND updated_by IS NULL;
UPDATE characters SET season2 = 'Lomon confirmed in the announcement video that Season 2 is coming; the video confirms his return.' WHERE key = 'su-hyeok' AND updated_by IS NULL;
UPDATE characters SET season2 = 'The Season 2 announcement video confirms the return of Park Ji-hoo.' WHERE key = 'on-jo' AND updated_by IS NULL;

-- Who has arrived is the bot's own question, not a fan theory the article reports.
UPDATE theories SET title = 'Who has arrived when Nam-ra says they have arrived? Those from the outskirts?', details = 'Nam-ra explains others live on the outskirts, then says they have arrived; the article leaves who arrived open. A question of Halfbie''s own, not a fan theory the article reports.',
    source_name = 'Halfbie''s own question (the article leaves it open)', source_certainty = 'speculation'
WHERE seed_key = 'outskirts-halfbies' AND created_by IS NULL;

-- The article reports that his return is unclear: reported, not speculation.
UPDATE theories SET source_certainty = 'reported' WHERE seed_key = 'byeong-chan-returns' AND created_by IS NULL;
