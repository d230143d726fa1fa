"""The host's configuration: read once from the environment, validated, frozen, passed in.

python-dotenv loads ``.env`` into the environment first (values already set in
the environment win).  Every problem becomes a :class:`ConfigError` whose text
is one plain line naming the variable and what to do.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import re
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from bot.shards import ShardSet, parse_shard_ids
from bot.store import redact

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DB = ROOT / "data" / "halfbie.db"
ENV_EXAMPLE = ".env.example"

# A bot token is three base64url parts separated by dots; the first is the bot's id.
_TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{20,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{20,}$")
_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


class ConfigError(Exception):
    """A setting is missing or wrong; the message is one line for the host."""


@dataclass(frozen=True, slots=True)
class Config:
    token: str = field(repr=False)
    db_path: Path
    dev_guild: int | None = None
    log_level: str = "INFO"
    owner_ids: frozenset[int] = frozenset()
    database_url: str | None = field(default=None, repr=False)  # PostgreSQL; None: SQLite at db_path
    http_address: tuple[str, int] | None = None  # HALFBIE_HTTP: health and metrics; None: off
    log_format: str = "text"  # HALFBIE_LOG_FORMAT: "text" (people) or "json" (a log pipeline)
    # The shards this process runs, of shard_count; both None: discord.py decides (all of
    # the shards Discord recommends, in this one process).
    shard_ids: tuple[int, ...] | None = None
    shard_count: int | None = None

    def __repr__(self) -> str:  # the token (and a database password) never shows up in logs
        where = f"database_url={redact(self.database_url)!r}" if self.database_url else ""
        shards = f", shards={str(self.shards)!r}" if self.shards is not None else ""
        return (
            f"Config(token=<hidden>, db_path={str(self.db_path)!r}, {where + ', ' if where else ''}"
            f"dev_guild={self.dev_guild}, log_level={self.log_level!r}, owner_ids={sorted(self.owner_ids)}"
            f"{shards})"
        )

    __str__ = __repr__

    @property
    def database(self) -> str | Path:
        """What ``Store.open`` takes: the PostgreSQL URL if one is set, else the SQLite file."""
        return self.database_url or self.db_path

    @property
    def shards(self) -> ShardSet | None:
        """The shards this process runs (every one when only the count is set), or None
        when neither is set."""
        if self.shard_count is None:
            return None
        if self.shard_ids is None:
            return ShardSet.every(self.shard_count)
        return ShardSet(self.shard_ids, self.shard_count)

    @property
    def log_level_number(self) -> int:
        return logging.getLevelNamesMapping()[self.log_level]


def _fail(variable: str, problem: str) -> ConfigError:
    return ConfigError(f"{variable} {problem} (see {ENV_EXAMPLE} for every setting).")


def _snowflake(variable: str, text: str) -> int:
    text = text.strip()
    if not text.isdigit() or not 0 < int(text) < 2**63:
        raise _fail(variable, f"must be a Discord id (digits only), not {text[:40]!r}")
    return int(text)


def _check_db_path(raw: str) -> Path:
    path = Path(raw).expanduser()
    if not path.is_absolute():
        path = Path.cwd() / path
    if path.is_dir():
        raise _fail("HALFBIE_DB", f"points at a folder ({path}); give a file path such as data/halfbie.db")
    folder = path.parent
    if not folder.is_dir():
        raise _fail(
            "HALFBIE_DB",
            f"is in a folder that does not exist ({folder}); create it or change HALFBIE_DB",
        )
    if path.exists() and not os.access(path, os.R_OK | os.W_OK):
        raise _fail(
            "HALFBIE_DB",
            f"points at a file the bot cannot read and write ({path}); fix its permissions",
        )
    if not os.access(folder, os.W_OK | os.X_OK):
        raise _fail(
            "HALFBIE_DB",
            f"is in a folder the bot cannot write to ({folder}); fix its permissions or change HALFBIE_DB",
        )
    return path


_PG_SCHEMES = ("postgresql", "postgres")


def _database(raw: str) -> tuple[str | None, str | None]:
    """HALFBIE_DATABASE_URL as (a PostgreSQL URL, an SQLite path): one of them, or neither."""
    if not raw:
        return None, None
    scheme = raw.split("://", 1)[0].lower() if "://" in raw else ""
    if scheme in _PG_SCHEMES:
        try:
            parts = urllib.parse.urlsplit(raw)
            parts.port  # noqa: B018  (raises ValueError for a port that is not a number)
        except ValueError as exc:
            raise _fail("HALFBIE_DATABASE_URL", f"is not a valid PostgreSQL URL ({exc})") from None
        if not (parts.hostname or "host=" in parts.query):
            raise _fail(
                "HALFBIE_DATABASE_URL",
                "names no host: write it as postgresql://user:password@host:5432/database",
            )
        return raw, None
    if scheme == "sqlite":
        if not raw.startswith("sqlite:///") or raw == "sqlite:///":
            raise _fail(
                "HALFBIE_DATABASE_URL",
                "must be sqlite:///relative/path.db or sqlite:////absolute/path.db for SQLite",
            )
        return None, raw.removeprefix("sqlite:///")
    if scheme:
        raise _fail(
            "HALFBIE_DATABASE_URL",
            f"must be a postgresql:// URL or an SQLite file (a path, or sqlite:///...), not {scheme}://",
        )
    return None, raw  # a plain path: an SQLite file


def _shards(
    shards: tuple[str, str], count: tuple[str, str], *, postgres: bool
) -> tuple[tuple[int, ...] | None, int | None]:
    """The shard ids and count from ``(name, text)`` pairs (a setting, or the flag that
    overrides it); an empty text is unset."""
    (ids_name, ids_raw), (count_name, count_raw) = shards, count
    ids_raw, count_raw = ids_raw.strip(), count_raw.strip()
    if not count_raw:
        if ids_raw:
            raise _fail(
                ids_name,
                f"needs the bot's total number of shards too ({count_name}, the same in every process)",
            )
        return None, None
    if not count_raw.isdigit() or not 1 <= int(count_raw) <= 1 << 16:
        raise _fail(count_name, f"must be the bot's number of shards (1 or more), not {count_raw[:20]!r}")
    shard_count = int(count_raw)
    if not ids_raw:
        return None, shard_count  # every shard, in this process
    try:
        ids = parse_shard_ids(ids_raw)
    except ValueError as exc:
        raise _fail(ids_name, str(exc)) from None
    if ids[-1] >= shard_count:
        raise _fail(
            ids_name,
            f"names shard {ids[-1]}, but shards are numbered 0 to {shard_count - 1} "
            f"({count_name}={shard_count})",
        )
    if not postgres and len(ids) < shard_count:
        raise _fail(
            ids_name,
            f"runs part of the bot's {shard_count} shards, and processes cannot share an SQLite file: "
            "set HALFBIE_DATABASE_URL to PostgreSQL, or run every shard in this one process",
        )
    return ids, shard_count


_LOG_FORMATS = ("text", "json")
_YES, _NO = frozenset({"1", "true", "yes", "on"}), frozenset({"", "0", "false", "no", "off"})


def _log_format(env: Mapping[str, str]) -> str:
    log_format = (env.get("HALFBIE_LOG_FORMAT", "").strip() or "text").lower()
    if log_format not in _LOG_FORMATS:
        raise _fail("HALFBIE_LOG_FORMAT", f"must be text or json, not {log_format[:20]!r}")
    return log_format


def _is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _http_address(env: Mapping[str, str]) -> tuple[str, int] | None:
    """HALFBIE_HTTP as (host, port), or None when off; a public address only when
    HALFBIE_HTTP_PUBLIC says so (health and metrics tell anyone how the bot is doing)."""
    raw = env.get("HALFBIE_HTTP", "").strip()
    public_raw = env.get("HALFBIE_HTTP_PUBLIC", "").strip().lower()
    if public_raw not in _YES | _NO:
        raise _fail("HALFBIE_HTTP_PUBLIC", f"must be 1 or 0, not {public_raw[:20]!r}")
    if raw.lower() in _NO:
        return None
    host, colon, port = raw.rpartition(":")
    host = host.removeprefix("[").removesuffix("]")  # [::1]:8080
    if not colon or not host or not port.isdigit() or int(port) > 65535:
        raise _fail("HALFBIE_HTTP", f"must be host:port, such as 127.0.0.1:8080, not {raw[:60]!r}")
    if public_raw not in _YES and not _is_loopback(host):
        raise _fail(
            "HALFBIE_HTTP",
            f"is not a loopback address ({raw[:60]}), so anyone on the network could read the "
            "bot's health and metrics: use 127.0.0.1:8080, or set HALFBIE_HTTP_PUBLIC=1 if that is "
            "meant (inside a container)",
        )
    return host, int(port)


def load_config(
    env: Mapping[str, str] | None = None,
    *,
    require_token: bool = True,
    shards: str | None = None,
    shard_count: str | None = None,
) -> Config:
    """Read and check every setting; ``env`` defaults to ``os.environ``.

    Commands that never log in (``backup``, ``export``) pass ``require_token=False``.
    ``shards`` and ``shard_count`` are the command line's ``--shards`` and
    ``--shard-count``, which override HALFBIE_SHARDS and HALFBIE_SHARD_COUNT.
    """
    env = os.environ if env is None else env

    token = env.get("DISCORD_TOKEN", "").strip()
    if require_token:
        if not token:
            raise _fail(
                "DISCORD_TOKEN",
                "is not set: copy .env.example to .env and put your bot's token in it",
            )
        if not _TOKEN_RE.match(token):
            raise _fail(
                "DISCORD_TOKEN",
                "does not look like a bot token: copy it again from the Developer Portal (Bot, Reset Token)",
            )

    # HALFBIE_DATABASE_URL: postgresql://... selects PostgreSQL; an SQLite path (or
    # sqlite:///...) is the same as HALFBIE_DB.  Unset: HALFBIE_DB, or data/halfbie.db.
    database_url, sqlite_path = _database(env.get("HALFBIE_DATABASE_URL", "").strip())
    if sqlite_path is not None:
        db_path = _check_db_path(sqlite_path)
    elif database_url is not None:  # unused, so not checked
        db_path = Path(env.get("HALFBIE_DB", "").strip() or str(DEFAULT_DB))
    else:
        db_path = _check_db_path(env.get("HALFBIE_DB", "").strip() or str(DEFAULT_DB))

    dev_guild_raw = env.get("HALFBIE_DEV_GUILD", "").strip()
    dev_guild = _snowflake("HALFBIE_DEV_GUILD", dev_guild_raw) if dev_guild_raw else None

    log_level = (env.get("HALFBIE_LOG_LEVEL", "").strip() or "INFO").upper()
    if log_level not in _LOG_LEVELS:
        raise _fail("HALFBIE_LOG_LEVEL", f"must be one of {', '.join(_LOG_LEVELS)}, not {log_level[:20]!r}")

    owners_raw = env.get("HALFBIE_OWNER_IDS", "").strip()
    owner_ids = frozenset(
        _snowflake("HALFBIE_OWNER_IDS", part) for part in re.split(r"[,\s]+", owners_raw) if part
    )

    # The command line's --shards and --shard-count win over the settings.
    shard_ids, count = _shards(
        ("--shards", shards) if shards is not None else ("HALFBIE_SHARDS", env.get("HALFBIE_SHARDS", "")),
        ("--shard-count", shard_count)
        if shard_count is not None
        else ("HALFBIE_SHARD_COUNT", env.get("HALFBIE_SHARD_COUNT", "")),
        postgres=database_url is not None,
    )

    return Config(
        token=token,
        db_path=db_path,
        dev_guild=dev_guild,
        log_level=log_level,
        owner_ids=owner_ids,
        database_url=database_url,
        http_address=_http_address(env),
        log_format=_log_format(env),
        shard_ids=shard_ids,
        shard_count=count,
    )
