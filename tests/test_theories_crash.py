"""The bot killed with SIGKILL in the middle of a burst of votes, then started again:
every answered vote is there, the old buttons work, and the tally is corrected at start.

The bot runs as ``python -m bot`` in a subprocess against the offline Discord, as the
host runs it; nothing in it is mocked.
"""

from __future__ import annotations

import asyncio
import inspect
import os
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path

from tests.fakediscord import FakeDiscord, FakeGuild, FakeMember, InteractionResult
from tests.store_fixtures import read_outside
from tests.test_theories import shown_counts

ROOT = Path(__file__).resolve().parent.parent
BURST = 1000
IN_FLIGHT = 20  # clicks the steady stream leaves unanswered at most


async def until(check: Callable[[], object], timeout: float, what: str) -> None:  # noqa: ASYNC109
    """Wait until ``check()`` (or what it returns, if awaitable) is truthy."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if inspect.isawaitable(result):
            result = await result
        if result:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        await asyncio.sleep(0.005)


async def votes(db: str | Path, theory_id: int) -> dict[int, int]:
    sql = "SELECT member_id, option_position FROM votes WHERE theory_id = ?"
    return {int(m): int(o) for m, o in await read_outside(db, sql, (theory_id,))}


async def start(fake: FakeDiscord, db: str | Path) -> asyncio.subprocess.Process:
    """``python -m bot`` on the SQLite file ``db``, or the PostgreSQL database at ``db``."""
    env = {
        **{k: v for k, v in fake.env().items() if not k.startswith("HALFBIE_DB")},
        "DISCORD_TOKEN": fake.token,
        ("HALFBIE_DB" if isinstance(db, Path) else "HALFBIE_DATABASE_URL"): str(db),
        "HALFBIE_LOG_LEVEL": "WARNING",
    }
    identified = len(fake.identify_times)
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", cwd=ROOT, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    await until(lambda: len(fake.identify_times) > identified, 30, "the bot to connect")
    await fake.wait_ready(timeout=30)
    return proc


async def test_sigkill_in_a_burst_loses_no_answered_vote_and_the_tally_is_fixed_at_start(
    fake_discord: FakeDiscord, guild: FakeGuild, database: str | Path
) -> None:
    fake = fake_discord
    db = database
    members = [guild.add_member(f"fan{i}") for i in range(BURST + 1)]
    late_fan = members.pop()
    proc = await start(fake, db)
    try:
        choices = await fake.autocomplete(
            guild, members[0], "theory show", focused="theory", theory="science professor", timeout=10
        )
        theory_id = int(choices[0]["value"])
        posted = await fake.slash(guild, guild.owner, "theory show", theory=str(theory_id))
        await posted.response(timeout=10)
        message = posted.message
        assert message is not None
        assert len(shown_counts(message)) == 3

        results: list[InteractionResult] = []

        def answered() -> list[InteractionResult]:
            return [r for r in results if r.type is not None]

        def in_flight() -> int:
            return len(results) - len(answered())

        async def click(i: int, m: FakeMember) -> None:
            results.append(await fake.click(guild, m, message, f"poll:{theory_id}:{i % 3}"))

        # A steady stream first, never more than IN_FLIGHT clicks unanswered: a slow machine
        # slows the stream down instead of piling up clicks the bot cannot answer in time,
        # and the stream stops once a tenth of the burst is answered (whatever the speed).
        stream = iter(enumerate(members))
        for i, m in stream:
            await until(lambda: in_flight() < IN_FLIGHT, 30, "the bot to keep up with the stream")
            await click(i, m)
            if len(answered()) >= BURST // 10:
                break
        steady = len(results)
        # Then all the rest at once, and SIGKILL as soon as the bot has answered the first
        # of them: the kill lands while the bot is in the middle of hundreds of votes.
        for i, m in stream:
            await click(i, m)
        await until(
            lambda: any(r.type is not None for r in results[steady:]), 30, "a first answer in the burst"
        )
        proc.kill()  # SIGKILL: no handler runs, nothing is flushed
        await proc.wait()
        kept = answered()
        shown_before = shown_counts(message)
        assert BURST // 10 <= len(kept) < len(results), "the kill must land inside the burst"
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()

    proc = await start(fake, db)
    try:
        # Every vote whose click was answered was committed before the answer.
        stored = await votes(db, theory_id)
        clicked = {r.member.id: int(r.payload["data"]["custom_id"].split(":")[2]) for r in kept}  # type: ignore[union-attr]
        assert {m: stored.get(m) for m in clicked} == clicked
        # At start the bot finds the message behind the database and corrects it.
        expected = [sum(1 for o in stored.values() if o == n) for n in range(3)]
        await until(lambda: shown_counts(message) == expected, 10, f"the tally {expected}")
        # The buttons of the message posted before the crash still work.
        late = await fake.click(guild, late_fan, message, f"poll:{theory_id}:2")
        await late.response(timeout=10)
        assert late.ephemeral
        assert "3. Not sure" in (late.content or "")
        expected[2] += 1
        await until(lambda: shown_counts(message) == expected, 10, f"the tally {expected}")
    finally:
        proc.send_signal(signal.SIGTERM)
        output, _ = await asyncio.wait_for(proc.communicate(), timeout=30)
    assert proc.returncode == 0, output.decode()
    assert "Traceback" not in output.decode()
    if isinstance(db, Path):
        assert await read_outside(db, "PRAGMA integrity_check") == [("ok",)]
        assert not os.path.exists(f"{db}-wal") or os.path.getsize(f"{db}-wal") == 0
    print(
        f"\nSIGKILL after {len(kept)} answers, {len(results)} clicks sent; "
        f"{len(stored)} votes committed; "
        f"the message showed {shown_before}, corrected at start to {expected}"
    )
