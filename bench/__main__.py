"""`make bench`: Halfbie against a bare discord.py bot, each as its own process, side by side.

Both talk to the offline Discord (tests/fakediscord) on 127.0.0.1, which runs in this
process and drives the load. Each round runs both bots (and, given a PostgreSQL URL,
Halfbie a second time on PostgreSQL), rotating which goes first; the table gives the
median of the rounds and the spread (min-max). The primary figures are costs counted
inside the bot's process (CPU from /proc/PID/stat, peak memory from VmHWM), because on
two cores the fake Discord itself caps interactions per second.

After the rounds: the database of idle servers (the bot started once in that many
servers, its file measured once they are all seeded), the store's write path against
the raw driver, and with PostgreSQL how soon a dead process's jobs run again
(bench/takeover.py).  The targets (issues 14 and 17) are one table with the ratio, the
target and a pass mark per line; the run is written to bench/results/latest.json, and
the exit status is 1 when a target is missed.  `--readme` prints README's performance
section from that file.

    python -m bench [--rounds 3] [--quick] [--database-url postgresql://...] [--out FILE]
    python -m bench --readme [--out FILE]

BENCH_DATABASE_URL is the default of --database-url; BENCH_LOG_LEVEL=INFO shows the
bots' logs in an error's report (WARNING by default).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import datetime as dt
import json
import os
import random
import re
import statistics
import sys
import tempfile
import time
import traceback
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import report, store_bench, takeover  # noqa: E402
from bench.database import Probe, cpu_delta, fresh_postgres, server_version  # noqa: E402
from bot.store import redact  # noqa: E402
from tests.fakediscord import FakeDiscord, FakeGuild, FakeMember, FakeMessage, Perm  # noqa: E402

TICKS = os.sysconf("SC_CLK_TCK")
NAMES = ["namra", "Cheong-san", "최남라", "Lomon", "Su hyuk", "onjo", "Mi-jin", "dae su", "Ha-ri", "hyoryng"]
PATCH = re.compile(r"^/channels/\d+/messages/(\d+)$")
# Halfbie on SQLite, the bare bot, Halfbie on PostgreSQL, and Halfbie on SQLite serving
# /metrics (HALFBIE_HTTP): what enabling the metrics costs, against Halfbie without them.
KINDS = ("sqlite", "bare", "postgresql", "metrics")
SEEDED = "SELECT COUNT(*) FROM guilds WHERE canon_version > 0"


@dataclass
class Load:
    clicks: int = 10_000
    members: int = 5_000
    polls: int = 20
    click_flight: int = 1_000
    lookups: int = 5_000
    lookup_flight: int = 100
    scales: tuple[int, ...] = (1, 100, 1_000)
    idle_servers: int = 10_000  # the database of this many idle servers (0: not measured)
    takeover_jobs: int = 100  # jobs a dead process leaves claimed (PostgreSQL)
    takeover_lease: int = 5  # seconds of its claims' lease


QUICK = Load(
    clicks=1_000, members=500, polls=5, click_flight=200, lookups=500, lookup_flight=50,
    scales=(1, 100), idle_servers=1_000, takeover_jobs=20,
)  # fmt: skip


@dataclass
class Run:
    kind: str
    figures: dict[str, float] = field(default_factory=dict)


# -- the processes --------------------------------------------------------------------------


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime


def peak_mib(pid: int) -> float:
    with open(f"/proc/{pid}/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM")


class Process:
    """One bot process: Halfbie (on the database ``probe`` looks at) or the bare bot."""

    def __init__(self, kind: str, fake: FakeDiscord, probe: Probe | None) -> None:
        self.kind = kind
        self.fake = fake
        self.probe = probe
        self.proc: asyncio.subprocess.Process | None = None
        self.spawned = 0.0

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    async def start(self) -> None:
        # The bench's own HALFBIE_* settings (a database above all) must not reach the bot.
        env = {k: v for k, v in self.fake.env().items() if not k.startswith("HALFBIE_") or "FAKE" in k}
        env |= {
            "DISCORD_TOKEN": self.fake.token,
            "HALFBIE_LOG_LEVEL": os.environ.get("BENCH_LOG_LEVEL", "WARNING"),
            "HALFBIE_DATABASE_URL": "",
        }
        if self.probe is not None:
            where = self.probe.where
            env["HALFBIE_DB" if isinstance(where, Path) else "HALFBIE_DATABASE_URL"] = str(where)
        if self.kind == "metrics":
            env["HALFBIE_HTTP"] = "127.0.0.1:0"  # metrics collected, served on a free port
        module = "bench.bare" if self.kind == "bare" else "bot"
        self.spawned = time.monotonic()
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", module, cwd=ROOT, env=env,
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip

    async def stop(self) -> str:
        assert self.proc is not None
        if self.proc.returncode is None:
            self.proc.terminate()
            try:
                await asyncio.wait_for(self.proc.wait(), 60)
            except TimeoutError:
                self.proc.kill()
                await self.proc.wait()
        assert self.proc.stderr is not None
        return (await self.proc.stderr.read()).decode(errors="replace")

    async def ready(self, servers: int, within: float = 120) -> tuple[float, float]:
        """Seconds from spawn to IDENTIFY, and from IDENTIFY until every server is parsed
        (and, for Halfbie, seeded)."""
        await self.fake.wait_identified(timeout=within)
        identified = self.fake.identify_times[-1]
        await self.fake.wait_ready(timeout=within)
        # One barrier: every GUILD_CREATE parsed.  (Not one per poll below: each is a
        # HEARTBEAT the bot answers, and discord.py's gateway rate limit would then hold
        # the bot back for a minute once seeding takes more than about half a second.)
        await self.fake.barrier(timeout=within)
        deadline = time.monotonic() + within
        while self.probe is not None and (await self.probe.value(SEEDED) or 0) < servers:
            if time.monotonic() > deadline:
                raise SystemExit(f"{self.kind}: {servers} servers not seeded {within:.0f} s after READY")
            await asyncio.sleep(0.005)
        return identified - self.spawned, time.monotonic() - identified


@contextlib.asynccontextmanager
async def database(kind: str, workdir: Path, url: str | None, name: str) -> AsyncIterator[Probe | None]:
    """A fresh database for one Halfbie process, looked at by a probe (None for the bare bot)."""
    if kind == "bare":
        yield None
        return
    if kind in ("sqlite", "metrics"):
        async with Probe.opened(workdir / f"{name}-{time.monotonic_ns()}.db") as probe:
            yield probe
        return
    assert url is not None
    async with fresh_postgres(url) as fresh, Probe.opened(fresh) as probe:
        yield probe


async def check_log(proc: Process) -> None:
    errors = await proc.stop()
    if "Traceback" in errors:
        raise SystemExit(f"{proc.kind} logged an error:\n{errors[-3000:]}")


# -- the load ---------------------------------------------------------------------------------


async def bounded(n: int, flight: int, make: Callable[[int], Awaitable[float]]) -> list[float]:
    """Run make(0..n-1) with at most ``flight`` in flight; return what each returned."""
    gate = asyncio.Semaphore(flight)

    async def one(i: int) -> float:
        async with gate:
            return await make(i)

    return await asyncio.gather(*(one(i) for i in range(n)))


async def post_polls(fake: FakeDiscord, guild: FakeGuild, admin: FakeMember, count: int) -> list[FakeMessage]:
    polls = []
    for i in range(count):
        r = await fake.slash(guild, admin, "theory new", options={"title": f"Bench poll {i}"})
        await r.response(timeout=30)
        message = await r.wait_message(timeout=30)
        polls.append(message)
    return polls


def fake_polls(fake: FakeDiscord, guild: FakeGuild, count: int) -> list[FakeMessage]:
    """Poll-shaped messages for the bare bot, which posts none (same buttons, same ids)."""
    messages = []
    for i in range(count):
        buttons = [
            {"type": 2, "style": 1, "label": str(o), "custom_id": f"poll:{i + 1}:{o}"} for o in range(3)
        ]
        data = {"content": f"Bench poll {i}", "components": [{"type": 1, "components": buttons}]}
        messages.append(
            fake._create_message("bench", channel_id=guild.general.id, guild_id=guild.id, data=data)
        )
    return messages


def click_plan(load: Load) -> list[tuple[int, int, int]]:
    """(member, poll, option): every member votes on two different polls."""
    rng = random.Random(7)
    plan = []
    for click in range(load.clicks):
        member = click % load.members
        poll = (member + (click // load.members) * 7) % load.polls
        plan.append((member, poll, rng.randrange(3)))
    return plan


def shown_counts(message: FakeMessage) -> list[int]:
    description = message.embeds[0]["description"] if message.embeds else ""
    return [int(n) for n in re.findall(r"`[█░]+` \d+% · (\d+)", description)]


class Cost:
    """CPU spent by the bot's process (and by PostgreSQL's backends serving its database)."""

    def __init__(self, proc: Process) -> None:
        self.proc = proc

    async def __aenter__(self) -> Cost:
        probe = self.proc.probe
        self.backends = await probe.backend_cpu() if probe is not None else {}
        self.cpu = cpu_seconds(self.proc.pid)
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.bot = cpu_seconds(self.proc.pid) - self.cpu
        probe = self.proc.probe
        self.postgres = (
            cpu_delta(self.backends, await probe.backend_cpu()) if probe and probe.postgres else None
        )


async def votes(
    run: Run, proc: Process, guild: FakeGuild, members: list[FakeMember], polls: list[FakeMessage], load: Load
) -> None:
    fake = proc.fake
    plan = click_plan(load)
    custom = [[b["custom_id"] for b in m.buttons()] for m in polls]
    before_requests = len(fake.requests)

    async def click(i: int) -> float:
        member, poll, option = plan[i]
        r = await fake.click(guild, members[member], polls[poll], custom[poll][option])
        await r.response(timeout=30)
        assert r.acked_after is not None
        return r.acked_after

    async with Cost(proc) as cost:
        t0 = time.monotonic()
        acks = await bounded(len(plan), load.click_flight, click)
        elapsed = time.monotonic() - t0
        if proc.probe is not None:  # Halfbie: the tallies shown must become exact
            expected = [[0, 0, 0] for _ in polls]
            for _, poll, option in plan:
                expected[poll][option] += 1
            deadline = time.monotonic() + 30
            while any(shown_counts(m) != e for m, e in zip(polls, expected, strict=True)):
                if time.monotonic() > deadline:
                    raise SystemExit(
                        f"tallies not exact 30 s after the burst: {[shown_counts(m) for m in polls]}"
                    )
                await asyncio.sleep(0.05)
    if proc.probe is not None:
        ids = {m.id for m in polls}
        edits = [
            int(match.group(1))
            for r in fake.requests[before_requests:]
            if r.method == "PATCH" and (match := PATCH.match(r.path)) and int(match.group(1)) in ids
        ]
        run.figures["edits per poll (max)"] = max(edits.count(i) for i in ids)
        stored = await proc.probe.value("SELECT COUNT(*) FROM votes")
        if stored != len(plan):
            raise SystemExit(f"{proc.kind}: {stored} votes stored for {len(plan)} clicks")
    run.figures["votes: CPU ms per click"] = cost.bot * 1000 / len(plan)
    if cost.postgres is not None:
        run.figures["votes: PostgreSQL backends' CPU ms per click"] = cost.postgres * 1000 / len(plan)
    run.figures["votes/s"] = len(plan) / elapsed
    run.figures["ack p50 ms"] = statistics.median(acks) * 1000
    run.figures["ack p99 ms"] = sorted(acks)[int(len(acks) * 0.99) - 1] * 1000
    run.figures["late acks (> 3 s)"] = sum(a > 3 for a in acks)


async def lookups(run: Run, proc: Process, guild: FakeGuild, member: FakeMember, load: Load) -> None:
    fake = proc.fake

    async def lookup(i: int) -> float:
        name = NAMES[i % len(NAMES)]
        if i % 2:
            r = await fake.autocomplete_result(
                guild, member, "character", focused="name", name=name[: 1 + i % 4]
            )
        else:
            r = await fake.slash(guild, member, "character", name=name)
        await r.response(timeout=30)
        assert r.acked_after is not None
        return r.acked_after

    async with Cost(proc) as cost:
        t0 = time.monotonic()
        acks = await bounded(load.lookups, load.lookup_flight, lookup)
        elapsed = time.monotonic() - t0
    run.figures["lookups: CPU ms per interaction"] = cost.bot * 1000 / load.lookups
    if cost.postgres is not None:
        run.figures["lookups: PostgreSQL backends' CPU ms per interaction"] = (
            cost.postgres * 1000 / load.lookups
        )
    run.figures["lookups/s"] = load.lookups / elapsed
    run.figures["lookup p99 ms"] = sorted(acks)[int(len(acks) * 0.99) - 1] * 1000


# -- one round --------------------------------------------------------------------------------


async def run_one(
    kind: str, load: Load, workdir: Path, commands: list[dict[str, Any]], url: str | None
) -> Run:
    run = Run(kind)
    for servers in load.scales:
        fake = FakeDiscord(interaction_deadline=10.0)
        await fake.start()
        try:
            guilds = fake.add_guilds(servers)
            main = guilds[0]
            at_most = servers == max(load.scales)
            members = [main.add_member(f"m{i}") for i in range(load.members)] if at_most else []
            admin = main.add_member("bench-admin", roles=[main.add_role("Mods", Perm.ADMINISTRATOR)])
            async with database(kind, workdir, url, f"{kind}-{servers}") as probe:
                proc = Process(kind, fake, probe)
                await proc.start()
                try:
                    identify, ready = await proc.ready(servers)
                    run.figures[f"{servers} servers: s to IDENTIFY"] = identify
                    run.figures[f"{servers} servers: s IDENTIFY to ready"] = ready
                    run.figures[f"{servers} servers: peak MiB at ready"] = peak_mib(proc.pid)
                    if at_most:
                        if kind != "bare":
                            commands[:] = fake.synced_commands()
                        else:
                            fake.set_commands(commands)
                        await lookups(run, proc, main, admin, load)
                        polls = (
                            await post_polls(fake, main, admin, load.polls)
                            if kind != "bare"
                            else fake_polls(fake, main, load.polls)
                        )
                        await votes(run, proc, main, members, polls, load)
                        run.figures["peak MiB after the burst"] = peak_mib(proc.pid)
                finally:
                    await check_log(proc)
        finally:
            await fake.close()
    biggest, smallest = max(load.scales), min(load.scales)
    most = run.figures[f"{biggest} servers: s IDENTIFY to ready"]
    least = run.figures[f"{smallest} servers: s IDENTIFY to ready"]
    run.figures["per-server start-up ms"] = (most - least) * 1000 / max(biggest - smallest, 1)
    return run


async def idle_servers(kind: str, load: Load, workdir: Path, url: str | None) -> Run:
    """Halfbie started once in ``load.idle_servers`` servers: the size of its database once
    every one is seeded and the bot has stopped (nothing else happens in them)."""
    run = Run(kind)
    servers = load.idle_servers
    fake = FakeDiscord(interaction_deadline=10.0)
    await fake.start()
    try:
        fake.add_guilds(servers)
        async with database(kind, workdir, url, f"{kind}-idle") as probe:
            assert probe is not None
            proc = Process(kind, fake, probe)
            await proc.start()
            try:
                _, ready = await proc.ready(servers, within=900)
                run.figures[f"{servers} idle servers: s IDENTIFY to ready"] = ready
                run.figures[f"{servers} idle servers: peak MiB at ready"] = peak_mib(proc.pid)
            finally:
                await check_log(proc)
            run.figures[f"{servers} idle servers: database MB"] = await probe.size_mb()
    finally:
        await fake.close()
    return run


# -- the whole run ----------------------------------------------------------------------------


def tabulate(runs: list[Run]) -> dict[str, dict[str, Any]]:
    """Figure -> Halfbie's values per store and the bare bot's as the base."""
    figures: dict[str, dict[str, Any]] = {}
    for key in dict.fromkeys(k for r in runs for k in r.figures):
        row: dict[str, Any] = {}
        for kind in KINDS:
            values = [r.figures[key] for r in runs if r.kind == kind and key in r.figures]
            if values:
                row["base" if kind == "bare" else kind] = report.summary(values)
        if "base" in row:
            row["base_is"] = report.BARE
        figures[key] = row
    return figures


async def main_async(args: argparse.Namespace, load: Load) -> dict[str, Any]:
    url: str | None = args.database_url or None
    started = time.monotonic()
    load_before = os.getloadavg()  # other work on the machine makes every figure noisier
    kinds = [k for k in KINDS if (k != "postgresql" or url) and (k != "metrics" or args.metrics)]
    pg_version = await server_version(url) if url else None
    runs: list[Run] = []
    commands: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="halfbie-bench-") as tmp:
        workdir = Path(tmp)

        async def step(name: str, work: Awaitable[Any]) -> Any:
            began = time.monotonic()
            result = await work
            print(f"{name} done in {time.monotonic() - began:.1f} s", flush=True)
            return result

        for round_ in range(args.rounds):
            order = kinds[round_ % len(kinds) :] + kinds[: round_ % len(kinds)]
            for kind in order:
                runs.append(
                    await step(f"round {round_ + 1}: {kind}", run_one(kind, load, workdir, commands, url))
                )
        if load.idle_servers:
            for kind in kinds:
                if kind != "bare":
                    runs.append(
                        await step(
                            f"{load.idle_servers:,} idle servers: {kind}",
                            idle_servers(kind, load, workdir, url),
                        )
                    )
        figures = tabulate(runs)
        if args.metrics:  # the metrics' cost: Halfbie with them against Halfbie without
            row = figures.get("votes: CPU ms per click", {})
            if "metrics" in row and "sqlite" in row:
                figures[report.METRICS_CLICK] = {
                    "metrics": row["metrics"],
                    "base": row["sqlite"],
                    "base_is": report.WITHOUT_METRICS,
                }
        rates = await step(
            "store alone: SQLite",
            store_bench.compare(workdir, votes=load.clicks, flight=load.click_flight, rounds=args.rounds),
        )
        figures[report.STORE_SQLITE] = {
            "sqlite": report.summary(rates["store"]),
            "base": report.summary(rates["raw"]),
            "base_is": report.RAW_SQLITE,
        }
    if url:
        rates = await step(
            "store alone: PostgreSQL",
            store_bench.compare_postgres(
                url, votes=load.clicks, flight=load.click_flight, rounds=args.rounds
            ),
        )
        figures[report.STORE_PG] = {
            "postgresql": report.summary(rates["store"]),
            "base": report.summary(rates["raw"]),
            "base_is": report.RAW_PG,
        }
        seconds = await step(
            "jobs taken over",
            takeover.measure(url, jobs=load.takeover_jobs, lease=load.takeover_lease, rounds=args.rounds),
        )
        for key, name in (
            ("takeover first", report.TAKEOVER_FIRST),
            ("takeover done", report.TAKEOVER_DONE),
            ("restart opened", report.RESTART_OPENED),
            ("restart first", report.RESTART_FIRST),
            ("restart done", report.RESTART_DONE),
        ):
            figures[name] = {"postgresql": report.summary(seconds[key])}
    loaded = dataclasses.asdict(load)
    result: dict[str, Any] = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": report.machine(),
        "commit": report.commit(),
        "took_s": round(time.monotonic() - started, 1),
        "load_average": {"start": load_before, "end": os.getloadavg()},
        "rounds": args.rounds,
        "load": loaded,
        "standard_load": loaded == dataclasses.asdict(Load()),
        "postgresql": {"url": redact(url), "version": pg_version} if url else None,
        "figures": figures,
    }
    result["targets"] = report.evaluate(report.targets(loaded, url is not None, args.metrics), figures)
    result["passed"] = all(t["pass"] is not False for t in result["targets"])
    return result


def load_from(args: argparse.Namespace) -> Load:
    load = QUICK if args.quick else Load()
    sizes: dict[str, Any] = {}
    for f in dataclasses.fields(Load):
        value = getattr(args, f.name)
        if value is not None:
            sizes[f.name] = tuple(int(s) for s in value.split(",")) if f.name == "scales" else int(value)
    return dataclasses.replace(load, **sizes)


def main() -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description=(__doc__ or "").split("\n")[0],
        epilog="Exit status: 0 when every target is met, 1 when one is missed, 2 on an error.",
    )
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="a small load, to check the benchmark works")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_DATABASE_URL", ""),
        metavar="URL",
        help="also measure Halfbie on PostgreSQL: a server where this user may create databases "
        "(each run gets a fresh one, dropped after it); default $BENCH_DATABASE_URL",
    )
    parser.add_argument(
        "--no-metrics",
        dest="metrics",
        action="store_false",
        help="skip the runs of Halfbie serving /metrics (what enabling the metrics costs)",
    )
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "latest.json"))
    parser.add_argument(
        "--readme", action="store_true", help="print README's performance table from --out, and run nothing"
    )
    sizes = parser.add_argument_group("sizes", "the load (defaults: the targets' sizes; --quick: smaller)")
    defaults = Load()
    for f in dataclasses.fields(Load):
        default = getattr(defaults, f.name)
        shown = ",".join(map(str, default)) if isinstance(default, tuple) else default
        sizes.add_argument(f"--{f.name.replace('_', '-')}", metavar="N", help=f"default {shown}")
    args = parser.parse_args()
    out = Path(args.out)
    if args.readme:
        if not out.exists():
            print(f"bench: no results at {out}; run make bench first", file=sys.stderr)
            return 2
        print(report.markdown(json.loads(out.read_text(encoding="utf-8"))))
        return 0
    load = load_from(args)
    try:
        result = asyncio.run(main_async(args, load))
    except SystemExit as exc:  # a check failed: the run measured something wrong
        if isinstance(exc.code, int) or exc.code is None:
            raise
        print(f"bench: {exc.code}", file=sys.stderr)
        return 2
    except Exception:
        traceback.print_exc()
        return 2
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print()
    print(report.markdown(result))
    print(f"\nwritten to {out}")
    missed = [t["line"] for t in result["targets"] if t["pass"] is False]
    if missed:
        print(f"{len(missed)} target(s) missed: " + "; ".join(missed), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
