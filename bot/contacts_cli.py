"""`smsbridge contacts import FILE.csv` and `smsbridge contacts export`: bring a team's
address book in (names everywhere instead of digits) and take it out again.

Import reports each bad row with its line number on stderr and goes on; it draws a
progress bar when stderr is a terminal and ends with a summary. Export writes CSV to
stdout, so it pipes into a file or another tool."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

from bot.config import Settings, load_settings
from bot.domain.contacts import CsvError, read_contacts
from bot.services.contacts import (
    ImportSummary,
    UnknownOrganization,
    export_contacts,
    import_contacts,
    organization_region,
)
from bot.services.directory import open_core

EXIT_REFUSED = 1
BAR = 30


def configure(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", required=True)
    imp = actions.add_parser("import", help="add or update leads from a CSV file")
    imp.add_argument("file", help="CSV with a header row: phone,name,email,company,notes,…")
    imp.add_argument("--organization", help="organization key (needed when there are several)")
    exp = actions.add_parser("export", help="write the leads as CSV to stdout")
    exp.add_argument("--organization", help="organization key (needed when there are several)")


def run(args: argparse.Namespace) -> int:
    settings = load_settings()
    if args.action == "export":
        return asyncio.run(export(settings, args.organization, sys.stdout))
    path = Path(args.file)
    if not path.is_file():
        print(f"error: {path} is not a file", file=sys.stderr)
        return EXIT_REFUSED
    try:
        rows = max(sum(1 for _ in _lines(path)) - 1, 0)
    except UnicodeDecodeError:
        print(f"error: {path} is not UTF-8 text; save it as “CSV UTF-8” and retry", file=sys.stderr)
        return EXIT_REFUSED
    return asyncio.run(import_file(settings, path, args.organization, rows))


class Progress:
    """A one-line bar on a terminal; nothing when stderr is a file or a pipe."""

    def __init__(self, total: int, stream: TextIO) -> None:
        self.total, self.stream = max(total, 1), stream
        self.on = stream.isatty()

    def __call__(self, summary: ImportSummary) -> None:
        if not self.on:
            return
        done = min(summary.rows, self.total)
        filled = BAR * done // self.total
        self.stream.write(f"\r[{'#' * filled}{'.' * (BAR - filled)}] {done}/{self.total} rows")
        self.stream.flush()

    def close(self) -> None:
        if self.on:
            self.stream.write("\n")


def _lines(path: Path) -> Iterator[str]:
    # utf-8-sig: spreadsheets put a byte-order mark before the header.
    with path.open(encoding="utf-8-sig", newline="") as handle:
        yield from handle


async def import_file(settings: Settings, path: Path, organization: str | None, total: int) -> int:
    """`total`: the file's line count after the header, for the progress bar."""
    err = sys.stderr
    core = await open_core(settings)
    try:
        try:
            org_id, region = await organization_region(core, organization)
        except UnknownOrganization as exc:
            print(f"error: {exc}", file=err)
            return EXIT_REFUSED
        progress = Progress(total, err)
        try:
            summary = await import_contacts(
                core, org_id, read_contacts(_lines(path), region), progress=progress
            )
        except CsvError as exc:
            print(f"error: {path}: {exc}", file=err)
            return EXIT_REFUSED
        finally:
            progress.close()
        for problem in summary.skipped:
            print(f"skipped {problem}", file=err)
        print(summary.describe())
        return 0 if summary.rows > len(summary.skipped) or not summary.rows else EXIT_REFUSED
    finally:
        await core.db.dispose()


async def export(settings: Settings, organization: str | None, out: TextIO) -> int:
    core = await open_core(settings)
    try:
        try:
            org_id, _ = await organization_region(core, organization)
        except UnknownOrganization as exc:
            print(f"error: {exc}", file=sys.stderr)
            return EXIT_REFUSED
        out.writelines(await export_contacts(core, org_id))
        out.flush()
        return 0
    finally:
        await core.db.dispose()
