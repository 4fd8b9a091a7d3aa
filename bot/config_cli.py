"""`smsbridge config export [-o FILE]` and `smsbridge config import FILE`: the team's setup
(organizations, lines and routes, members and their chat accounts) out of the database
as TOML, and into another one, e.g. to move hosts or to keep the setup in version control.

What is imported is left to chat to change (it is not the start-up file's)."""

from __future__ import annotations

import argparse
import asyncio
import sys
import tomllib
from dataclasses import replace
from pathlib import Path

from bot.config import ConfigError, Settings
from bot.directory_file import Directory, parse_directory
from bot.services.config_export import export_directory, to_toml
from bot.services.directory import open_core, sync_directory

EXIT_REFUSED, EXIT_CONFIG = 1, 2


def configure(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", required=True)
    exp = actions.add_parser("export", help="write the current setup as TOML (stdout or -o)")
    exp.add_argument("-o", "--output", help="write to this file instead of stdout")
    imp = actions.add_parser("import", help="apply a TOML setup (as written by export)")
    imp.add_argument("file", help="a TOML file in the format of smsbridge.example.toml")


def run(args: argparse.Namespace, settings: Settings) -> int:
    if args.action == "export":
        text = asyncio.run(export_text(settings))
        if args.output:
            Path(args.output).write_text(text)
        else:
            sys.stdout.write(text)
        return 0
    path = Path(args.file)
    if not path.is_file():
        print(f"error: {path} is not a file", file=sys.stderr)
        return EXIT_REFUSED
    try:
        directory = parse_directory(tomllib.loads(path.read_text()))
    except (ConfigError, tomllib.TOMLDecodeError) as exc:
        print(f"error: {path}: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    asyncio.run(import_directory(settings, replace(directory, declared=False)))
    print(
        f"imported {len(directory.organizations)} organization(s), {len(directory.lines)} "
        f"line(s), {len(directory.members)} member(s) from {path}"
    )
    return 0


async def export_text(settings: Settings) -> str:
    core = await open_core(settings)
    try:
        return to_toml(await core.run(export_directory))
    finally:
        await core.db.dispose()


async def import_directory(settings: Settings, directory: Directory) -> None:
    core = await open_core(settings)
    try:
        await sync_directory(core, directory)
    finally:
        await core.db.dispose()
