"""`smsbridge report` and `smsbridge export messages`: the figures of `/sms report` and a
CSV of the conversations for a spreadsheet, from the command line. Kept apart from
bot/cli.py, which only registers them."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import Any

from sqlalchemy import select

from bot.config import Settings
from bot.domain.reports import as_csv, as_json, as_text
from bot.services.reports import export_messages, figures, parse_since
from storage.db import Database
from storage.models import Organization, utcnow

EXIT_REFUSED = 1


def register(sub: Any) -> None:
    """Add the subcommands to the `smsbridge` parser's subparsers."""
    report = sub.add_parser("report", help="report figures: first response, time to close, ...")
    report.add_argument("--since", default="7d", help="period before now: 24h, 7d, 4w")
    report.add_argument("--format", choices=["text", "csv", "json"], default="text")
    report.add_argument("--organization", help="organization key (default: every one)")
    report.add_argument("--chart", metavar="FILE.png", help="also write the chart there")
    export = sub.add_parser("export", help="export data as CSV on stdout")
    export.add_argument("what", choices=["messages"])
    export.add_argument("--since", default="30d", help="period before now: 24h, 7d, 4w")
    export.add_argument("--organization", help="organization key (default: every one)")


COMMANDS = ("report", "export")


def run(args: argparse.Namespace, settings: Settings) -> int:
    try:
        since = parse_since(args.since, utcnow())
    except ValueError as exc:
        print(f"error: --since {exc}", file=sys.stderr)
        return EXIT_REFUSED
    if args.command == "report":
        return asyncio.run(_report(settings, args, since))
    return asyncio.run(_export(settings, args, since))


async def _report(settings: Settings, args: argparse.Namespace, since: Any) -> int:
    db = Database(settings.database_url)
    try:
        await db.upgrade()
        async with db.session() as session:
            query = select(Organization).order_by(Organization.key)
            if args.organization:
                query = query.where(Organization.key == args.organization)
            orgs = list(await session.scalars(query))
            if not orgs:
                print(f"error: no organization {args.organization or ''}".strip(), file=sys.stderr)
                return EXIT_REFUSED
            until = utcnow()
            reports = [(org, await figures(session, org, since, until)) for org in orgs]
    finally:
        await db.dispose()
    if args.format == "json":
        print(json.dumps({org.key: as_json(f) for org, f in reports}, indent=2))
    elif args.format == "csv":
        for i, (org, f) in enumerate(reports):
            header, *rows = as_csv(f).splitlines()
            if i == 0:
                print("organization_key," + header)
            print("\n".join(f"{org.key},{row}" for row in rows))
    else:
        print("\n\n".join(as_text(f, org.name) for org, f in reports))
    if args.chart:
        from bot.services.chart import first_response_chart

        org, report = reports[0]
        png = first_response_chart(report, f"First response · {org.name}")
        await asyncio.to_thread(Path(args.chart).write_bytes, png)
    return 0


async def _export(settings: Settings, args: argparse.Namespace, since: Any) -> int:
    db = Database(settings.database_url)
    try:
        await db.upgrade()
        async with db.session() as session:
            async for line in export_messages(session, since, args.organization):
                sys.stdout.write(line)
    finally:
        await db.dispose()
    return 0
