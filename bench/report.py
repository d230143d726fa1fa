"""The targets, the table of figures, and the markdown README shows.

A result (what ``bench/results/latest.json`` holds) is plain JSON:

- ``machine``, ``date``, ``commit``, ``took_s``, ``load``, ``rounds``, ``postgresql``;
- ``figures``: figure name -> ``{"sqlite": s, "postgresql": s, "base": s, "base_is": ...}``,
  each ``s`` the median, min and max over the rounds, ``base`` what the figure is
  measured against (the bare discord.py bot, or the raw driver for the store alone);
- ``targets``: one line per target (the figure, the store, both values, the ratio, the
  target and whether it is met; ``pass`` is null for a line with no target set);
- ``passed``: every target met.
"""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

__all__ = ["Target", "evaluate", "machine", "markdown", "summary", "targets"]

ROOT = Path(__file__).resolve().parent.parent

BARE = "bare discord.py"
RAW_SQLITE = "raw aiosqlite, group commit"
RAW_PG = "raw asyncpg, batched insert"
STORE_SQLITE = "store alone: votes stored/s"
STORE_PG = "store alone on PostgreSQL: votes stored/s"
TAKEOVER_DONE = "jobs taken over: s from the dead process's lease's end to all done"
TAKEOVER_FIRST = "jobs taken over: s from the dead process's lease's end to the first run"
RESTART_DONE = "jobs taken back by the restarted process: s from its start to all done"
RESTART_FIRST = "jobs taken back by the restarted process: s from its start to the first run"
RESTART_OPENED = "restarted process: s from its start to its store open"
METRICS_CLICK = "metrics on: CPU ms per click"
WITHOUT_METRICS = "Halfbie without metrics"


def summary(values: list[float]) -> dict[str, float]:
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


@dataclass(frozen=True)
class Target:
    line: str  # what the line measures, with its unit
    figure: str  # the figure's name in the figures table
    store: Literal["sqlite", "postgresql", "metrics"]  # which of Halfbie's runs
    rule: Literal["ratio<=", "ratio>=", "<=", "none"]
    limit: float = 0.0

    def text(self, base_is: str) -> str:
        against = {BARE: "bare", WITHOUT_METRICS: "without"}.get(base_is, "raw")
        if self.rule == "ratio<=":
            return f"≤ {self.limit:g}x {against}"
        if self.rule == "ratio>=":
            return f"≥ {self.limit:g}x {against}"
        if self.rule == "<=":
            return f"≤ {self.limit:g}" if self.limit else "0"
        return "none set"


def targets(load: dict[str, Any], postgresql: bool, metrics: bool = False) -> list[Target]:
    """Issue 17's targets (and issue 14's PostgreSQL lines when a URL is given), for the
    sizes of this run."""
    big = max(load["scales"])
    flight = load["click_flight"]
    idle = load["idle_servers"]
    lines = [
        Target("CPU per click, ms", "votes: CPU ms per click", "sqlite", "ratio<=", 1.2),
        Target(
            "CPU per lookup (autocomplete included), ms",
            "lookups: CPU ms per interaction",
            "sqlite",
            "ratio<=",
            1.2,
        ),
        Target("per-server start-up, ms", "per-server start-up ms", "sqlite", "ratio<=", 1.5),
    ]
    if idle:
        lines.append(
            Target(
                f"database of {idle:,} idle servers, MB",
                f"{idle} idle servers: database MB",
                "sqlite",
                "<=",
                5,
            )
        )
    lines += [
        Target(f"ack p50 at {flight:,} clicks in flight, ms", "ack p50 ms", "sqlite", "ratio<=", 1.15),
        Target(f"ack p99 at {flight:,} clicks in flight, ms", "ack p99 ms", "sqlite", "ratio<=", 1.15),
        Target(f"late acks (> 3 s) at {flight:,} clicks in flight", "late acks (> 3 s)", "sqlite", "<=", 0),
        Target(
            f"time to IDENTIFY ({big:,} servers), s",
            f"{big} servers: s to IDENTIFY",
            "sqlite",
            "ratio<=",
            1.5,
        ),
        Target(
            f"peak memory at {big:,} servers, MiB",
            f"{big} servers: peak MiB at ready",
            "sqlite",
            "ratio<=",
            1.3,
        ),
        Target("peak memory after the burst, MiB", "peak MiB after the burst", "sqlite", "ratio<=", 1.3),
        Target(
            f"store alone: votes stored/s at {flight:,} in flight", STORE_SQLITE, "sqlite", "ratio>=", 0.5
        ),
    ]
    if metrics:  # issue 15: enabling the metrics costs at most 5% CPU per click
        lines.append(Target("metrics on: CPU per click, ms", METRICS_CLICK, "metrics", "ratio<=", 1.05))
    if postgresql:
        lines += [
            Target(
                f"PostgreSQL: store alone, votes stored/s at {flight:,} in flight",
                STORE_PG,
                "postgresql",
                "ratio>=",
                0.5,
            ),
            Target("PostgreSQL: CPU per click, ms", "votes: CPU ms per click", "postgresql", "ratio<=", 1.2),
            Target(
                "PostgreSQL: CPU per lookup (autocomplete included), ms",
                "lookups: CPU ms per interaction",
                "postgresql",
                "ratio<=",
                1.2,
            ),
            Target(
                f"PostgreSQL: a dead process's {load['takeover_jobs']} jobs done by a second one, "
                "s after the lease ended",
                TAKEOVER_DONE,
                "postgresql",
                "none",
            ),
            Target(
                f"PostgreSQL: a restarted process's {load['takeover_jobs']} claimed jobs done, "
                "s after it was started",
                RESTART_DONE,
                "postgresql",
                "none",
            ),
        ]
    return lines


def evaluate(lines: list[Target], figures: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Each target with its values, ratio and pass mark (False when a figure is missing)."""
    out = []
    for target in lines:
        row = figures.get(target.figure, {})
        value, base = row.get(target.store), row.get("base")
        base_is = row.get("base_is", BARE)
        ratio = value["median"] / base["median"] if value and base and base["median"] else None
        met: bool | None
        if target.rule == "none":
            met = None
        elif value is None:
            met = False
        elif target.rule == "<=":  # an absolute bound: every round within it
            met = value["max"] <= target.limit
        elif ratio is None:
            met = False
        else:
            met = ratio <= target.limit if target.rule == "ratio<=" else ratio >= target.limit
        out.append(
            {
                "line": target.line,
                "figure": target.figure,
                "store": target.store,
                "halfbie": value,
                "base": base,
                "base_is": base_is,
                "ratio": ratio,
                "target": target.text(base_is),
                "rule": target.rule,
                "limit": target.limit,
                "pass": met,
            }
        )
    return out


def _read(path: str) -> str:
    try:
        return Path(path).read_text(encoding="ascii", errors="replace")
    except OSError:
        return ""


def _git(*args: str) -> str:
    try:
        done = subprocess.run(
            ["git", "--no-optional-locks", *args],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return ""
    return done.stdout.strip()


def machine() -> dict[str, Any]:
    """What the run ran on (no host name)."""
    import discord  # the bot's version of it

    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in _read("/proc/cpuinfo").splitlines()
            if line.startswith("model name")
        ),
        platform.processor() or platform.machine(),
    )
    memory = next(
        (
            int(line.split()[1]) / 1024**2
            for line in _read("/proc/meminfo").splitlines()
            if line.startswith("MemTotal")
        ),
        0.0,
    )
    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "memory_gib": round(memory, 1),
        "system": platform.platform(),
        "python": platform.python_version(),
        "discord.py": discord.__version__,
    }


def commit() -> dict[str, Any]:
    return {
        "commit": _git("rev-parse", "--short", "HEAD"),
        "changed_files": len(_git("status", "--porcelain", "--untracked-files=no").splitlines()),
    }


# -- markdown -------------------------------------------------------------------------------------


def _number(x: float) -> str:
    if x == 0:
        return "0"
    if abs(x) >= 1000:
        return f"{x:,.0f}"
    return f"{x:.3g}"


def _cell(s: dict[str, float] | None, spread: bool = True) -> str:
    if not s:
        return "—"
    if not spread or s["min"] == s["max"]:
        return _number(s["median"])
    return f"{_number(s['median'])} ({_number(s['min'])}–{_number(s['max'])})"


def _mark(met: bool | None) -> str:
    return "" if met is None else ("✅" if met else "❌")


def targets_table(result: dict[str, Any]) -> str:
    lines = [
        "| target line | Halfbie | against | ratio | target | |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for t in result["targets"]:
        against = f"{t['base_is']}: {_cell(t['base'])}" if t["base"] else "—"
        ratio = f"{t['ratio']:.2f}" if t["ratio"] is not None else "—"
        cells = [t["line"], _cell(t["halfbie"]), against, ratio, t["target"], _mark(t["pass"])]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def figures_table(result: dict[str, Any]) -> str:
    postgresql = result.get("postgresql") is not None
    head = ["figure", "Halfbie, SQLite"] + (["Halfbie, PostgreSQL"] if postgresql else [])
    head += ["against", "ratio, SQLite"] + (["ratio, PostgreSQL"] if postgresql else [])
    lines = ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
    for name, row in result["figures"].items():
        base = row.get("base")

        def ratio(store: str, row: dict[str, Any] = row, base: dict[str, float] | None = base) -> str:
            value = row.get(store)
            return f"{value['median'] / base['median']:.2f}" if value and base and base["median"] else "—"

        against = f"{row.get('base_is', BARE)}: {_cell(base)}" if base else "—"
        cells = [name, _cell(row.get("sqlite"))] + ([_cell(row.get("postgresql"))] if postgresql else [])
        cells += [against, ratio("sqlite")] + ([ratio("postgresql")] if postgresql else [])
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def headline(result: dict[str, Any]) -> str:
    m = result["machine"]
    took = int(result["took_s"])
    pg = result.get("postgresql")
    where = f"SQLite and PostgreSQL {pg['version']}" if pg else "SQLite"
    load = result["load"]
    scales = ", ".join(f"{s:,}" for s in load["scales"])
    sizes = (
        f"{load['clicks']:,} clicks from {load['members']:,} members over {load['polls']} polls with "
        f"{load['click_flight']:,} in flight; {load['lookups']:,} lookups and autocompletes with "
        f"{load['lookup_flight']} in flight; start-up with {scales} servers"
        + (f"; {load['idle_servers']:,} idle servers" if load["idle_servers"] else "")
        + ("" if result.get("standard_load", True) else " (not the targets' sizes: the marks are indicative)")
    )
    loadavg = result.get("load_average")
    busy = (
        f" (load average {loadavg['start'][0]:.2f} at the start, {loadavg['end'][0]:.2f} at the end)"
        if loadavg
        else ""
    )
    missed = [t for t in result["targets"] if t["pass"] is False]
    verdict = (
        "every target met"
        if not missed
        else f"{len(missed)} of {sum(t['pass'] is not None for t in result['targets'])} targets missed"
    )
    return (
        f"`make bench` on {result['date'][:10]} ({where}), commit {result['commit']['commit'] or '?'}: "
        f"{m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB, Python {m['python']}, "
        f"discord.py {m['discord.py']}; {result['rounds']} round{'s' if result['rounds'] != 1 else ''}, "
        f"medians with the spread (min–max); {sizes}. "
        f"Took {took // 60} min {took % 60} s{busy}; {verdict}."
    )


def markdown(result: dict[str, Any]) -> str:
    """What README's performance section shows: the run, the targets, every figure."""
    return "\n\n".join(
        [headline(result), targets_table(result), "Every figure of the run:", figures_table(result)]
    )
