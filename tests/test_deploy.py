"""The container and the service units cannot be built or started here (no image registry,
no systemd running the bot): their commands, paths and settings are checked against what
the bot reads, and ``systemd-analyze verify`` checks the units where it exists."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.__main__ import _parser
from bot.config import load_config
from bot.shards import parse_shard_ids

ROOT = Path(__file__).resolve().parent.parent
DOCKERFILE = ROOT / "Dockerfile"
COMPOSE = ROOT / "compose.yaml"
UNITS = (ROOT / "deploy" / "halfbie.service", ROOT / "deploy" / "halfbie@.service")
HEALTH_PORT = 8080


def settings() -> set[str]:
    """Every environment variable the bot reads: the names bot/config.py spells out."""
    names = set(re.findall(r'"((?:DISCORD|HALFBIE)_[A-Z_]+)"', (ROOT / "bot" / "config.py").read_text()))
    assert {"DISCORD_TOKEN", "HALFBIE_DB", "HALFBIE_HTTP", "HALFBIE_LOG_FORMAT"} <= names
    return names


def documented() -> set[str]:
    return set(re.findall(r"^#?\s*((?:DISCORD|HALFBIE)_[A-Z_]+)=", (ROOT / ".env.example").read_text(), re.M))


def script_name() -> str:
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    (name,) = [name for name, target in scripts.items() if target == "bot.__main__:main"]
    return str(name)


def parses(argv: list[str]) -> Any:
    """The command line the bot would parse; argparse exits (SystemExit) on anything unknown."""
    return _parser().parse_args(argv)


def test_every_setting_is_in_env_example() -> None:
    assert settings() - documented() == set()


# -- Dockerfile ------------------------------------------------------------------------------


def dockerfile() -> list[tuple[str, str]]:
    """(instruction, arguments), continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n\s*", " ", DOCKERFILE.read_text())
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            instruction, _, rest = line.partition(" ")
            out.append((instruction.upper(), rest.strip()))
    return out


def env_pairs(arguments: str) -> dict[str, str]:
    return dict(part.split("=", 1) for part in shlex.split(arguments))


def test_dockerfile_runs_the_bot_as_a_user_with_its_data_on_a_volume(tmp_path: Path) -> None:
    lines = dockerfile()
    assert lines[0] == ("FROM", "python:3.11-slim")
    for instruction, arguments in lines:
        if instruction == "COPY":
            *sources, _ = shlex.split(arguments)
            for source in sources:
                assert (ROOT / source).exists(), f"COPY {source}: not in the repository"
    assert ("RUN", "pip install .") in lines
    env: dict[str, str] = {}
    for instruction, arguments in lines:
        if instruction == "ENV":
            env.update(env_pairs(arguments))
    bot_env = {name for name in env if name.startswith(("HALFBIE_", "DISCORD_"))}
    assert bot_env <= settings(), bot_env - settings()
    assert env["HALFBIE_DB"] == "/data/halfbie.db"
    assert env["HALFBIE_HTTP"] == f"0.0.0.0:{HEALTH_PORT}"
    volumes = [arguments for instruction, arguments in lines if instruction == "VOLUME"]
    assert volumes == ['["/data"]']
    # The settings as the bot reads them inside the container (its /data: a folder here).
    inside = {**env, "DISCORD_TOKEN": "", "HALFBIE_DB": str(tmp_path / "halfbie.db")}
    config = load_config(inside, require_token=False)
    assert config.http_address == ("0.0.0.0", HEALTH_PORT)
    assert config.log_format == "json"
    users = [arguments for instruction, arguments in lines if instruction == "USER"]
    assert users
    assert users[-1] not in ("root", "0")
    (entrypoint,) = [arguments for instruction, arguments in lines if instruction == "ENTRYPOINT"]
    (cmd,) = [arguments for instruction, arguments in lines if instruction == "CMD"]
    assert yaml.safe_load(entrypoint) == [script_name()]
    assert parses(yaml.safe_load(cmd)).command == "run"
    (health,) = [arguments for instruction, arguments in lines if instruction == "HEALTHCHECK"]
    assert f"http://127.0.0.1:{HEALTH_PORT}/healthz" in health
    assert "urllib.request" in health
    assert "curl" not in health


def test_dockerignore_keeps_secrets_and_the_database_out() -> None:
    ignored = (ROOT / ".dockerignore").read_text().splitlines()
    assert {".env", ".venv", ".git", "data/*.db"} <= set(ignored)
    copied = {shlex.split(arguments)[0] for instruction, arguments in dockerfile() if instruction == "COPY"}
    assert not copied & set(ignored)


# -- compose.yaml ----------------------------------------------------------------------------


def compose() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return document


def test_compose_runs_the_bot_on_sqlite_by_default_and_shards_on_postgres(tmp_path: Path) -> None:
    services = compose()["services"]
    default = [name for name, service in services.items() if not service.get("profiles")]
    assert default == ["halfbie"]
    postgres = services["postgres"]
    assert postgres["image"].startswith("postgres:15")
    assert "pg_isready" in " ".join(postgres["healthcheck"]["test"])
    sharded = [name for name, service in services.items() if "--shards" in service.get("command", [])]
    assert len(sharded) >= 2
    ranges: list[int] = []
    counts = set()
    for name in ["halfbie", *sharded]:
        service = services[name]
        args = parses(service["command"])
        assert args.command == "run"
        env = {key: str(value) for key, value in service["environment"].items()}
        assert set(env) <= settings(), set(env) - settings()
        if name == "halfbie":
            assert env["HALFBIE_DB"] == "/data/halfbie.db"
            assert "halfbie-data:/data" in service["volumes"]
            env["HALFBIE_DB"] = str(tmp_path / "halfbie.db")
        else:
            assert "postgres" in service["profiles"]
            assert service["depends_on"]["postgres"]["condition"] == "service_healthy"
            assert "@postgres:5432/" in env["HALFBIE_DATABASE_URL"]
        config = load_config(
            {**env, "DISCORD_TOKEN": ""},
            require_token=False,
            shards=getattr(args, "shards", None),
            shard_count=getattr(args, "shard_count", None),
        )
        assert config.http_address == ("0.0.0.0", HEALTH_PORT)
        if name != "halfbie":
            ranges += parse_shard_ids(args.shards)
            counts.add(config.shard_count)
        assert f"http://127.0.0.1:{HEALTH_PORT}/healthz" in " ".join(service["healthcheck"]["test"])
    (count,) = counts
    assert sorted(ranges) == list(range(count)), "the shard processes run every shard once"


# -- systemd ---------------------------------------------------------------------------------


def unit(path: Path) -> dict[str, list[str]]:
    """``Key`` -> its values (a key may repeat), every section together."""
    values: dict[str, list[str]] = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith(("#", ";", "[")):
            key, _, value = line.partition("=")
            values.setdefault(key.strip(), []).append(value.strip())
    return values


@pytest.mark.parametrize("path", UNITS, ids=lambda path: path.name)
def test_units_run_the_bot_hardened_with_a_writable_state_folder(path: Path, tmp_path: Path) -> None:
    values = unit(path)
    (exec_start,) = values["ExecStart"]
    binary, *argv = shlex.split(exec_start.replace("%i", "0-3"))
    assert Path(binary).name == script_name()
    args = parses(argv)
    assert args.command == "run"
    if path.name == "halfbie@.service":
        assert "--shards %i" in exec_start
        assert parse_shard_ids(args.shards) == (0, 1, 2, 3)
    for key, value in {
        "Restart": "on-failure",
        "NoNewPrivileges": "yes",
        "ProtectSystem": "strict",
        "ProtectHome": "yes",
        "PrivateTmp": "yes",
        "StateDirectory": "halfbie",
        "KillSignal": "SIGTERM",
    }.items():
        assert values.get(key) == [value], key
    assert values["EnvironmentFile"][0] == "/etc/halfbie/halfbie.env"
    assert values["RestartPreventExitStatus"] == ["2"]  # a setting to fix: no restart loop
    for pair in values.get("Environment", []):
        name, _, where = pair.partition("=")
        assert name in settings(), name
        if name == "HALFBIE_DB":
            assert where.startswith("/var/lib/halfbie/")  # StateDirectory: the one writable place
            assert "/var/lib/halfbie" in values["ReadWritePaths"]


def test_systemd_analyze_verifies_the_units(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed here")
    halfbie = shutil.which(script_name(), path=str(ROOT / ".venv" / "bin")) or shutil.which("true")
    assert halfbie is not None
    copies = []
    for path, name in ((UNITS[0], "halfbie.service"), (UNITS[1], "halfbie@0-3.service")):
        # The installed script's place on a host (/opt/halfbie/.venv) does not exist here.
        text = path.read_text().replace(f"/opt/halfbie/.venv/bin/{script_name()}", halfbie)
        copy = tmp_path / name
        copy.write_text(text)
        copies.append(str(copy))
    result = subprocess.run([analyze, "verify", *copies], capture_output=True, text=True, timeout=60)
    if "Failed to" in result.stderr and "bus" in result.stderr.lower():
        pytest.skip(f"systemd-analyze cannot run here: {result.stderr.strip()[:200]}")
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == "", result.stderr
