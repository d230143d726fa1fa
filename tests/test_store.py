"""The store's queries, aggregate by aggregate."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from pathlib import Path

import aiosqlite
import pytest

from bot.models import (
    Canon,
    Certainty,
    JobKind,
    NewsFields,
    SourceRef,
    Spoiler,
    SpoilerMode,
    Stage,
    Statement,
    Status,
    Tally,
    TheoryFields,
    TheoryStatus,
)
from bot.store import AlreadyExists, NoSuchRecord, Store, StoreError
from tests.store_fixtures import (
    ARTICLE,
    INTEGRITY_ERRORS,
    NETFLIX,
    FakeClock,
    character,
    clock_of,
    count_rows,
    dump,
    small_canon,
    vote_of,
)

GUILD = 1001
ADMIN = 7


def names_in(folder: Path, part: str) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if part in p.name)


def poll(title: str = "Who survives?", *options: str, **extra: object) -> TheoryFields:
    return TheoryFields(title, options or ("A", "B", "C"), ARTICLE, **extra)  # type: ignore[arg-type]


# -- guilds and the seed ----------------------------------------------------------


async def test_seen_left_and_purge(store: Store) -> None:
    clock = clock_of(store)
    assert await store.guilds.seen(1) is True
    assert await store.guilds.seen(1) is False
    await store.guilds.seed_many([1], small_canon())
    only_guild_1 = await count_rows(store)
    # guild 2 gets a row in every table that has one per server
    await store.guilds.seed_many([2], small_canon())
    await store.characters.add(2, ADMIN, character("x", "X"))
    theory = (await store.theories.list(2))[0]
    await store.theories.cast_vote(2, theory.id, 9, 1)

    async def score(conn: aiosqlite.Connection) -> None:
        await conn.execute(
            "INSERT INTO scores (guild_id, theory_id, member_id, points) VALUES (2, ?, 9, 1.5)",
            (theory.id,),
        )

    await store.writer.submit(score)
    await store.guilds.left(2)
    assert await store.guilds.left_at(2) == clock.now
    clock.advance(100)
    await store.guilds.left(1)
    assert await store.guilds.seen(1) is False  # back again: the mark is cleared
    assert await store.guilds.left_at(1) is None
    assert await store.guilds.purge_left_before(int(clock.now)) == [2]
    assert not await store.characters.list(2)
    after = await count_rows(store)
    assert after == only_guild_1  # every row of guild 2 went with it (cascade)
    assert await store.guilds.seen(2) is True  # gone for good
    assert await store.guilds.purge_left_before(int(clock.now) + 10**6) == []


async def test_seed_adds_the_canon_once(store: Store) -> None:
    canon = small_canon()
    assert await store.guilds.seeded(canon.version) == set()
    assert await store.guilds.seed_many([GUILD], canon) == [GUILD]
    assert await store.guilds.seed_many([GUILD], canon) == []
    assert await store.guilds.seeded(canon.version) == {GUILD}
    assert [c.fields.key for c in await store.characters.list(GUILD)] == [
        "nam-ra",
        "cheong-san",
        "on-jo",
    ]  # by name: Choi, Lee, Nam
    assert [c.fields for c in await store.characters.list(GUILD)] == sorted(
        canon.characters, key=lambda c: c.name
    )
    assert {n.fields for n in await store.news.list(GUILD)} == set(canon.news)
    assert {t.fields for t in await store.theories.list(GUILD)} == set(canon.theories)
    assert (await store.release.get(GUILD)).stage == Stage.CONFIRMED
    counts = await count_rows(store)
    assert (counts["guild_settings"], counts["release"], counts["guilds"]) == (1, 1, 1)
    assert counts["theory_options"] == 5
    assert [e.action for e in await store.audit.list(GUILD)] == ["canon.seed"]


async def test_seed_is_idempotent_over_restarts_and_keeps_admin_changes(database: str | Path) -> None:
    path = database
    canon = small_canon()
    store = await Store.open(path)
    await store.guilds.seed_many([GUILD], canon)
    # an admin edits one seeded row and removes others
    edited = dataclasses.replace(
        canon.characters[1], role=Statement("class president", ARTICLE), status=Status.IMMUNE
    )
    await store.characters.update(GUILD, ADMIN, edited)
    await store.characters.remove(GUILD, ADMIN, "nam-ra")
    news = await store.news.list(GUILD)
    await store.news.remove(GUILD, ADMIN, news[0].id)
    theories = await store.theories.list(GUILD)
    await store.theories.delete(GUILD, ADMIN, theories[0].id)
    await store.release.change_stage(GUILD, ADMIN, Stage.IN_PRODUCTION)
    await store.close()
    counts = await count_rows(path)

    # restart: the same canon seeds nothing
    store = await Store.open(path)
    assert await store.guilds.seed_many([GUILD], canon) == []
    await store.close()
    assert await count_rows(path) == counts

    # a newer canon adds only what is new, and undoes nothing
    store = await Store.open(path)
    try:
        assert await store.guilds.seed_many([GUILD], small_canon(2)) == [GUILD]
        assert await store.guilds.seed_many([GUILD], small_canon(2)) == []
        on_jo = await store.characters.get(GUILD, "on-jo")
        assert on_jo is not None
        assert on_jo.fields == edited
        assert await store.characters.get(GUILD, "nam-ra") is None
        assert {c.fields.key for c in await store.characters.list(GUILD)} == {
            "cheong-san",
            "on-jo",
            "su-hyeok",
        }
        assert news[0].id not in {n.id for n in await store.news.list(GUILD)}
        assert await store.news.count(GUILD) == 2  # 2 seeded + 1 new - 1 removed
        assert await store.theories.get(GUILD, theories[0].id) is None
        assert len(await store.theories.list(GUILD)) == 2
        assert (await store.release.get(GUILD)).stage == Stage.IN_PRODUCTION
    finally:
        await store.close()
    after = await count_rows(path)
    assert after["characters"] == counts["characters"] + 1
    assert after["news"] == counts["news"] + 1
    assert after["theories"] == counts["theories"] + 1
    assert after["theory_options"] == counts["theory_options"] + 2


async def test_seed_many_seeds_a_thousand_servers_in_a_few_batches(store: Store) -> None:
    canon = small_canon()
    await store.guilds.seed_many([5], canon)
    batches = store.writer.stats.batches
    seeded = await store.guilds.seed_many(range(1, 1001), canon)
    assert sorted(seeded) == [g for g in range(1, 1001) if g != 5]
    assert store.writer.stats.batches - batches <= 10
    assert len(await store.characters.list(999)) == len(canon.characters)
    assert await store.guilds.seed_many(range(1, 1001), canon) == []


async def test_seed_refuses_a_theory_with_too_few_options(store: Store) -> None:
    canon = dataclasses.replace(
        small_canon(), theories=(TheoryFields("Only one?", ("yes",), ARTICLE, key="one"),)
    )
    with pytest.raises(ValueError, match="2 to 10"):
        await store.guilds.seed_many([GUILD], canon)
    assert not await store.characters.list(GUILD)  # one job: nothing half-seeded


# -- seeding many servers at once (start-up) ---------------------------------------


async def seed_the_old_way(store: Store, guild_id: int, canon: Canon) -> bool:
    """One server at a time, as servers arrive one by one: what seed_many must match row
    for row when it seeds many at once."""
    return bool(await store.guilds.seed_many([guild_id], canon))


def newer_canon() -> Canon:
    """Version 2, in which a poll the servers already have gains an option."""
    canon = small_canon(2)
    theories = tuple(
        dataclasses.replace(t, options=(*t.options, "Unclear")) if t.key == "cheong-san-alive" else t
        for t in canon.theories
    )
    return dataclasses.replace(canon, theories=theories)


async def edit_like_an_admin(store: Store, guild_id: int) -> None:
    """Edits and removals of seeded rows, and rows of the admin's own."""
    on_jo = await store.characters.get(guild_id, "on-jo")
    assert on_jo is not None
    await store.characters.update(
        guild_id, ADMIN, dataclasses.replace(on_jo.fields, role=Statement("class president", ARTICLE))
    )
    await store.characters.remove(guild_id, ADMIN, "nam-ra")
    news = await store.news.list(guild_id)
    await store.news.remove(guild_id, ADMIN, news[0].id)
    await store.news.add(guild_id, ADMIN, NewsFields("Teaser out", "2024-05-01", "2024-05-01", NETFLIX))
    theories = await store.theories.list(guild_id)
    await store.theories.delete(guild_id, ADMIN, theories[0].id)
    await store.theories.cast_vote(guild_id, theories[1].id, 42, 0)
    await store.release.change_stage(guild_id, ADMIN, Stage.IN_PRODUCTION)
    await store.settings.update(guild_id, ADMIN, spoiler_mode="shown")


@pytest.mark.parametrize("per_statement", [None, 7], ids=["one chunk", "chunks of 7"])
async def test_seed_many_matches_seeding_one_by_one_row_for_row(
    database: str | Path,
    another_database: str | Path,
    monkeypatch: pytest.MonkeyPatch,
    per_statement: int | None,
) -> None:
    if per_statement is not None:
        monkeypatch.setattr("bot.store.guilds._IDS_PER_STATEMENT", per_statement)
    old = await Store.open(database, clock=FakeClock())
    new = await Store.open(another_database, clock=FakeClock())
    try:
        # Two servers seeded first and edited by their admins, in both databases alike.
        for guild_id in (5, 7):
            assert await seed_the_old_way(old, guild_id, small_canon())
        assert await new.guilds.seed_many([7, 5], small_canon()) == [7, 5]
        for store in (old, new):
            await edit_like_an_admin(store, 5)
            await edit_like_an_admin(store, 7)
            clock_of(store).advance(60)

        # Start-up: 40 servers, two of them already seeded (given in no particular order).
        ids = [*range(40, 20, -1), *range(1, 21)]
        expected = [g for g in sorted(ids) if await seed_the_old_way(old, g, small_canon())]
        assert sorted(await new.guilds.seed_many(ids, small_canon())) == expected
        assert await dump(old) == await dump(new)

        # A newer canon: everything new for everyone, nothing undone.
        for store in (old, new):
            clock_of(store).advance(3600)
        ids = list(range(1, 46))
        expected = [g for g in ids if await seed_the_old_way(old, g, newer_canon())]
        assert expected == ids
        assert await new.guilds.seed_many(ids, newer_canon()) == ids
        assert await dump(old) == await dump(new)
    finally:
        await old.close()
        await new.close()

    # The admins' work survived both seeds.
    store = await Store.open(another_database)
    try:
        on_jo = await store.characters.get(5, "on-jo")
        assert on_jo is not None
        assert on_jo.fields.role.text == "class president"
        assert await store.characters.get(5, "nam-ra") is None
        assert {c.fields.key for c in await store.characters.list(5)} == {"cheong-san", "on-jo", "su-hyeok"}
        assert len(await store.characters.list(6)) == 4
        assert await store.news.count(5) == 3  # 2 seeded - 1 removed + 1 admin's + 1 new
        assert len(await store.theories.list(5)) == 2  # 2 seeded - 1 removed + 1 new
        assert (await store.release.get(5)).stage == Stage.IN_PRODUCTION
        assert (await store.settings.get(5)).spoiler_mode == SpoilerMode.SHOWN
        # a poll keeps the options it had; a server new to it gets the newer canon's
        options = {t.fields.key: t.fields.options for t in await store.theories.list(5)}
        assert options["cheong-san-alive"] == ("Yes", "No")
        fresh = {t.fields.key: t.fields.options for t in await store.theories.list(45)}
        assert fresh["cheong-san-alive"] == ("Yes", "No", "Unclear")
    finally:
        await store.close()


@pytest.mark.sqlite_only("counts statements with SQLite's trace callback")
async def test_seed_many_of_a_thousand_servers_runs_as_many_statements_as_of_ten(store: Store) -> None:
    canon = small_canon()
    statements: list[str] = []

    async def trace(conn: aiosqlite.Connection) -> None:
        await conn.set_trace_callback(statements.append)

    async def untrace(conn: aiosqlite.Connection) -> None:
        await conn.set_trace_callback(None)

    await store.writer.submit(trace)
    counts = []
    for ids in (range(1, 11), range(11, 1011)):
        statements.clear()
        batches, jobs = store.writer.stats.batches, store.writer.stats.jobs
        assert await store.guilds.seed_many(ids, canon) == list(ids)
        counts.append(len(statements))
        # one writer job, committed in one transaction
        assert (store.writer.stats.batches - batches, store.writer.stats.jobs - jobs) == (1, 1)
    await store.writer.submit(untrace)
    assert counts[0] == counts[1], statements
    # BEGIN, a statement per table, one per table refreshing servers seeded from an older
    # canon, the update, COMMIT
    assert counts[0] <= 20
    assert len(await store.characters.list(1010)) == len(canon.characters)


async def test_seed_many_is_idempotent_over_a_second_call_and_a_restart(database: str | Path) -> None:
    path = database
    canon = small_canon()
    ids = list(range(1, 301))
    store = await Store.open(path, clock=FakeClock())
    try:
        assert await store.guilds.seed_many(ids, canon) == ids
        counts = await count_rows(path)
        assert counts["characters"] == 300 * len(canon.characters)
        assert counts["theory_options"] == 300 * 5
        assert counts["audit"] == 300
        assert await store.guilds.seed_many(ids, canon) == []
        assert await count_rows(path) == counts
    finally:
        await store.close()
    store = await Store.open(path, clock=FakeClock())
    try:
        assert await store.guilds.seeded(canon.version) == set(ids)
        assert await store.guilds.seed_many([*ids, 301], canon) == [301]
        assert await store.guilds.seed_many([], canon) == []
    finally:
        await store.close()
    after = await count_rows(path)
    assert after["characters"] == counts["characters"] + len(canon.characters)
    assert after["audit"] == counts["audit"] + 1


async def test_seed_many_brings_back_a_server_the_bot_had_left_and_adds_nothing(store: Store) -> None:
    canon = small_canon()
    assert await store.guilds.seed_many([1, 2], canon) == [1, 2]
    await store.guilds.left(1)
    assert await store.guilds.seeded(canon.version) == {2}
    before = await count_rows(store)
    assert await store.guilds.seed_many([1, 2], canon) == []
    assert await store.guilds.left_at(1) is None
    assert await store.guilds.seeded(canon.version) == {1, 2}
    assert await count_rows(store) == before


async def test_seed_many_forgets_reads_cached_before_it(store: Store) -> None:
    assert not await store.characters.list(GUILD)  # read (and cached) before the seed
    assert (await store.settings.get(GUILD)).spoiler_mode == SpoilerMode.HIDDEN
    assert await store.guilds.seed_many([GUILD], small_canon()) == [GUILD]
    assert len(await store.characters.list(GUILD)) == 3


async def test_seed_many_checks_the_canon_before_writing_anything(store: Store) -> None:
    canon = dataclasses.replace(
        small_canon(), theories=(TheoryFields("Only one?", ("yes",), ARTICLE, key="one"),)
    )
    with pytest.raises(ValueError, match="2 to 10"):
        await store.guilds.seed_many([1, 2, 3], canon)
    assert (await count_rows(store))["guilds"] == 0


# -- settings ---------------------------------------------------------------------


async def test_settings_default_then_update(store: Store) -> None:
    settings = await store.settings.get(GUILD)
    assert settings.spoiler_mode == SpoilerMode.HIDDEN
    assert settings.admin_role_id is None
    updated = await store.settings.update(GUILD, ADMIN, admin_role_id=55, spoiler_mode="shown")
    assert updated.admin_role_id == 55
    assert updated.spoiler_mode is SpoilerMode.SHOWN
    assert await store.settings.get(GUILD) == updated
    assert await store.settings.update(GUILD, ADMIN, admin_role_id=55) == updated  # no change
    entries = await store.audit.list(GUILD, "settings.")
    assert len(entries) == 1
    assert json.loads(entries[0].old or "") == {"admin_role_id": None, "spoiler_mode": "hidden"}
    assert json.loads(entries[0].new or "") == {"admin_role_id": 55, "spoiler_mode": "shown"}
    with pytest.raises(TypeError):
        await store.settings.update(GUILD, ADMIN, colour="red")
    with pytest.raises(ValueError):  # noqa: PT011
        await store.settings.update(GUILD, ADMIN, language="fr")


# -- characters -------------------------------------------------------------------


async def test_characters_add_get_list_update(store: Store) -> None:
    clock = clock_of(store)
    first = character("gwi-nam", "Yoon Gwi-nam", Status.ZOMBIE, aliases=("Gwinam", "귀남"))
    added = await store.characters.add(GUILD, ADMIN, first)
    assert added.fields == first
    assert added.updated_by == ADMIN
    assert await store.characters.get(GUILD, "gwi-nam") == added
    assert await store.characters.get(GUILD + 1, "gwi-nam") is None
    with pytest.raises(AlreadyExists):
        await store.characters.add(GUILD, ADMIN, first)
    await store.characters.add(GUILD, ADMIN, character("a", "an alive one"))
    assert [c.fields.key for c in await store.characters.list(GUILD)] == ["a", "gwi-nam"]
    assert [c.fields.key for c in await store.characters.list(GUILD, Status.ZOMBIE)] == ["gwi-nam"]

    clock.advance(60)
    changed = dataclasses.replace(first, actor="Yoo In-soo", notes="from the article")
    updated = await store.characters.update(GUILD, ADMIN + 1, changed)
    assert updated.fields == changed
    assert updated.updated_at == clock.now
    entry = (await store.audit.list(GUILD, "character.update"))[0]
    assert entry.target == "gwi-nam"
    assert entry.actor_id == ADMIN + 1
    assert json.loads(entry.old or "") == {"actor": None, "notes": None}
    assert json.loads(entry.new or "") == {"actor": "Yoo In-soo", "notes": "from the article"}
    with pytest.raises(NoSuchRecord):
        await store.characters.update(GUILD, ADMIN, character("nobody", "Nobody"))


async def test_characters_set_status_remove_restore(store: Store) -> None:
    await store.characters.add(GUILD, ADMIN, character("su-hyeok", "Lee Su-hyeok"))
    source = SourceRef("Netflix trailer", Certainty.OFFICIAL, "https://example.org/t")
    changed = await store.characters.set_status(GUILD, ADMIN, "su-hyeok", Status.HALFBIE, source)
    assert changed.fields.status is Status.HALFBIE
    assert changed.fields.status_source == source
    assert changed.fields.role.source == ARTICLE  # the role line keeps its own source

    await store.characters.remove(GUILD, ADMIN, "su-hyeok")
    assert await store.characters.get(GUILD, "su-hyeok") is None
    removed = await store.characters.get(GUILD, "su-hyeok", include_removed=True)
    assert removed is not None
    assert removed.removed_at is not None
    assert [c.fields.key for c in await store.characters.list_removed(GUILD)] == ["su-hyeok"]
    assert not await store.characters.list(GUILD)
    with pytest.raises(NoSuchRecord):
        await store.characters.remove(GUILD, ADMIN, "su-hyeok")
    with pytest.raises(NoSuchRecord):
        await store.characters.set_status(GUILD, ADMIN, "su-hyeok", Status.ALIVE, source)
    with pytest.raises(AlreadyExists) as caught:
        await store.characters.add(GUILD, ADMIN, character("su-hyeok", "Again"))
    assert caught.value.removed is True

    restored = await store.characters.restore(GUILD, ADMIN, "su-hyeok")
    assert restored.removed_at is None
    assert restored.fields.status is Status.HALFBIE
    with pytest.raises(NoSuchRecord):
        await store.characters.restore(GUILD, ADMIN, "su-hyeok")
    actions = [e.action for e in await store.audit.list(GUILD, "character.")]
    assert actions == [
        "character.restore",
        "character.remove",
        "character.status",
        "character.add",
    ]


async def test_every_enum_value_round_trips_and_the_schema_rejects_others(store: Store) -> None:
    for status in Status:
        for certainty in Certainty:
            key = f"{status.value}-{certainty.value}"
            source = SourceRef("s", certainty, quote="q")
            spoiler = list(Spoiler)[len(key) % len(Spoiler)]
            fields = character(
                key,
                key,
                status,
                role=Statement("r", source),
                status_source=source,
                season2=(Statement("a", source, spoiler, ko="가"), Statement("b", source)),
                hangul="가",
            )
            assert (await store.characters.add(GUILD, ADMIN, fields)).fields == fields
            assert (await store.characters.get(GUILD, key)).fields == fields  # type: ignore[union-attr]
            news = NewsFields("n", None, "2022-01-01", source, spoiler=spoiler)
            assert (await store.news.add(GUILD, ADMIN, news)).fields == news
    for stage in Stage:
        assert (await store.release.change_stage(GUILD, ADMIN, stage)).release.stage is stage
    for mode in SpoilerMode:
        assert (await store.settings.update(GUILD, ADMIN, spoiler_mode=mode)).spoiler_mode is mode

    async def bad(conn: aiosqlite.Connection) -> None:
        await conn.execute("UPDATE characters SET status = 'vampire'")

    with pytest.raises(INTEGRITY_ERRORS, match=r"CHECK|check constraint"):
        await store.writer.submit(bad)


# -- news and release -------------------------------------------------------------


async def test_news_newest_first_with_paging(store: Store) -> None:
    dated = [
        NewsFields("old", "2022-01-28", "2022-01-28", NETFLIX),
        NewsFields("undated, reported later", None, "2023-05-01", ARTICLE),
        NewsFields("newest", "2024-02-02", "2024-02-03", ARTICLE, details="d"),
        NewsFields("same day, added later", "2022-01-28", "2022-01-30", ARTICLE),
    ]
    ids = [(await store.news.add(GUILD, ADMIN, f)).id for f in dated]
    expected = ["newest", "undated, reported later", "same day, added later", "old"]
    assert [n.fields.headline for n in await store.news.list(GUILD)] == expected
    assert [n.fields.headline for n in await store.news.list(GUILD, limit=2)] == expected[:2]
    page = await store.news.list(GUILD, limit=2, offset=2)
    assert [n.fields.headline for n in page] == expected[2:]
    assert [n.fields.headline for n in await store.news.list(GUILD, offset=3)] == expected[3:]
    assert await store.news.count(GUILD) == 4
    assert await store.news.count(GUILD + 1) == 0
    got = await store.news.get(GUILD, ids[2])
    assert got is not None
    assert got.fields == dated[2]
    assert got.created_by == ADMIN
    assert await store.news.get(GUILD + 1, ids[2]) is None


async def test_news_update_and_remove(store: Store) -> None:
    await store.guilds.seed_many([GUILD], small_canon())
    seeded = next(n for n in await store.news.list(GUILD) if n.fields.key == "s2-filming")
    edit = dataclasses.replace(seeded.fields, happened_on="2023-01-09", key=None)
    updated = await store.news.update(GUILD, ADMIN, seeded.id, edit)
    assert updated.fields.happened_on == "2023-01-09"
    assert updated.fields.key == "s2-filming"  # the seed key stays, so a re-seed skips it
    assert await store.news.get(GUILD, seeded.id) == updated
    await store.news.remove(GUILD, ADMIN, seeded.id)
    assert await store.news.get(GUILD, seeded.id) is None
    with pytest.raises(NoSuchRecord):
        await store.news.remove(GUILD, ADMIN, seeded.id)
    with pytest.raises(NoSuchRecord):
        await store.news.update(GUILD, ADMIN, seeded.id, edit)
    with pytest.raises(AlreadyExists):
        await store.news.add(GUILD, ADMIN, dataclasses.replace(edit, key="s2-confirmed"))
    assert [e.action for e in await store.audit.list(GUILD, "news.")] == [
        "news.remove",
        "news.update",
    ]


async def test_release_stage_and_premiere(store: Store) -> None:
    release = await store.release.get(GUILD)
    assert release.stage is Stage.RUMOURED
    assert release.premiere_at is None
    dated = (await store.release.change_premiere(GUILD, ADMIN, 1_800_000_000)).release
    assert dated.premiere_at == 1_800_000_000
    assert dated.stage is Stage.RUMOURED
    staged = (await store.release.change_stage(GUILD, ADMIN, Stage.DATED)).release
    assert staged.premiere_at == 1_800_000_000
    assert await store.release.get(GUILD) == staged
    cleared = (await store.release.change_premiere(GUILD, ADMIN, None)).release
    assert cleared.premiere_at is None
    entries = await store.audit.list(GUILD, "release.")
    assert [e.action for e in entries] == ["release.premiere", "release.stage", "release.premiere"]
    assert json.loads(entries[0].old or "") == {"premiere_at": 1_800_000_000}


# -- theories and votes -------------------------------------------------------------


async def test_theory_create_get_list_set_message(store: Store) -> None:
    fields = poll("Does the school survive?", "Yes", "No", sealed=True, closes_at=1_700_086_400)
    theory = await store.theories.create(GUILD, ADMIN, fields)
    assert theory.status is TheoryStatus.OPEN
    assert await store.theories.get(GUILD, theory.id) == theory
    assert await store.theories.get(GUILD + 1, theory.id) is None
    second = await store.theories.create(GUILD, ADMIN, poll())
    assert [t.id for t in await store.theories.list(GUILD)] == [second.id, theory.id]
    await store.theories.post_message(GUILD, theory.id, 11, 12, "shown")
    posted = await store.theories.get(GUILD, theory.id)
    assert posted is not None
    assert (posted.channel_id, posted.message_id) == (11, 12)
    with pytest.raises(NoSuchRecord):
        await store.theories.post_message(GUILD + 1, theory.id, 1, 2, "shown")
    with pytest.raises(ValueError, match="2 to 10"):
        await store.theories.create(GUILD, ADMIN, poll("Too many", *map(str, range(11))))
    await store.theories.create(GUILD, ADMIN, poll(key="k"))
    with pytest.raises(AlreadyExists):
        await store.theories.create(GUILD, ADMIN, poll(key="k"))


async def test_votes_replace_and_retract(store: Store) -> None:
    clock = clock_of(store)
    theory = await store.theories.create(GUILD, ADMIN, poll())
    assert await store.theories.cast_vote(GUILD, theory.id, 500, 0) == 0
    clock.advance(5)
    assert await store.theories.cast_vote(GUILD, theory.id, 500, 2) == 2
    assert await store.theories.cast_vote(GUILD, theory.id, 501, 2) == 2
    assert await vote_of(store, GUILD, theory.id, 500) == 2
    assert await store.theories.tally(GUILD, theory.id) == Tally(theory.id, (0, 0, 2))
    votes = await store.theories.votes_of_member(GUILD, 500)
    assert [(v.theory_id, v.option, v.voted_at) for v in votes] == [(theory.id, 2, int(clock.now))]
    assert await store.theories.retract_vote(GUILD, theory.id, 500) is True
    assert await store.theories.retract_vote(GUILD, theory.id, 500) is False
    assert await vote_of(store, GUILD, theory.id, 500) is None
    assert (await store.theories.tally(GUILD, theory.id)).total == 1
    # an option the poll does not have, or another server's id: nothing written
    assert await store.theories.cast_vote(GUILD, theory.id, 502, 3) is None
    assert await store.theories.cast_vote(GUILD, theory.id, 502, -1) is None
    assert await store.theories.cast_vote(GUILD + 1, theory.id, 502, 0) is None
    assert await store.theories.cast_vote(GUILD, 999_999, 502, 0) is None
    assert await vote_of(store, GUILD, theory.id, 502) is None
    with pytest.raises(NoSuchRecord):
        await store.theories.tally(GUILD + 1, theory.id)


async def test_a_thousand_members_voting_at_once(store: Store) -> None:
    theory = await store.theories.create(GUILD, ADMIN, poll())
    batches = store.writer.stats.batches
    results = await asyncio.gather(
        *(store.theories.cast_vote(GUILD, theory.id, 10_000 + m, m % 3) for m in range(1000))
    )
    assert results == [m % 3 for m in range(1000)]
    assert await store.theories.tally(GUILD, theory.id) == Tally(theory.id, (334, 333, 333))
    assert store.writer.stats.batches - batches <= 10
    assert (await count_rows(store))["votes"] == 1000


async def test_one_member_voting_fifty_times_at_once_keeps_one_vote(store: Store) -> None:
    theory = await store.theories.create(GUILD, ADMIN, poll())
    choices = [(i * 7) % 3 for i in range(50)]
    results = await asyncio.gather(
        *(store.theories.cast_vote(GUILD, theory.id, 77, option) for option in choices)
    )
    assert results == choices  # each call answers with the vote it recorded
    # the writer runs jobs in the order submitted, so the last call is the last commit
    assert await vote_of(store, GUILD, theory.id, 77) == choices[-1]
    assert (await store.theories.tally(GUILD, theory.id)).total == 1


async def test_a_closed_poll_takes_no_votes(store: Store) -> None:
    clock = clock_of(store)
    theory = await store.theories.create(GUILD, ADMIN, poll())
    await store.theories.cast_vote(GUILD, theory.id, 1, 1)
    closed = (await store.theories.close_poll(GUILD, ADMIN, theory.id))[0]
    assert closed.status is TheoryStatus.CLOSED
    assert (await store.theories.close_poll(GUILD, None, theory.id))[0] == closed  # no change
    before = await count_rows(store)
    assert await store.theories.cast_vote(GUILD, theory.id, 2, 0) is None
    assert await store.theories.cast_vote(GUILD, theory.id, 1, 0) is None  # no change of mind
    assert await store.theories.retract_vote(GUILD, theory.id, 1) is False
    assert await count_rows(store) == before
    assert await vote_of(store, GUILD, theory.id, 1) == 1
    assert [e.action for e in await store.audit.list(GUILD, "theory.close")] == ["theory.close"]
    with pytest.raises(NoSuchRecord):
        (await store.theories.close_poll(GUILD, ADMIN, 123_456))[0]

    # past its closing time a poll takes no votes, even before the scheduler closes it
    timed = await store.theories.create(GUILD, ADMIN, poll(closes_at=int(clock.now) + 60))
    assert await store.theories.cast_vote(GUILD, timed.id, 3, 0) == 0
    clock.advance(60)
    assert await store.theories.cast_vote(GUILD, timed.id, 4, 0) is None
    # a removed poll takes none either
    removed = await store.theories.create(GUILD, ADMIN, poll())
    await store.theories.delete(GUILD, ADMIN, removed.id)
    assert await store.theories.cast_vote(GUILD, removed.id, 3, 0) is None
    with pytest.raises(NoSuchRecord):
        await store.theories.delete(GUILD, ADMIN, removed.id)


async def test_a_poll_with_a_closing_time_has_its_close_job_committed_with_it(store: Store) -> None:
    clock = clock_of(store)
    now = int(clock.now)
    later = await store.theories.create(1, ADMIN, poll("later", closes_at=now + 120))
    soon = await store.theories.create(2, ADMIN, poll("soon", closes_at=now + 60))
    never = await store.theories.create(1, ADMIN, poll("never"))
    gone = await store.theories.create(3, ADMIN, poll("deleted", closes_at=now + 30))
    await store.theories.delete(3, ADMIN, gone.id)
    jobs = {t.id: await store.jobs.get(JobKind.CLOSE_POLL, str(t.id)) for t in (later, soon, never, gone)}
    assert jobs[never.id] is None
    assert jobs[gone.id] is None  # deleting cancels it
    assert [(j.guild_id, j.due_at) for j in (jobs[soon.id], jobs[later.id]) if j] == [
        (2, now + 60),
        (1, now + 120),
    ]
    # An admin closing it first cancels the job; the result card is a job of its own.
    await store.theories.close_poll(2, ADMIN, soon.id)
    assert await store.jobs.get(JobKind.CLOSE_POLL, str(soon.id)) is None
    [entry] = await store.audit.list(2, "theory.close")
    card = await store.jobs.get(JobKind.POLL_RESULT, f"{soon.id}:{entry.id}")
    assert card is not None
    assert (card.state, card.due_at, dict(card.payload)) == ("pending", now, {"theory_id": soon.id})
    # The scheduler's close completes its job in the same transaction.
    clock.advance(120)
    [job] = await store.jobs.claim_due(now + 120, "test", kinds=[JobKind.CLOSE_POLL], lease=60, limit=5)
    theory, closed = await store.theories.close_poll(1, None, later.id, job=job)
    assert closed
    assert theory.status is TheoryStatus.CLOSED
    done = await store.jobs.get(JobKind.CLOSE_POLL, str(later.id))
    assert done is not None
    assert done.state == "done"


# -- audit and meta -----------------------------------------------------------------


async def test_audit_list_count_prefix_and_paging(store: Store) -> None:
    for i in range(15):  # 15 settings changes and 15 theories: 30 entries
        await store.settings.update(GUILD, ADMIN, spoiler_mode="hidden" if i % 2 else "shown")
        await store.theories.create(GUILD, ADMIN, poll(f"t{i}"))
    await store.settings.update(GUILD + 1, ADMIN, language="ko")
    assert await store.audit.count(GUILD) == 30
    assert await store.audit.count(GUILD, "theory.") == 15
    assert await store.audit.count(GUILD, "theory_") == 0  # "_" is not a wildcard
    assert await store.audit.count(GUILD, "theory%") == 0
    page = await store.audit.list(GUILD, "theory.", limit=10, offset=5)
    assert [json.loads(e.new or "{}")["title"] for e in page] == [f"t{i}" for i in range(9, -1, -1)]
    assert len(await store.audit.list(GUILD)) == 25
    other = await store.audit.list(GUILD + 1)
    assert [(e.action, e.new) for e in other] == [("settings.update", '{"language": "ko"}')]


async def test_meta_get_set_delete(store: Store) -> None:
    assert await store.meta.get("commands.hash") is None
    await store.meta.set("commands.hash", "abc")
    await store.meta.set("commands.hash", "def")
    assert await store.meta.get("commands.hash") == "def"
    assert await store.meta.delete("commands.hash") is True
    assert await store.meta.delete("commands.hash") is False


# -- backup, and the plans of the hot queries ------------------------------------------


@pytest.mark.sqlite_only("SQLite's online backup; PostgreSQL is backed up with pg_dump")
async def test_backup_is_a_sound_copy_and_never_overwrites(store: Store, tmp_path: Path) -> None:
    await store.guilds.seed_many([GUILD], small_canon())
    dest = await store.backup(tmp_path / "backup.db")
    copy = await Store.open(dest)
    try:
        assert len(await copy.characters.list(GUILD)) == 3
    finally:
        await copy.close()
    with pytest.raises(StoreError, match="already there"):
        await store.backup(dest)
    assert names_in(tmp_path, "backup") == ["backup.db"]  # no partial file left behind


@pytest.mark.parametrize(
    ("sql", "index"),
    [
        (
            "SELECT id FROM news WHERE guild_id = 1 AND removed_at IS NULL "
            "ORDER BY COALESCE(happened_on, reported_on) DESC, id DESC",
            "news_by_guild_date",
        ),
        ("SELECT id FROM audit WHERE guild_id = 1 ORDER BY id DESC LIMIT 25", "audit_by_guild"),
        ("SELECT * FROM votes WHERE guild_id = 1 AND member_id = 2", "votes_by_member"),
        ("SELECT option_position FROM votes WHERE theory_id = 1", "PRIMARY KEY"),
        (
            "SELECT id FROM theories WHERE status = 'open' AND closes_at IS NOT NULL "
            "AND removed_at IS NULL AND closes_at <= 5",
            "theories_due",
        ),
    ],
)
@pytest.mark.sqlite_only("SQLite's EXPLAIN QUERY PLAN")
async def test_hot_queries_use_an_index(store: Store, sql: str, index: str) -> None:
    plan = " ".join(row[3] for row in await store._reader.execute_fetchall(f"EXPLAIN QUERY PLAN {sql}"))
    assert index in plan, plan
    assert "TEMP B-TREE" not in plan, plan
