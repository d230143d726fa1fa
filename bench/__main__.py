"""`make bench`: Halfbie against a bare discord.py bot, each as its own process, side by side.

Both talk to the offline Discord (tests/fakediscord) on 127.0.0.1, which runs in this
process and drives the load. Each round runs both bots, alternating which goes first;
the table gives the median of the rounds and the spread (min-max). The primary figures
are costs counted inside the bot's process (CPU from /proc/PID/stat, peak memory from
VmHWM), because on two cores the fake Discord itself caps interactions per second.

    python -m bench [--rounds 3] [--quick] [--out bench/results/latest.json]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import re
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import store_bench  # noqa: E402
from tests.fakediscord import FakeDiscord, FakeGuild, FakeMember, FakeMessage, Perm  # noqa: E402

TICKS = os.sysconf("SC_CLK_TCK")
NAMES = ["namra", "Cheong-san", "최남라", "Lomon", "Su hyuk", "onjo", "Mi-jin", "dae su", "Ha-ri", "hyoryng"]
PATCH = re.compile(r"^/channels/\d+/messages/(\d+)$")


@dataclass
class Load:
    clicks: int = 10_000
    members: int = 5_000
    polls: int = 20
    click_flight: int = 1_000
    lookups: int = 5_000
    lookup_flight: int = 100
    scales: tuple[int, ...] = (1, 100, 1_000)


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
    def __init__(self, kind: str, fake: FakeDiscord, db: Path) -> None:
        self.kind = kind
        self.fake = fake
        self.db = db
        self.proc: asyncio.subprocess.Process | None = None
        self.spawned = 0.0

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    async def start(self) -> None:
        env = {
            **self.fake.env(),
            "DISCORD_TOKEN": self.fake.token,
            "HALFBIE_DB": str(self.db),
            "HALFBIE_LOG_LEVEL": "WARNING",
        }
        module = "bot" if self.kind == "bot" else "bench.bare"
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
                await asyncio.wait_for(self.proc.wait(), 20)
            except TimeoutError:
                self.proc.kill()
                await self.proc.wait()
        assert self.proc.stderr is not None
        return (await self.proc.stderr.read()).decode(errors="replace")

    def seeded(self) -> int:
        with contextlib.closing(sqlite3.connect(f"file:{self.db}?mode=ro", uri=True, timeout=5)) as conn:
            return int(conn.execute("SELECT COUNT(*) FROM guilds WHERE canon_version > 0").fetchone()[0])

    async def ready(self, servers: int) -> tuple[float, float]:
        """Seconds from spawn to IDENTIFY, and from IDENTIFY until every server is parsed
        (and, for Halfbie, seeded)."""
        await self.fake.wait_identified(timeout=120)
        identified = self.fake.identify_times[-1]
        await self.fake.wait_ready(timeout=120)
        while True:
            await self.fake.barrier(timeout=60)
            if self.kind != "bot" or (self.db.exists() and await asyncio.to_thread(self.seeded) >= servers):
                break
            await asyncio.sleep(0.005)
        return identified - self.spawned, time.monotonic() - identified


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


async def votes(
    run: Run, proc: Process, guild: FakeGuild, members: list[FakeMember], polls: list[FakeMessage], load: Load
) -> None:
    fake = proc.fake
    plan = click_plan(load)
    custom = [[b["custom_id"] for b in m.buttons()] for m in polls]
    before_requests = len(fake.requests)
    cpu0, t0 = cpu_seconds(proc.pid), time.monotonic()

    async def click(i: int) -> float:
        member, poll, option = plan[i]
        r = await fake.click(guild, members[member], polls[poll], custom[poll][option])
        await r.response(timeout=30)
        return r.acked_after

    acks = await bounded(len(plan), load.click_flight, click)
    elapsed = time.monotonic() - t0
    if proc.kind == "bot":
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
        ids = {m.id for m in polls}
        edits = [
            int(match.group(1))
            for r in fake.requests[before_requests:]
            if r.method == "PATCH" and (match := PATCH.match(r.path)) and int(match.group(1)) in ids
        ]
        run.figures["edits per poll (max)"] = max(edits.count(i) for i in ids)
        stored = await asyncio.to_thread(
            lambda: (
                sqlite3.connect(f"file:{proc.db}?mode=ro", uri=True)
                .execute("SELECT COUNT(*) FROM votes")
                .fetchone()[0]
            )
        )
        if stored != len(plan):
            raise SystemExit(f"{stored} votes stored for {len(plan)} clicks")
    run.figures["votes: CPU ms per click"] = (cpu_seconds(proc.pid) - cpu0) * 1000 / len(plan)
    run.figures["votes/s"] = len(plan) / elapsed
    run.figures["ack p50 ms"] = statistics.median(acks) * 1000
    run.figures["ack p99 ms"] = sorted(acks)[int(len(acks) * 0.99) - 1] * 1000
    run.figures["late acks (> 3 s)"] = sum(a > 3 for a in acks)


async def lookups(run: Run, proc: Process, guild: FakeGuild, member: FakeMember, load: Load) -> None:
    fake = proc.fake
    cpu0, t0 = cpu_seconds(proc.pid), time.monotonic()

    async def lookup(i: int) -> float:
        name = NAMES[i % len(NAMES)]
        if i % 2:
            r = await fake.autocomplete_result(
                guild, member, "character", focused="name", name=name[: 1 + i % 4]
            )
        else:
            r = await fake.slash(guild, member, "character", name=name)
        await r.response(timeout=30)
        return r.acked_after

    acks = await bounded(load.lookups, load.lookup_flight, lookup)
    elapsed = time.monotonic() - t0
    run.figures["lookups: CPU ms per interaction"] = (cpu_seconds(proc.pid) - cpu0) * 1000 / load.lookups
    run.figures["lookups/s"] = load.lookups / elapsed
    run.figures["lookup p99 ms"] = sorted(acks)[int(len(acks) * 0.99) - 1] * 1000


# -- one round --------------------------------------------------------------------------------


async def run_one(kind: str, load: Load, workdir: Path, commands: list[dict[str, Any]]) -> Run:
    run = Run(kind)
    for servers in load.scales:
        fake = FakeDiscord(interaction_deadline=10.0)
        await fake.start()
        try:
            guilds = fake.add_guilds(servers)
            main = guilds[0]
            members = (
                [main.add_member(f"m{i}") for i in range(load.members)] if servers == max(load.scales) else []
            )
            admin = main.add_member("bench-admin", roles=[main.add_role("Mods", Perm.ADMINISTRATOR)])
            db = workdir / f"{kind}-{servers}-{time.monotonic_ns()}.db"
            proc = Process(kind, fake, db)
            await proc.start()
            identify, ready = await proc.ready(servers)
            run.figures[f"{servers} servers: s to IDENTIFY"] = identify
            run.figures[f"{servers} servers: s IDENTIFY to ready"] = ready
            run.figures[f"{servers} servers: peak MiB at ready"] = peak_mib(proc.pid)
            if servers == max(load.scales):
                if kind == "bot":
                    commands[:] = fake.synced_commands()
                else:
                    fake.set_commands(commands)
                await lookups(run, proc, main, admin, load)
                polls = (
                    await post_polls(fake, main, admin, load.polls)
                    if kind == "bot"
                    else fake_polls(fake, main, load.polls)
                )
                await votes(run, proc, main, members, polls, load)
                run.figures["peak MiB after the burst"] = peak_mib(proc.pid)
            errors = await proc.stop()
            if "Traceback" in errors:
                raise SystemExit(f"{kind} logged an error:\n{errors[-3000:]}")
        finally:
            await fake.close()
    biggest, smallest = max(load.scales), min(load.scales)
    most = run.figures[f"{biggest} servers: s IDENTIFY to ready"]
    least = run.figures[f"{smallest} servers: s IDENTIFY to ready"]
    run.figures["per-server start-up ms"] = (most - least) * 1000 / max(biggest - smallest, 1)
    return run


# -- the report -------------------------------------------------------------------------------

TARGETS = {  # figure: (bot/bare at most, or None; what the issue asks)
    "votes: CPU ms per click": 1.3,
    "lookups: CPU ms per interaction": 1.3,
    "1000 servers: peak MiB at ready": 1.5,
    "peak MiB after the burst": 1.5,
    "1000 servers: s to IDENTIFY": 2.0,
    "per-server start-up ms": 3.0,
}


def summary(values: list[float]) -> dict[str, float]:
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def report(runs: list[Run], store: dict[str, Any], load: Load) -> dict[str, Any]:
    keys = list(dict.fromkeys(k for r in runs for k in r.figures))
    table: dict[str, Any] = {}
    for key in keys:
        row = {}
        for kind in ("bot", "bare"):
            values = [r.figures[key] for r in runs if r.kind == kind and key in r.figures]
            if values:
                row[kind] = summary(values)
        if "bot" in row and "bare" in row and row["bare"]["median"]:
            row["ratio"] = row["bot"]["median"] / row["bare"]["median"]
            if key in TARGETS:
                row["target"] = TARGETS[key]
                row["met"] = row["ratio"] <= TARGETS[key]
        table[key] = row
    return {"load": load.__dict__, "rounds": len(runs) // 2, "table": table, "store": store}


def markdown(result: dict[str, Any]) -> str:
    lines = [
        "| figure | Halfbie (median, min-max) | bare discord.py | ratio | target |",
        "| --- | --- | --- | --- | --- |",
    ]

    def cell(s: dict[str, float] | None) -> str:
        if s is None:
            return "—"
        return f"{s['median']:.3g} ({s['min']:.3g}-{s['max']:.3g})"

    for key, row in result["table"].items():
        ratio = f"{row['ratio']:.2f}" if "ratio" in row else "—"
        target = f"≤ {row['target']} {'✅' if row['met'] else '❌'}" if "target" in row else ""
        lines.append(f"| {key} | {cell(row.get('bot'))} | {cell(row.get('bare'))} | {ratio} | {target} |")
    store = result["store"]
    lines.append(
        f"| store: votes/s through the store's writer vs raw aiosqlite group commit | "
        f"{store['store']['median']:.0f} | raw {store['raw']['median']:.0f} | {store['ratio']:.2f} | "
        f"≥ 0.5 {'✅' if store['ratio'] >= 0.5 else '❌'} |"
    )
    return "\n".join(lines)


async def main_async(args: argparse.Namespace) -> int:
    load = Load()
    if args.quick:
        load = Load(clicks=1_000, members=500, polls=5, click_flight=200, lookups=500, lookup_flight=50,
                    scales=(1, 100))  # fmt: skip
    runs: list[Run] = []
    commands: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="halfbie-bench-") as tmp:
        workdir = Path(tmp)
        for round_ in range(args.rounds):
            order = ("bot", "bare") if round_ % 2 == 0 else ("bare", "bot")
            for kind in order:
                started = time.monotonic()
                runs.append(await run_one(kind, load, workdir, commands))
                print(f"round {round_ + 1}: {kind} done in {time.monotonic() - started:.1f} s", flush=True)
        store = await store_bench.compare(
            workdir, votes=load.clicks, flight=load.click_flight, rounds=args.rounds
        )
    result = report(runs, store, load)
    text = markdown(result)
    print(text)
    out = Path(args.out)
    await asyncio.to_thread(out.parent.mkdir, parents=True, exist_ok=True)
    await asyncio.to_thread(out.write_text, json.dumps(result, indent=2), encoding="utf-8")
    print(f"\nwritten to {out}")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="a small load, to check the benchmark works")
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "latest.json"))
    return asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    sys.exit(main())
