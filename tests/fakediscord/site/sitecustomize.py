"""Point discord.py at the fake Discord in a subprocess (``FakeDiscord.env()``).

Python imports ``sitecustomize`` at start-up from ``PYTHONPATH``.  When
``HALFBIE_FAKE_DISCORD_URL`` is set, a meta-path hook patches ``discord.http.Route.BASE`` and
``discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY`` right after those modules are imported,
so start-up stays cheap (discord.py is not imported here) and nothing else changes.  A
``sitecustomize`` further down ``sys.path`` (shadowed by this one) is still run.
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:  # no typing import at interpreter start
    import importlib.machinery
    import types
    from collections.abc import Sequence
    from typing import Any

_URL = os.environ.get("HALFBIE_FAKE_DISCORD_URL", "").rstrip("/")
_TARGETS = ("discord.http", "discord.gateway")


def _patch(module: types.ModuleType) -> None:
    """Called right after discord.http / discord.gateway finished executing."""
    if module.__name__ == "discord.http":
        module.Route.BASE = _URL + "/api/v10"
    elif module.__name__ == "discord.gateway":
        import yarl

        ws = "ws://" + _URL.split("://", 1)[-1] + "/gateway"
        module.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(ws)


class _PatchingLoader:
    def __init__(self, wrapped: Any) -> None:
        self._wrapped = wrapped

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType | None:
        return self._wrapped.create_module(spec)  # type: ignore[no-any-return]

    def exec_module(self, module: types.ModuleType) -> None:
        self._wrapped.exec_module(module)
        _patch(module)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._wrapped, name)


class _PatchingFinder:
    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None,
        target: types.ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname not in _TARGETS:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None:
                if spec.loader is not None:
                    spec.loader = _PatchingLoader(spec.loader)  # type: ignore[assignment]
                return spec
        return None


def _chain_shadowed_sitecustomize() -> None:
    here = os.path.dirname(os.path.abspath(__file__))
    for entry in sys.path:
        if os.path.abspath(entry or ".") == here:
            continue
        candidate = os.path.join(entry or ".", "sitecustomize.py")
        if os.path.isfile(candidate):
            namespace: dict[str, Any] = {"__name__": "sitecustomize", "__file__": candidate}
            try:
                with open(candidate, encoding="utf-8") as fh:
                    exec(compile(fh.read(), candidate, "exec"), namespace)
            except Exception:  # the shadowed file's own problems are not ours
                pass
            return


if _URL:
    if any(name in sys.modules for name in _TARGETS):
        for _name in _TARGETS:
            if _name in sys.modules:
                _patch(sys.modules[_name])
    sys.meta_path.insert(0, _PatchingFinder())

_chain_shadowed_sitecustomize()
