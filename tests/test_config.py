"""Settings: one plain line and exit status 2 for every mistake, the token never shown."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import DEFAULT_DB, ConfigError, load_config

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "MTIzNDU2Nzg5MDEyMzQ1Njc4OQ.GaBcDe.abcdefghijklmnopqrstuvwxyz0123456789"


def env(**values: str) -> dict[str, str]:
    return {"DISCORD_TOKEN": TOKEN, **values}


def test_defaults(tmp_path: Path) -> None:
    settings = load_config(env())
    assert settings.token == TOKEN
    assert settings.db_path == DEFAULT_DB
    assert settings.dev_guild is None
    assert settings.log_level == "INFO"
    assert settings.owner_ids == frozenset()


def test_every_value(tmp_path: Path) -> None:
    settings = load_config(
        env(
            HALFBIE_DB=str(tmp_path / "x.db"),
            HALFBIE_DEV_GUILD="123456789012345678",
            HALFBIE_LOG_LEVEL="debug",
            HALFBIE_OWNER_IDS="111111111111111111, 222222222222222222",
        )
    )
    assert settings.db_path == tmp_path / "x.db"
    assert settings.dev_guild == 123456789012345678
    assert settings.log_level == "DEBUG"
    assert settings.owner_ids == {111111111111111111, 222222222222222222}


def test_token_never_in_repr() -> None:
    settings = load_config(env())
    assert TOKEN not in repr(settings)
    assert TOKEN not in str(settings)
    assert "hidden" in repr(settings)


@pytest.mark.parametrize(
    ("values", "variable"),
    [
        ({"DISCORD_TOKEN": ""}, "DISCORD_TOKEN"),
        ({"DISCORD_TOKEN": "not a token"}, "DISCORD_TOKEN"),
        ({"HALFBIE_DEV_GUILD": "my-server"}, "HALFBIE_DEV_GUILD"),
        ({"HALFBIE_DEV_GUILD": "-5"}, "HALFBIE_DEV_GUILD"),
        ({"HALFBIE_LOG_LEVEL": "LOUD"}, "HALFBIE_LOG_LEVEL"),
        ({"HALFBIE_OWNER_IDS": "12, bob"}, "HALFBIE_OWNER_IDS"),
        ({"HALFBIE_DB": "/nonexistent-folder/halfbie.db"}, "HALFBIE_DB"),
    ],
)
def test_bad_values_name_the_variable(values: dict[str, str], variable: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(env(**values))
    message = str(info.value)
    assert message.startswith(variable)
    assert ".env.example" in message
    assert "\n" not in message


def test_db_path_is_a_folder(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="HALFBIE_DB points at a folder"):
        load_config(env(HALFBIE_DB=str(tmp_path)))


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write anywhere")
def test_unwritable_folder(tmp_path: Path) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        with pytest.raises(ConfigError, match="cannot write"):
            load_config(env(HALFBIE_DB=str(folder / "h.db")))
    finally:
        folder.chmod(0o700)


def run_bot(extra: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "HALFBIE_"))}
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        env={**base, "DISCORD_TOKEN": "", **extra},
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )


def test_missing_token_exits_2_with_one_line() -> None:
    result = run_bot({})
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "DISCORD_TOKEN" in lines[0]
    assert ".env.example" in lines[0]
    assert "Traceback" not in result.stderr


def test_unwritable_db_exits_2(tmp_path: Path) -> None:
    result = run_bot({"DISCORD_TOKEN": TOKEN, "HALFBIE_DB": str(tmp_path / "missing" / "h.db")})
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert "HALFBIE_DB" in result.stderr
    assert TOKEN not in result.stderr + result.stdout


# -- shards -------------------------------------------------------------------------------------

PG = "postgresql://halfbie@127.0.0.1:5432/halfbie"


def test_shards_unset_leave_the_choice_to_discord_py() -> None:
    settings = load_config(env())
    assert (settings.shard_ids, settings.shard_count, settings.shards) == (None, None, None)


@pytest.mark.parametrize(
    ("shards", "ids"),
    [("0-3", (0, 1, 2, 3)), ("0,2,5", (0, 2, 5)), (" 8, 0-1 ,1", (0, 1, 8)), ("15", (15,))],
)
def test_shards_of_a_count_on_postgresql(shards: str, ids: tuple[int, ...]) -> None:
    settings = load_config(env(HALFBIE_DATABASE_URL=PG, HALFBIE_SHARDS=shards, HALFBIE_SHARD_COUNT="16"))
    assert (settings.shard_ids, settings.shard_count) == (ids, 16)
    assert settings.shards is not None
    assert settings.shards.ids == ids
    assert "shards=" in repr(settings)


def test_a_count_alone_runs_every_shard_here_even_on_sqlite() -> None:
    settings = load_config(env(HALFBIE_SHARD_COUNT="4"))
    assert settings.shard_ids is None
    assert settings.shards is not None
    assert settings.shards.ids == (0, 1, 2, 3)
    every = load_config(env(HALFBIE_SHARDS="0-3", HALFBIE_SHARD_COUNT="4"))  # all of them: one process
    assert every.shard_ids == (0, 1, 2, 3)


def test_the_command_line_overrides_the_settings() -> None:
    values = env(HALFBIE_DATABASE_URL=PG, HALFBIE_SHARDS="0-3", HALFBIE_SHARD_COUNT="16")
    settings = load_config(values, shards="4-7", shard_count="8")
    assert (settings.shard_ids, settings.shard_count) == ((4, 5, 6, 7), 8)
    assert load_config(values, shards="9").shard_ids == (9,)
    with pytest.raises(ConfigError, match=r"^HALFBIE_SHARDS names shard 3, .* 0 to 1 \(--shard-count=2\)"):
        load_config(values, shard_count="2")


@pytest.mark.parametrize(
    ("values", "variable", "words"),
    [
        ({"HALFBIE_SHARDS": "0-3"}, "HALFBIE_SHARDS", "HALFBIE_SHARD_COUNT"),
        ({"HALFBIE_SHARDS": "zero", "HALFBIE_SHARD_COUNT": "4"}, "HALFBIE_SHARDS", "such as 0-3"),
        ({"HALFBIE_SHARDS": "3-1", "HALFBIE_SHARD_COUNT": "4"}, "HALFBIE_SHARDS", "backwards"),
        ({"HALFBIE_SHARDS": "0,,1", "HALFBIE_SHARD_COUNT": "4"}, "HALFBIE_SHARDS", "such as 0-3"),
        ({"HALFBIE_SHARDS": "-1", "HALFBIE_SHARD_COUNT": "4"}, "HALFBIE_SHARDS", "such as 0-3"),
        ({"HALFBIE_SHARDS": "2-4", "HALFBIE_SHARD_COUNT": "4"}, "HALFBIE_SHARDS", "numbered 0 to 3"),
        ({"HALFBIE_SHARD_COUNT": "0"}, "HALFBIE_SHARD_COUNT", "1 or more"),
        ({"HALFBIE_SHARD_COUNT": "many"}, "HALFBIE_SHARD_COUNT", "1 or more"),
    ],
)
def test_bad_shards_name_the_setting(values: dict[str, str], variable: str, words: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(env(HALFBIE_DATABASE_URL=PG, **values))
    message = str(info.value)
    assert message.startswith(variable)
    assert words in message
    assert "\n" not in message


def test_part_of_the_shards_on_sqlite_is_refused() -> None:
    with pytest.raises(ConfigError) as info:
        load_config(env(HALFBIE_SHARDS="0-1", HALFBIE_SHARD_COUNT="4"))
    message = str(info.value)
    assert message.startswith("HALFBIE_SHARDS runs part of the bot's 4 shards")
    assert "HALFBIE_DATABASE_URL" in message
    assert "\n" not in message


def test_bad_shards_on_the_command_line_exit_2_with_one_line() -> None:
    result = run_bot({"DISCORD_TOKEN": TOKEN}, "run", "--shards", "0-1", "--shard-count", "4")
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith("halfbie: --shards runs part of the bot's 4 shards")
    result = run_bot({"DISCORD_TOKEN": TOKEN, "HALFBIE_SHARD_COUNT": "4"}, "run", "--shards", "7")
    assert result.returncode == 2
    assert "--shards names shard 7" in result.stderr
    assert "HALFBIE_SHARD_COUNT=4" in result.stderr
