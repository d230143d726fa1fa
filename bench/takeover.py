"""How soon a dead process's timed jobs run again, on PostgreSQL.

The bot's own store and scheduler (``bot/store/jobs.py``, ``bot/scheduler.py``), each
process a process of its own, each measurement in a fresh database:

- **takeover**: a process claims N due jobs with a short lease (``--takeover-lease``, so
  the run need not wait out the scheduler's real lease of 120 s) and is killed (SIGKILL)
  before running them.  A second process (another owner name, the same shards: a
  replacement started elsewhere) starts while that lease still runs.  Measured from the
  lease's end: until the second process runs the first of the jobs, and until all N
  are done (the bench polls the jobs table).  The real delay after a crash is this plus
  what was left of the dead process's lease (up to 120 s).
- **restart**: a process claims N due jobs under the real lease and is killed; the same
  process (the same owner name) starts again and takes its claims back at once.
  Measured from its spawn (Python's start-up and opening the store included) until it
  runs the first job and until all N are done.

Both check that every job ran exactly once, in the second process, after the claim of
the dead one (two attempts each).

    python -m bench.takeover claim URL OWNER N LEASE   # claims, reports, waits to be killed
    python -m bench.takeover run URL OWNER N           # runs the scheduler until N jobs ran
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
import time
from pathlib import Path
from typing import Any

from bench.database import Probe, fresh_postgres
from bot.clock import SystemClock
from bot.models import Job, NewJob
from bot.scheduler import LEASE, Scheduler
from bot.store import Store

__all__ = ["measure"]

ROOT = Path(__file__).resolve().parent.parent
KIND = "bench.takeover"


# -- the bench's side ------------------------------------------------------------------------


async def _spawn(*args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.takeover", *args, cwd=ROOT,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip


async def _report(proc: asyncio.subprocess.Process, what: str, within: float) -> dict[str, Any]:
    assert proc.stdout is not None
    assert proc.stderr is not None
    try:
        line = await asyncio.wait_for(proc.stdout.readline(), within)
    except TimeoutError:
        line = b""
    if not line:
        if proc.returncode is None:
            proc.kill()
        await proc.wait()
        errors = (await proc.stderr.read()).decode(errors="replace")
        raise SystemExit(
            f"takeover: the {what} process said nothing within {within:.0f} s:\n{errors[-3000:]}"
        )
    report: dict[str, Any] = json.loads(line)
    return report


async def _schedule(url: str, jobs: int) -> None:
    store = await Store.open(url)
    try:
        due = int(time.time()) - 1
        await asyncio.gather(*(store.guilds.seen((i + 1) << 22) for i in range(jobs)))
        await asyncio.gather(
            *(store.jobs.schedule(NewJob(KIND, f"job-{i}", due, guild_id=(i + 1) << 22)) for i in range(jobs))
        )
    finally:
        await store.close()


async def _all_done(probe: Probe, jobs: int, within: float) -> float:
    """When (Unix time) every job was done, polled every 5 ms."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        done = await probe.value("SELECT COUNT(*) FROM jobs WHERE kind = ? AND state = 'done'", KIND)
        if done == jobs:
            return time.time()
        await asyncio.sleep(0.005)
    raise SystemExit(f"takeover: the {jobs} jobs were not all done {within:.0f} s later")


async def _check(probe: Probe, owner: str, jobs: int, report: dict[str, Any]) -> None:
    once = await probe.value(
        "SELECT COUNT(*) FROM jobs WHERE kind = ? AND state = 'done' AND claimed_by = ? AND attempts = 2",
        KIND,
        owner,
    )
    if once != jobs or report["handled"] != jobs:
        raise SystemExit(
            f"takeover: {report['handled']} runs and {once} jobs done once by {owner} for {jobs} jobs"
        )


async def _takeover(url: str, jobs: int, lease: int) -> dict[str, float]:
    async with fresh_postgres(url) as database, Probe.opened(database) as probe:
        await _schedule(database, jobs)
        dead = await _spawn("claim", database, "halfbie:bench-dead", str(jobs), str(lease))
        claimed = await _report(dead, "claiming", 60)
        dead.kill()
        await dead.wait()
        lease_end = float(claimed["lease_until"])
        survivor = await _spawn("run", database, "halfbie:bench-survivor", str(jobs))
        done = await _all_done(probe, jobs, within=lease + 60)
        report = await _report(survivor, "second", 30)
        await survivor.wait()
        if report["scheduler_started"] > lease_end:
            raise SystemExit(
                f"takeover: the second process was ready {report['scheduler_started'] - lease_end:.1f} s "
                f"after the lease had ended: give a longer --takeover-lease than {lease}"
            )
        await _check(probe, "halfbie:bench-survivor", jobs, report)
        return {"first": report["first"] - lease_end, "done": done - lease_end}


async def _restart(url: str, jobs: int) -> dict[str, float]:
    owner = "halfbie:bench-restart"
    async with fresh_postgres(url) as database, Probe.opened(database) as probe:
        await _schedule(database, jobs)
        dead = await _spawn("claim", database, owner, str(jobs), str(LEASE))
        await _report(dead, "claiming", 60)
        dead.kill()
        await dead.wait()
        spawned = time.time()
        again = await _spawn("run", database, owner, str(jobs))
        done = await _all_done(probe, jobs, within=min(60, LEASE / 2))  # well within the lease
        report = await _report(again, "restarted", 30)
        await again.wait()
        await _check(probe, owner, jobs, report)
        return {
            "first": report["first"] - spawned,
            "done": done - spawned,
            "opened": report["opened"] - spawned,
        }


async def measure(url: str, *, jobs: int, lease: int, rounds: int) -> dict[str, list[float]]:
    """Seconds of each round: ``takeover first`` and ``takeover done`` from the dead
    process's lease's end; ``restart first``, ``restart done`` and ``restart opened``
    from the restarted process's spawn."""
    figures: dict[str, list[float]] = {}
    for _ in range(rounds):
        for name, result in (
            ("takeover", await _takeover(url, jobs, lease)),
            ("restart", await _restart(url, jobs)),
        ):
            for key, seconds in result.items():
                figures.setdefault(f"{name} {key}", []).append(seconds)
    return figures


# -- the processes' side ---------------------------------------------------------------------


def _say(report: dict[str, Any]) -> None:
    print(json.dumps(report), flush=True)


async def _claim(url: str, owner: str, jobs: int, lease: int) -> None:
    store = await Store.open(url)
    claimed = await store.jobs.claim_due(int(time.time()), owner, kinds=[KIND], lease=lease, limit=jobs)
    if len(claimed) != jobs:
        raise SystemExit(f"claimed {len(claimed)} of {jobs} jobs")
    _say({"claimed": len(claimed), "lease_until": max(job.lease_until or 0 for job in claimed)})
    await asyncio.Event().wait()  # until killed: the claims stay, as a crash leaves them


async def _run(url: str, owner: str, jobs: int) -> None:
    store = await Store.open(url)
    opened = time.time()
    ran: list[float] = []
    all_ran = asyncio.Event()

    async def handler(job: Job) -> None:
        ran.append(time.time())
        if len(ran) >= jobs:
            all_ran.set()

    scheduler = Scheduler(store, SystemClock(), owner=owner)
    scheduler.register(KIND, handler)
    started = time.time()
    scheduler.start()
    try:
        await asyncio.wait_for(all_ran.wait(), LEASE + 60)
        await asyncio.sleep(0.2)  # a second run of any job would show up here
    finally:
        await scheduler.stop()  # the last job's completion is committed first
        await store.close()
    _say(
        {
            "opened": opened,
            "scheduler_started": started,
            "first": ran[0],
            "last": ran[-1],
            "handled": len(ran),
        }
    )


def main() -> None:
    logging.basicConfig(level=logging.WARNING)
    command, url, owner, jobs, *rest = sys.argv[1:]
    if command == "claim":
        asyncio.run(_claim(url, owner, int(jobs), int(rest[0])))
    elif command == "run":
        asyncio.run(_run(url, owner, int(jobs)))
    else:
        raise SystemExit(f"unknown command {command!r}")


if __name__ == "__main__":
    main()
