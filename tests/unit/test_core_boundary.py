"""bot/ is the core: it imports no bridge, no platform library and nothing from tests/,
not even inside a function or through importlib. Bridges plug in by entry points."""

from __future__ import annotations

import ast
from importlib.metadata import entry_points
from pathlib import Path

from bot import plugins

ROOT = Path(__file__).resolve().parents[2]
PLATFORM_LIBRARIES = ("slack_sdk", "slack_bolt", "discord", "twilio", "openai")
FORBIDDEN = ("bridges", "tests", "standins", *PLATFORM_LIBRARIES)
DYNAMIC = "a module named at run time: "


def imported_names(tree: ast.AST) -> list[tuple[int, str]]:
    """Every module a file may import: import statements anywhere, and the string given
    to importlib.import_module / __import__ / importlib.util.find_spec."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
        elif isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name in ("import_module", "__import__", "find_spec") and node.args:
                arg = node.args[0]
                if isinstance(arg, ast.Constant):
                    found.append((node.lineno, str(arg.value)))
                else:  # the core has no reason to pick a module at run time
                    found.append((node.lineno, f"{DYNAMIC}{ast.unparse(arg)}"))
    return found


def forbidden_imports(source: str) -> list[tuple[int, str]]:
    return [
        (line, name)
        for line, name in imported_names(ast.parse(source))
        if name.split(".")[0] in FORBIDDEN or name.startswith(DYNAMIC)
    ]


def test_no_file_of_the_core_imports_a_bridge_a_platform_library_or_tests() -> None:
    offences = []
    for path in sorted((ROOT / "bot").rglob("*.py")):
        for line, name in forbidden_imports(path.read_text()):
            offences.append(f"{path.relative_to(ROOT)}:{line} imports {name}")
    assert offences == []


def test_the_check_sees_imports_hidden_in_functions_and_importlib() -> None:
    source = (
        "import importlib\n"
        "def late():\n"
        "    from bridges.slack import bridge\n"
        "    import discord.http\n"
        "    importlib.import_module('bridges.sms.twilio')\n"
        "    __import__('tests.conftest')\n"
        "    importlib.import_module(f'bridges.{name}')\n"
        "from bot.plugins import Kind\n"
    )
    assert [name for _, name in forbidden_imports(source)] == [
        "bridges.slack",
        "discord.http",
        "bridges.sms.twilio",
        "tests.conftest",
        "a module named at run time: f'bridges.{name}'",
    ]


def test_every_bridge_is_found_by_its_entry_point_and_reads_its_own_settings() -> None:
    names = {ep.name for ep in entry_points(group=plugins.BRIDGES)}
    assert names == plugins.platform_names() >= {"twilio", "slack", "discord", "openai"}
    kinds = {name: bridge.kind for name, bridge in plugins.bridges().items()}
    assert kinds["twilio"] == plugins.Kind.SMS and kinds["openai"] == plugins.Kind.AI
    assert set(plugins.bridges_of(plugins.Kind.CHAT)) >= {"slack", "discord"}
    for bridge in plugins.bridges().values():
        assert bridge.read_settings(plugins.Env({})) is None  # no credentials: off
