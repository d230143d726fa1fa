"""``python -m tests.fakediscord --port 0 --guilds N --print-url``: run the fake on its own.

Prints ``URL http://127.0.0.1:PORT`` (flushed) once listening and serves until SIGTERM or
SIGINT.  Drive it through the ``/_fake/`` control API (see control.py); point a bot at it
with ``FakeDiscord.env()``-style variables (``HALFBIE_FAKE_DISCORD_URL`` plus ``PYTHONPATH``
containing ``tests/fakediscord/site``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys

from .server import ENV_URL, FAKE_TOKEN, SITE_DIR, FakeDiscord


async def serve(args: argparse.Namespace) -> None:
    fake = FakeDiscord(
        token=args.token,
        host=args.host,
        port=args.port,
        realistic_rate_limits=args.realistic_rate_limits,
        interaction_deadline=args.deadline,
    )
    fake.recommended_shards = args.shards
    fake.add_guilds(args.guilds, members=args.members)
    await fake.start()
    if args.print_url:
        print(f"URL {fake.url}", flush=True)
        print(f"TOKEN {fake.token}", flush=True)
        print(f"SITE {SITE_DIR}", flush=True)
        print(f"ENV {ENV_URL}={fake.url}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    if fake.violations:
        print(f"VIOLATIONS {len(fake.violations)}", file=sys.stderr, flush=True)
        for v in fake.violations[:50]:
            print(f"  {v}", file=sys.stderr, flush=True)
    await fake.close()


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m tests.fakediscord", description=__doc__)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--guilds", type=int, default=1)
    p.add_argument("--members", type=int, default=2, help="plain members per guild")
    p.add_argument("--shards", type=int, default=1, help="recommended shards in /gateway/bot")
    p.add_argument("--token", default=FAKE_TOKEN)
    p.add_argument("--deadline", type=float, default=3.0, help="interaction callback deadline (s)")
    p.add_argument("--realistic-rate-limits", action="store_true")
    p.add_argument("--print-url", action="store_true")
    asyncio.run(serve(p.parse_args(argv)))


if __name__ == "__main__":
    main()
