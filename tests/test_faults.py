"""Faults at start: a database the bot must not touch gets one plain line and exit status 2."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import pytest

from tests.fakediscord import FAKE_TOKEN

ROOT = Path(__file__).resolve().parent.parent


def run_bot(db: Path) -> subprocess.CompletedProcess[str]:
    """`python -m bot` with a valid token; it must stop before reaching Discord."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "HALFBIE_"))}
    return subprocess.run(
        [sys.executable, "-m", "bot"],
        env={**base, "DISCORD_TOKEN": FAKE_TOKEN, "HALFBIE_DB": str(db)},
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def assert_refused(result: subprocess.CompletedProcess[str], *words: str) -> None:
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    for word in words:
        assert word in lines[0], lines[0]


def test_missing_folder(tmp_path: Path) -> None:
    db = tmp_path / "gone" / "halfbie.db"
    assert_refused(run_bot(db), "HALFBIE_DB", "does not exist")
    assert not db.parent.exists()


def test_corrupt_file_is_left_untouched(tmp_path: Path) -> None:
    db = tmp_path / "halfbie.db"
    db.write_bytes(b"SQLite format 3\x00" + os.urandom(8192))
    before = digest(db)
    assert_refused(run_bot(db), str(db))
    assert digest(db) == before
    assert not Path(f"{db}-wal").exists()


def test_not_a_database_is_left_untouched(tmp_path: Path) -> None:
    db = tmp_path / "halfbie.db"
    db.write_text("my shopping list\n", encoding="utf-8")
    before = digest(db)
    assert_refused(run_bot(db))
    assert digest(db) == before


def test_file_from_a_newer_version_is_left_untouched(tmp_path: Path) -> None:
    db = tmp_path / "halfbie.db"
    # A database the way this bot leaves it, then stamped as written by a newer Halfbie.
    import asyncio

    from bot.store import Store

    async def make() -> None:
        store = await Store.open(db)
        await store.close()

    asyncio.run(make())
    with closing(sqlite3.connect(db)) as conn:
        conn.execute("PRAGMA user_version = 999")
        conn.commit()
    before = digest(db)
    assert_refused(run_bot(db), "newer version")
    assert digest(db) == before


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores file permissions")
def test_read_only_file_is_left_untouched(tmp_path: Path) -> None:  # pragma: no cover - non-root CI
    db = tmp_path / "halfbie.db"
    db.write_bytes(b"")
    db.chmod(0o444)
    before = digest(db)
    assert_refused(run_bot(db), "HALFBIE_DB")
    assert digest(db) == before
