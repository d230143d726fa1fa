"""Two shard processes on one PostgreSQL database, one of them SIGKILLed in the middle of a
burst of votes and started again, as the host runs them.

``python -m bot run --shards 0-1 --shard-count 4`` and ``--shards 2-3`` run in subprocesses
against the offline Discord (four shards, servers spread over them by
``(guild_id >> 22) % 4``) and one fresh PostgreSQL database.  A thousand members vote on
the polls of eight servers, two on each shard; the first process is killed with SIGKILL
(no handler runs, nothing is flushed) once it has answered a click of the burst.  While
it is down, reminders and poll closes come due on every server (put in the database
already due, through the store, so nothing waits for a schedule): the surviving process
runs its own servers' and never the dead one's.  Started again, the first process runs
its servers' jobs once, and corrects its polls' messages.

Every click answered "counted" is a stored vote, every poll message shows exactly the
stored votes, every reminder and close due during the outage happened exactly once (one
post, one close, one result card), and no poll was closed twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import signal
import sys
import time
from collections import Counter
from dataclasses import dataclass, field

from bot.canon import load_canon
from bot.models import JobKind, NewJob, Reminder, ReminderKind
from bot.shards import shard_of
from bot.store import Store
from cogs.theories._polls import service
from tests.conftest import BotRunner
from tests.fakediscord import FakeChannel, FakeDiscord, FakeGuild, FakeMember, FakeMessage, InteractionResult
from tests.fakediscord.server import ENV_TOKEN, ENV_URL
from tests.store_fixtures import read_outside
from tests.test_shards import servers, shards, start, start_both  # noqa: F401  (shards: a fixture)
from tests.test_theories import shown_counts
from tests.test_theories_crash import IN_FLIGHT, ROOT, until, votes

SHARD_COUNT = 4
FIRST, SECOND = "0-1", "2-3"  # the processes' shards: the first is the one killed
PER_SHARD = 2  # servers on each shard
MEMBERS = 1000  # voters, spread evenly over the servers
OPTIONS = 3  # the burst poll's (Agree / Disagree / Not sure)
BURST_POLL = "byeong-chan-returns"  # the seeded theory everyone votes on
TIMED_POLL = "cheong-san-immune"  # closed by its job during the outage
WAKE_POLL = "mi-jin-dae-su-return"  # closed by an admin of the surviving process's server
COUNTED = "Your vote on this theory is now"  # theory.voted
TIMED_KINDS = (JobKind.REMIND, JobKind.CLOSE_POLL, JobKind.POLL_RESULT)


def owner(ids: str) -> str:
    """The scheduler's name for a process's claims (bot.scheduler.owner_name)."""
    return f"halfbie:{ids}/{SHARD_COUNT}"


def shards_of(guild: FakeGuild) -> str:
    return FIRST if shard_of(guild.id, SHARD_COUNT) in (0, 1) else SECOND


@dataclass
class BotProcess:
    """``python -m bot run --shards ...``, its output (JSON log lines) read as it comes."""

    ids: str  # the shards it runs
    proc: asyncio.subprocess.Process
    lines: list[str] = field(default_factory=list)
    reader: asyncio.Task[None] | None = None

    async def _drain(self) -> None:
        assert self.proc.stdout is not None
        async for raw in self.proc.stdout:
            self.lines.append(raw.decode(errors="replace").rstrip("\n"))

    def check_alive(self) -> None:
        if self.proc.returncode is not None:
            tail = "\n".join(self.lines[-20:])
            raise AssertionError(f"the process of shards {self.ids} exited ({self.proc.returncode}):\n{tail}")

    def records(self) -> list[dict[str, object]]:
        """Its log records (the lines that are JSON; discord.py's own start banner is not)."""
        out = []
        for line in self.lines:
            with contextlib.suppress(ValueError):
                record = json.loads(line)
                if isinstance(record, dict):
                    out.append(record)
        return out

    async def kill(self) -> None:
        self.proc.kill()  # SIGKILL
        await self.proc.wait()
        if self.reader is not None:
            await self.reader

    async def stop(self) -> int:
        if self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                async with asyncio.timeout(30):
                    await self.proc.wait()
            except TimeoutError:
                self.proc.kill()
                await self.proc.wait()
        if self.reader is not None:
            await self.reader
        assert self.proc.returncode is not None
        return self.proc.returncode


async def spawn(fake: FakeDiscord, url: str, ids: str) -> BotProcess:
    """Start ``python -m bot run --shards <ids> --shard-count 4`` on the database at ``url``."""
    env = {k: v for k, v in fake.env().items() if not k.startswith("HALFBIE_") or k in (ENV_URL, ENV_TOKEN)}
    env |= {
        "DISCORD_TOKEN": fake.token,
        "HALFBIE_DATABASE_URL": url,
        "HALFBIE_LOG_LEVEL": "INFO",
        "HALFBIE_LOG_FORMAT": "json",
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", "--shards", ids, "--shard-count", str(SHARD_COUNT),
        cwd=ROOT, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    process = BotProcess(ids, proc)
    process.reader = asyncio.create_task(process._drain())
    return process


async def connected(fake: FakeDiscord, identified: int, *processes: BotProcess) -> None:
    """Wait until every shard of ``processes`` has IDENTIFIED (after ``identified`` earlier
    IDENTIFYs) and the offline Discord has sent every shard its servers."""
    wanted = identified + 2 * len(processes)

    def all_identified() -> bool:
        for process in processes:
            process.check_alive()
        return len(fake.identify_times) >= wanted

    await until(all_identified, 30, "every shard to IDENTIFY")
    await fake.wait_ready(timeout=30)


def spread_servers(fake: FakeDiscord) -> list[FakeGuild]:
    """PER_SHARD servers on each of the four shards (the ids the offline Discord hands out
    move a millisecond apart, so they spread; a server beyond PER_SHARD is taken away)."""
    found: dict[int, list[FakeGuild]] = {s: [] for s in range(SHARD_COUNT)}
    while min(len(g) for g in found.values()) < PER_SHARD:
        guild = fake.add_guild(f"Fans {sum(len(g) for g in found.values()) + 1}")
        on = found[shard_of(guild.id, SHARD_COUNT)]
        if len(on) < PER_SHARD:
            on.append(guild)
        else:
            fake.remove_guild(guild)
    return [g for s in range(SHARD_COUNT) for g in found[s]]


@dataclass
class Server:
    guild: FakeGuild
    channel: FakeChannel  # its announcement channel
    members: list[FakeMember]
    burst: int  # theory ids
    timed: int
    wake: int
    message: FakeMessage | None = None  # the burst poll's message


async def prepared(fake: FakeDiscord, url: str) -> list[Server]:
    """Eight servers seeded from the canon, with an announcement channel, through the
    store, before either process starts; and the members who will vote."""
    guilds = spread_servers(fake)
    per_server = MEMBERS // len(guilds)
    store = await Store.open(url)
    try:
        await store.guilds.seed_many([g.id for g in guilds], load_canon())
        servers = []
        for guild in guilds:
            channel = guild.add_channel("season-2-news")
            await store.settings.update(guild.id, None, announce_channel_id=channel.id)
            ids = {t.fields.key: t.id for t in await store.theories.list(guild.id)}
            members = [guild.add_member(f"fan{i}") for i in range(per_server)]
            servers.append(Server(guild, channel, members, ids[BURST_POLL], ids[TIMED_POLL], ids[WAKE_POLL]))
    finally:
        await store.close()
    return servers


async def due_during_the_outage(url: str, servers: list[Server]) -> int:
    """A countdown reminder and a poll close for every server, already due (put in the
    database through the store, as the bots would schedule them); returns "now"."""
    now = int(time.time())
    store = await Store.open(url)
    try:
        for server in servers:
            gid = server.guild.id
            await store.jobs.schedule(Reminder(gid, ReminderKind.DAY, now + 86400 - 5).job)  # due 5 s ago
            await store.jobs.schedule(
                NewJob(
                    JobKind.CLOSE_POLL,
                    str(server.timed),
                    now - 5,
                    guild_id=gid,
                    payload={"theory_id": server.timed},
                )
            )
    finally:
        await store.close()
    return now


async def timed_jobs(url: str) -> dict[tuple[int, str, str], tuple[str, int, str | None]]:
    """Every reminder, close and result-card job: (server, kind, key) -> (state, attempts, claimed by)."""
    rows = await read_outside(
        url,
        "SELECT guild_id, kind, key, state, attempts, claimed_by FROM jobs WHERE kind IN (?, ?, ?)",
        TIMED_KINDS,
    )
    return {
        (int(g), str(kind), str(key)): (str(state), int(attempts), None if by is None else str(by))
        for g, kind, key, state, attempts, by in rows
    }


async def jobs_done(url: str, servers: list[Server]) -> bool:
    """Whether each server's reminder, close and result card are done."""
    jobs = await timed_jobs(url)
    wanted = {s.guild.id for s in servers}
    finished = Counter(g for (g, _, _), (state, _, _) in jobs.items() if g in wanted and state == "done")
    return all(finished[g] >= len(TIMED_KINDS) for g in wanted)


def titles(fake: FakeDiscord, channel: FakeChannel) -> list[str]:
    return [str(m.embeds[0]["title"]) for m in fake.messages_in(channel) if m.embeds]


async def test_two_shard_processes_one_killed_mid_burst_lose_no_answered_vote_and_run_each_job_once(
    fake_discord: FakeDiscord, postgres: str
) -> None:
    fake, url = fake_discord, postgres
    fake.recommended_shards = SHARD_COUNT
    fake.max_concurrency = SHARD_COUNT  # a bucket per shard: the four IDENTIFY together...
    fake.identify_window = 5.0  # ...and a bucket's next IDENTIFY must wait Discord's 5 s
    began = time.monotonic()
    servers = await prepared(fake, url)
    on_first = [s for s in servers if shards_of(s.guild) == FIRST]
    on_second = [s for s in servers if shards_of(s.guild) == SECOND]
    assert len(on_first) == len(on_second) == 2 * PER_SHARD

    first = await spawn(fake, url, FIRST)
    second = await spawn(fake, url, SECOND)
    lives = [first, second]  # every process run, for the log checks at the end
    try:
        await connected(fake, 0, first, second)
        started = time.monotonic() - began

        async def post(server: Server) -> None:
            r = await fake.slash(server.guild, server.guild.owner, "theory show", theory=str(server.burst))
            await r.response(timeout=15)
            assert r.message is not None, r.content
            server.message = r.message
            assert shown_counts(r.message) == [0] * OPTIONS

        await asyncio.gather(*(post(s) for s in servers))
        assert fake.sync_count == 1  # one process synced the commands, the other found them

        # -- the burst ----------------------------------------------------------------------
        plan = [
            (server, server.members[i], i % OPTIONS)
            for i in range(MEMBERS // len(servers))
            for server in servers  # interleaved: every server, both processes, all along
        ]
        results: list[InteractionResult] = []

        def answered() -> list[InteractionResult]:
            return [r for r in results if r.type is not None]

        async def click(server: Server, member: FakeMember, option: int) -> None:
            assert server.message is not None
            results.append(
                await fake.click(server.guild, member, server.message, f"poll:{server.burst}:{option}")
            )

        # A steady stream first (never more than IN_FLIGHT unanswered), until a tenth of
        # the clicks are answered; then all the rest at once, and SIGKILL the first process
        # as soon as it has answered one of those: it dies in the middle of hundreds.
        stream = iter(plan)
        for server, member, option in stream:
            await until(lambda: len(results) - len(answered()) < IN_FLIGHT, 30, "the bots to keep up")
            await click(server, member, option)
            if len(answered()) >= MEMBERS // 10:
                break
        steady = len(results)
        for server, member, option in stream:
            await click(server, member, option)

        def first_answered_in_burst() -> bool:
            return any(r.type is not None and shards_of(r.guild) == FIRST for r in results[steady:])

        await until(first_answered_in_burst, 30, "the first process to answer a click of the burst")
        await first.kill()
        killed_at = time.monotonic() - began
        of_first = [r for r in results if shards_of(r.guild) == FIRST]
        of_second = [r for r in results if shards_of(r.guild) == SECOND]
        first_answered = [r for r in of_first if r.type is not None]
        assert 0 < len(first_answered) < len(of_first), "the kill must land inside the burst"
        # The survivor answers every click of its servers, each one counted.
        await until(lambda: all(r.type is not None for r in of_second), 30, "the second process's answers")
        kept = answered()
        assert all((r.content or "").startswith(COUNTED) for r in kept), {r.content for r in kept}
        shown_at_kill = {s.guild.id: shown_counts(s.message) for s in on_first if s.message}

        # -- the outage -----------------------------------------------------------------------
        await due_during_the_outage(url, servers)
        # The survivor's scheduler sleeps until its next job: an admin's close on one of its
        # servers wakes it (as any close does), and it runs every job due on its shards.
        waker = on_second[0]
        r = await fake.slash(waker.guild, waker.guild.owner, "admin theory close", theory=str(waker.wake))
        await r.response(timeout=15)
        assert "closed" in (r.content or "").lower(), r.content
        await until(lambda: jobs_done(url, on_second), 30, "the second process to run its servers' jobs")
        jobs = await timed_jobs(url)
        for server in on_first:  # never the dead process's: they wait for it
            for kind, key in (
                (JobKind.REMIND, f"{server.guild.id}:day"),
                (JobKind.CLOSE_POLL, str(server.timed)),
            ):
                assert jobs[(server.guild.id, kind, key)] == ("pending", 0, None)
            assert not any(g == server.guild.id and k == JobKind.POLL_RESULT for g, k, _ in jobs)
            assert titles(fake, server.channel) == []

        # -- the restart ----------------------------------------------------------------------
        identified = len(fake.identify_times)
        first = await spawn(fake, url, FIRST)
        lives.append(first)
        await connected(fake, identified, first)
        restarted_at = time.monotonic() - began
        await until(lambda: jobs_done(url, on_first), 30, "the restarted process to run its servers' jobs")

        # Every click answered "counted" is a stored vote.
        stored: dict[int, dict[int, int]] = {}
        for server in servers:
            stored[server.guild.id] = await votes(url, server.burst)
        for r in kept:
            option = int(r.payload["data"]["custom_id"].split(":")[2])
            assert stored[r.guild.id].get(r.member.id) == option, (r.guild.id, r.member.id, option)

        # Every poll message shows exactly the stored votes: the restarted process corrects
        # the ones it left stale at the kill, the survivor's show its own burst.
        expected = {
            gid: [sum(1 for o in votes_.values() if o == n) for n in range(OPTIONS)]
            for gid, votes_ in stored.items()
        }

        def exact() -> bool:
            return all(shown_counts(s.message) == expected[s.guild.id] for s in servers if s.message)

        await until(exact, 15, f"every poll message to show {expected}")

        # The restarted process serves its servers' old poll messages again.
        late = []
        for server in on_first:
            assert server.message is not None
            fan = server.guild.add_member("late fan")
            late.append(await fake.click(server.guild, fan, server.message, f"poll:{server.burst}:2"))
            expected[server.guild.id][2] += 1
        for r in late:
            await r.response(timeout=15)
            assert (r.content or "").startswith(COUNTED), r.content
        await until(exact, 15, f"every poll message to show {expected}")

        # Each reminder and close due during the outage happened once, in the process of
        # the server's shard; each closed poll was closed once and announced once.
        jobs = await timed_jobs(url)
        for server in servers:
            gid, by = server.guild.id, owner(shards_of(server.guild))
            closed = {server.timed} | ({server.wake} if server is waker else set())
            mine = {(kind, key): v for (g, kind, key), v in jobs.items() if g == gid}
            assert mine[(JobKind.REMIND, f"{gid}:day")] == ("done", 1, by)
            assert mine[(JobKind.CLOSE_POLL, str(server.timed))] == ("done", 1, by)
            results_ = [v for (kind, _), v in mine.items() if kind == JobKind.POLL_RESULT]
            assert results_ == [("done", 1, by)] * len(closed)
            posted = titles(fake, server.channel)
            assert posted.count("One day to go") == 1, posted
            assert sum(1 for t in posted if re.search(r"Poll closed", t)) == len(closed), posted
            assert len(posted) == 1 + len(closed), posted
        closes = await read_outside(
            url, "SELECT guild_id, target, actor_id FROM audit WHERE action = 'theory.close' ORDER BY id"
        )
        assert Counter((int(g), str(t)) for g, t, _ in closes) == Counter(
            {(s.guild.id, str(s.timed)): 1 for s in servers} | {(waker.guild.id, str(waker.wake)): 1}
        )  # no poll closed twice
        assert sorted(str(t) for _, t, actor in closes if actor is None) == sorted(
            str(s.timed) for s in servers
        )
        assert fake.identify_rejections == 0  # the restart waited for its buckets' turns
    finally:
        codes = []
        for process in (first, second):
            codes.append(await process.stop())
    assert codes == [0, 0], "\n".join(first.lines[-30:] + second.lines[-30:])
    for process in lives:
        text = "\n".join(process.lines)
        assert "Traceback" not in text, text[-3000:]
        errors = [r for r in process.records() if r.get("level") in ("ERROR", "CRITICAL")]
        assert errors == [], errors
    took = time.monotonic() - began
    total_stored = sum(len(v) for v in stored.values())
    first_stored = sum(len(stored[s.guild.id]) for s in on_first)
    print(
        f"\n{len(servers)} servers on {SHARD_COUNT} shards, 2 processes: both up in {started:.1f} s; "
        f"{len(results)} clicks sent, {len(kept)} answered ({len(first_answered)} by the killed process "
        f"before SIGKILL at {killed_at:.1f} s, {len(of_first) - len(first_answered)} of its clicks lost "
        f"unanswered); {total_stored} votes stored ({first_stored} on its servers); its messages "
        f"showed {shown_at_kill} at the kill, corrected after the restart ({restarted_at:.1f} s); "
        f"{len(servers)} reminders and {len(servers) + 1} closes, each once; {took:.1f} s in all"
    )


# -- a restart touches only its own shards' poll messages ---------------------------------------


async def test_a_restarted_process_refreshes_only_its_own_shards_poll_messages(
    shards: BotRunner,  # noqa: F811  (the fixture, not the import)
    fake_discord: FakeDiscord,
) -> None:
    """At start a process refreshes the poll messages a crash left stale, and only those of
    its own servers: another shard's message is its own process's to edit (its tally is
    coalesced there, and two processes editing one message could land an older tally
    after a newer one)."""
    on = servers(fake_discord, per_shard=1)
    first, second = await start_both(shards)
    messages = {}
    for guild in (on[0][0], on[1][0]):
        theory = next(t for t in await first.store.theories.list(guild.id) if t.fields.key == BURST_POLL)
        r = await fake_discord.slash(guild, guild.owner, "theory show", theory=str(theory.id))
        await r.response()
        assert r.message is not None
        messages[guild.id] = (theory.id, r.message)
    await shards.stop(first)
    # Votes committed in both servers whose messages were not edited: the first process
    # died before its edit, the second has its edit still to come.
    store = await Store.open(shards.database)
    try:
        for guild_id, (theory_id, _) in messages.items():
            assert await store.theories.cast_vote(guild_id, theory_id, 4242, 1) == 1
    finally:
        await store.close()
    other = messages[on[1][0].id][1]
    before = (other.edits, service(second).refresher.edits)

    restarted = await start(shards, 0)
    own = messages[on[0][0].id][1]

    def settled() -> bool:
        shards.clock.advance(1)  # the refreshers wait on the bots' clock
        return shown_counts(own) == shown_counts(other) == [0, 1, 0]

    await until(settled, 10, "both messages to show their vote")
    for _ in range(5):  # any refresh still pending comes now
        shards.clock.advance(1)
        await asyncio.sleep(0.05)
    assert service(restarted).refresher.edits == 1  # its own server's message, not the other's,
    assert other.edits - before[0] == service(second).refresher.edits - before[1]  # only its own
