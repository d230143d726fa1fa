"""The seeder alone, on a real store: requests coalesce into batches, a command waits for
the batch that holds its server, a server left mid-batch is not taken for seeded, a
failed batch is tried again at the next request, and closing releases every waiter."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable

import pytest

from bot.models import Canon
from bot.seeding import Seeder
from bot.store import Store
from tests.store_fixtures import small_canon


def counting(store: Store, monkeypatch: pytest.MonkeyPatch) -> list[list[int]]:
    """Record the batches handed to the store (and still seed them)."""
    batches: list[list[int]] = []
    seed_many = store.guilds.seed_many

    async def recorded(guild_ids: Iterable[int], canon: Canon) -> list[int]:
        ids = list(guild_ids)
        batches.append(ids)
        return await seed_many(ids, canon)

    monkeypatch.setattr(store.guilds, "seed_many", recorded)
    return batches


async def test_requests_made_together_are_one_batch_and_commands_wait_for_theirs(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    batches = counting(store, monkeypatch)
    seeder = Seeder(store, small_canon())
    await seeder.load()
    for guild_id in range(1, 201):
        seeder.request(guild_id)
    await seeder.ensure(150)  # a command for one of them waits for the batch that holds it
    assert await store.characters.list(150)
    await seeder.idle()
    assert batches == [list(range(1, 201))]
    assert await store.guilds.seeded(small_canon().version) == set(range(1, 201))
    await seeder.ensure(7)  # already seeded: nothing more is written
    assert len(batches) == 1

    again = Seeder(store, small_canon())  # a restart knows them from the store
    await again.load()
    assert again.request(7) is None


async def test_a_failed_batch_is_logged_and_tried_again_at_the_next_request(
    store: Store, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    seed_many = store.guilds.seed_many
    calls: list[list[int]] = []

    async def failing_once(guild_ids: Iterable[int], canon: Canon) -> list[int]:
        calls.append(list(guild_ids))
        if len(calls) == 1:
            raise OSError("disk I/O error")
        return await seed_many(calls[-1], canon)

    monkeypatch.setattr(store.guilds, "seed_many", failing_once)
    seeder = Seeder(store, small_canon())
    await seeder.load()
    with caplog.at_level(logging.ERROR, logger="bot.seeding"):
        await seeder.ensure(5)  # goes on: the failure is logged
    assert "Could not seed 1 servers" in caplog.text
    assert not await store.characters.list(5)
    await seeder.ensure(5)
    assert calls == [[5], [5]]
    assert await store.characters.list(5)


async def test_a_server_left_while_its_batch_runs_is_not_taken_for_seeded(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    gate, running = asyncio.Event(), asyncio.Event()
    seed_many = store.guilds.seed_many
    batches: list[list[int]] = []

    async def held(guild_ids: Iterable[int], canon: Canon) -> list[int]:
        batches.append(list(guild_ids))
        running.set()
        await gate.wait()
        return await seed_many(batches[-1], canon)

    monkeypatch.setattr(store.guilds, "seed_many", held)
    seeder = Seeder(store, small_canon())
    await seeder.load()
    seeder.request(1)
    seeder.request(2)
    await running.wait()
    seeder.forget(2)  # the bot left server 2 while its batch runs
    gate.set()
    await seeder.idle()
    assert seeder.request(1) is None  # seeded
    assert seeder.request(2) is not None  # asked for again, not taken for seeded
    await seeder.idle()
    assert batches == [[1, 2], [2]]


async def test_closing_releases_every_waiter_and_seeds_nothing_more(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    gate = asyncio.Event()
    started = asyncio.Event()

    async def stuck(guild_ids: Iterable[int], canon: Canon) -> list[int]:
        started.set()
        await gate.wait()
        return []

    monkeypatch.setattr(store.guilds, "seed_many", stuck)
    seeder = Seeder(store, small_canon())
    await seeder.load()
    waiting = asyncio.create_task(seeder.ensure(9))
    await started.wait()
    await seeder.close()
    async with asyncio.timeout(5):
        await waiting  # released by close(), not left hanging
    assert seeder.request(10) is None  # closed: no new batch
    gate.set()
