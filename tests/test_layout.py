"""The shape of the code, checked: a feature package's private modules are its own, and no
two parts of the bot import each other in a circle.

The imports are read from the source (every ``import`` a module runs, at its top or in
a function; those under ``if TYPE_CHECKING:`` are for the type checker only and are
left out), so a lazy import inside a function cannot hide a circle.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("bot", "cogs", "bench")
# Parts of the bot that may not import each other in a circle: each subpackage of bot/
# (the store, render, i18n, ui) is one part, and so is each feature under cogs/ and
# each module of bot/'s frame.
GROUPED = ("bot.store", "bot.render", "bot.i18n", "bot.ui")


def modules() -> Iterator[tuple[str, Path]]:
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            yield ".".join(parts), path


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imports_of(name: str, path: Path) -> set[str]:
    """The modules ``name`` imports when it runs (relative imports resolved)."""
    tree = ast.parse(path.read_text("utf-8"), str(path))
    is_package = path.name == "__init__.py"
    package = name if is_package else name.rpartition(".")[0]
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                module = ".".join([*base, *([node.module] if node.module else [])])
            else:
                module = node.module or ""
            found.add(module)
            # "from pkg import _private" imports the module pkg._private when it is one
            found.update(f"{module}.{alias.name}" for alias in node.names)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    known = dict(modules())
    return {m for m in found if m in known or (m.split(".")[0] in PACKAGES and m.rpartition(".")[0] in known)}


def part_of(module: str) -> str:
    for group in GROUPED:
        if module == group or module.startswith(group + "."):
            return group
    parts = module.split(".")
    if parts[0] == "cogs" and len(parts) > 1:
        return ".".join(parts[:2])
    return module


def private_reaches(graph: Mapping[str, set[str]]) -> list[str]:
    """``a imports b`` where b is a ``_private`` module of a package a is not inside."""
    problems = []
    for importer, imported in sorted(graph.items()):
        for module in sorted(imported):
            parts = module.split(".")
            for depth, part in enumerate(parts):
                owner = ".".join(parts[:depth])
                if part.startswith("_") and not part.startswith("__") and owner:
                    if not (importer == owner or importer.startswith(owner + ".")):
                        problems.append(f"{importer} imports {module}, private to {owner}")
                    break
    return problems


def circles(graph: Mapping[str, set[str]]) -> list[list[str]]:
    """The circles between parts: strongly connected groups of more than one part."""
    edges: dict[str, set[str]] = {}
    for importer, imported in graph.items():
        source = part_of(importer)
        edges.setdefault(source, set())
        for module in imported:
            target = part_of(module)
            if target != source:
                edges[source].add(target)
                edges.setdefault(target, set())
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def connect(node: str) -> None:  # Tarjan's algorithm
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in sorted(edges[node]):
            if target not in index:
                connect(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(edges):
        if node not in index:
            connect(node)
    return found


def import_graph() -> dict[str, set[str]]:
    return {name: imports_of(name, path) for name, path in modules()}


def test_no_module_reaches_into_another_packages_private_modules() -> None:
    assert private_reaches(import_graph()) == []


def test_no_two_parts_of_the_bot_import_each_other_in_a_circle() -> None:
    assert circles(import_graph()) == []


def test_the_checks_find_what_they_look_for() -> None:
    # A check that cannot fail proves nothing: both find a planted problem.
    graph = import_graph()
    graph["cogs.characters._cog"] = {*graph["cogs.characters._cog"], "cogs.theories._polls"}
    assert private_reaches(graph) == [
        "cogs.characters._cog imports cogs.theories._polls, private to cogs.theories"
    ]
    graph["bot.models"] = {*graph["bot.models"], "bot.render.characters"}
    assert any({"bot.models", "bot.render"} <= set(circle) for circle in circles(graph))
    # and the real graph has the edges these rest on
    assert "bot.models" in import_graph()["bot.render.characters"]
    assert "cogs.theories._polls" in import_graph()["cogs.theories._cog"]
