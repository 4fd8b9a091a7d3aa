"""Bridges talk to the core through bot/facade.py only: no file under bridges/ reaches
into the database, not even inside a function."""

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
