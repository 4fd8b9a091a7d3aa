"""Bridges talk to the core through bot/facade.py only: no file under bridges/ reaches
into the database, not even inside a function; and Discord's modules import each other
one way only (no circle hidden behind TYPE_CHECKING)."""

from __future__ import annotations

import ast
from pathlib import Path

BRIDGES = Path(__file__).resolve().parents[2] / "bridges"
FORBIDDEN = ("storage", "sqlalchemy", "bot.services")


def imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def reaches_past_the_facade(module: str) -> bool:
    return any(module == f or module.startswith(f + ".") for f in FORBIDDEN)


def test_no_bridge_imports_storage_sqlalchemy_or_the_services_behind_the_facade() -> None:
    files = sorted(BRIDGES.rglob("*.py"))
    assert files, BRIDGES
    found = {
        f"{path.relative_to(BRIDGES.parent)}: {module}"
        for path in files
        for module in imported_modules(path)
        if reaches_past_the_facade(module)
    }
    assert not found, "bridges reach past bot/facade.py:\n" + "\n".join(sorted(found))


def test_the_boundary_check_sees_imports_inside_functions(tmp_path: Path) -> None:
    sneaky = tmp_path / "sneaky.py"
    sneaky.write_text("def f():\n    from storage.models import Message\n    import sqlalchemy\n")
    assert {m for m in imported_modules(sneaky) if reaches_past_the_facade(m)} == {
        "storage.models",
        "sqlalchemy",
    }


def bridge_modules(package: str) -> dict[str, set[str]]:
    """The modules of one bridge package and which of them each imports (its own
    __init__ aside: it only names the plugin, lazily)."""
    paths = [p for p in (BRIDGES / package).glob("*.py") if p.stem != "__init__"]
    modules = {f"bridges.{package}.{p.stem}": p for p in paths}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        wanted = imported_modules(path)
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                wanted |= {f"{node.module}.{alias.name}" for alias in node.names}
        graph[name] = (wanted & set(modules)) - {name}
    return graph


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    found = []
    for start in sorted(graph):
        stack = [[start]]
        while stack:
            path = stack.pop()
            for nxt in sorted(graph[path[-1]]):
                if nxt == start:
                    found.append([*path, start])
                elif nxt not in path:
                    stack.append([*path, nxt])
    return found


def test_discord_modules_import_each_other_one_way_only_even_for_type_checking() -> None:
    graph = bridge_modules("discord")
    assert "bridges.discord.components" in graph
    assert circles(graph) == []


def test_the_circle_check_finds_a_circle() -> None:
    assert circles({"a": {"b"}, "b": {"a"}, "c": set()}) == [["a", "b", "a"], ["b", "a", "b"]]
