-- Spoiler-free role lines (what a character is, not what happens to them), for servers
-- seeded before: each seeded card no admin has edited takes the new line.  What the
-- article says of Byeong-chan's part in the virus moves to his Season 1 field, which is
-- shown as a spoiler.
UPDATE characters SET role = 'One of the teenagers at the heart of the story; the lead played by Yoon Chan-young.' WHERE key = 'cheong-san' AND updated_by IS NULL;
UPDATE characters SET role = 'One of the teenagers at the heart of the story.' WHERE key = 'nam-ra' AND updated_by IS NULL;
UPDATE characters SET role = 'One of the teenagers at the heart of the story.' WHERE key = 'su-hyeok' AND updated_by IS NULL;
UPDATE characters SET role = 'One of the teenagers at the heart of the story.' WHERE key = 'on-jo' AND updated_by IS NULL;
UPDATE characters SET role = 'One of the teenagers at the heart of the story.' WHERE key = 'mi-jin' AND updated_by IS NULL;
UPDATE characters SET role = 'One of the teenagers at the heart of the story.' WHERE key = 'dae-su' AND updated_by IS NULL;
UPDATE characters SET role = 'One of the teenagers at the heart of the story.' WHERE key = 'ha-ri' AND updated_by IS NULL;
UPDATE characters SET role = 'One of the teenagers at the heart of the story.' WHERE key = 'hyo-ryung' AND updated_by IS NULL;
UPDATE characters SET role = 'The science professor at the school.' WHERE key = 'byeong-chan' AND updated_by IS NULL;
UPDATE characters SET fate_s1 = 'The article calls him the cause of the virus.' WHERE key = 'byeong-chan' AND updated_by IS NULL AND fate_s1 IS NULL;
