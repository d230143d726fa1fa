"""HALFBIE_DATABASE_URL: PostgreSQL by URL, SQLite by path (the default), one line for a mistake."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import DEFAULT_DB, ConfigError, load_config

TOKEN = "MTIzNDU2Nzg5MDEyMzQ1Njc4OQ.GaBcDe.abcdefghijklmnopqrstuvwxyz0123456789"


def env(**values: str) -> dict[str, str]:
    return {"DISCORD_TOKEN": TOKEN, **values}


def test_sqlite_stays_the_default() -> None:
    settings = load_config(env())
    assert settings.database_url is None
    assert settings.database == DEFAULT_DB


@pytest.mark.parametrize("scheme", ["postgresql", "postgres"])
def test_a_postgresql_url_selects_postgresql(scheme: str) -> None:
    url = f"{scheme}://halfbie@db.example:5432/halfbie"
    settings = load_config(env(HALFBIE_DATABASE_URL=url))
    assert settings.database_url == url
    assert settings.database == url


def test_the_password_never_shows_in_the_settings_repr() -> None:
    settings = load_config(env(HALFBIE_DATABASE_URL="postgresql://halfbie:s3cret@db.example/halfbie"))
    assert "s3cret" not in repr(settings)
    assert "postgresql://halfbie:***@db.example/halfbie" in repr(settings)


def test_an_sqlite_url_or_path_is_the_sqlite_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert load_config(env(HALFBIE_DATABASE_URL="sqlite:///h.db")).database == tmp_path / "h.db"
    absolute = tmp_path / "abs.db"
    assert load_config(env(HALFBIE_DATABASE_URL=f"sqlite:///{absolute}")).database == absolute
    assert load_config(env(HALFBIE_DATABASE_URL=str(absolute))).database == absolute


@pytest.mark.parametrize(
    "url",
    [
        "mysql://root@localhost/halfbie",
        "postgresql://halfbie@db.example:port/halfbie",
        "postgresql:///halfbie",
        "sqlite://h.db",
    ],
)
def test_a_wrong_url_is_one_line_naming_the_variable(url: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(env(HALFBIE_DATABASE_URL=url))
    message = str(caught.value)
    assert message.startswith("HALFBIE_DATABASE_URL ")
    assert "\n" not in message
