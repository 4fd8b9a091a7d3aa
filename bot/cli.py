"""The `smsbridge` command: run, send, db upgrade, check, setup, prune, contacts, reports,
and the subcommands installed packages contribute through the `smsbridge.commands` entry
points (the demo, sms-in, …)."""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys

from bot import config_cli, contacts_cli, plugins, report_cli
from bot.config import ConfigError, Settings, load_settings
from bot.ops.durability import deployment_warnings
from bot.ops.logs import LogSettingError
from bot.ops.logs import configure as configure_logging
from bot.ops.retention import run_prune
from bot.ops.setup import configure as configure_setup
from bot.ops.setup import run_setup
from bot.ops.startup import startup_error
from bot.plugins import EXIT_CONFIG, EXIT_REFUSED
from storage.urls import redacted


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="smsbridge", description=__doc__)
    parser.add_argument(
        "--log-level", default=None, help="default INFO (a subcommand may say otherwise)"
    )
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("run", help="run the web server, chat bridges and delivery workers")
    send = sub.add_parser("send", help="send an SMS from a line (same path and checks as chat)")
    send.add_argument("--from", dest="line", required=True, help="the line, E.164")
    send.add_argument("--to", dest="phone", required=True, help="the lead's phone number")
    send.add_argument("--no-wait", action="store_true", help="queue it and return at once")
    send.add_argument("text")
    setup = sub.add_parser("setup", help="connect a platform to this deployment")
    configure_setup(setup)
    prune = sub.add_parser("prune", help="delete what is past retention (also runs daily)")
    prune.add_argument("--days", type=int, help="override SMSBRIDGE_RETENTION_DAYS")
    db = sub.add_parser("db", help="database tasks")
    db.add_argument("action", choices=["upgrade"])
    check = sub.add_parser("check", help="report the configuration")
    check.add_argument(
        "--online", action="store_true", help="also try the database and each configured service"
    )
    contacts_cli.configure(sub.add_parser("contacts", help="import or export leads as CSV"))
    config_cli.configure(sub.add_parser("config", help="export or import the setup as TOML"))
    report_cli.register(sub)
    contributed = plugins.commands()
    for name, command in contributed.items():
        if name in sub.choices:
            raise SystemExit(f"smsbridge: two subcommands are named {name!r}")
        command.configure(sub.add_parser(name, help=command.help))
    args = parser.parse_args(argv)
    command = contributed.get(args.command)
    try:
        configure_logging(args.log_level, command.log_level if command else "INFO")
    except LogSettingError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return EXIT_CONFIG

    try:
        if command is not None:
            return command.run(args)
        settings = load_settings()
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    if args.command in report_cli.COMMANDS:
        return report_cli.run(args, settings)
    if args.command == "run":
        return asyncio.run(_run(settings))
    if args.command == "config":
        return config_cli.run(args, settings)
    if args.command == "contacts":
        return contacts_cli.run(args)
    if args.command == "send":
        return asyncio.run(_send(settings, args.line, args.phone, args.text, not args.no_wait))
    if args.command == "setup":
        return run_setup(settings, args)
    if args.command == "prune":
        return asyncio.run(run_prune(settings, args.days))
    if args.command == "db":
        from storage.db import upgrade_sync

        try:
            upgrade_sync(settings.database_url, pooler=settings.database_pooler)
        except Exception as exc:
            print(startup_error(exc), file=sys.stderr)
            return EXIT_CONFIG
        print("database is at the newest revision")
        return 0
    code = _check(settings)
    if code == 0 and args.online:
        from bot.ops.online import run_online

        code = run_online(settings)
    return code


async def _run(settings: Settings) -> int:
    from bot.app import SmsBridge

    bridge = SmsBridge(settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await bridge.start()
    except Exception as exc:
        print(startup_error(exc), file=sys.stderr)
        return EXIT_CONFIG
    await stop.wait()
    await bridge.stop()
    return 0


async def _send(settings: Settings, line_phone: str, phone: str, text: str, wait: bool) -> int:
    from bot.outbound import send_from_line

    outcome, status = await send_from_line(settings, line_phone, phone, text, wait=wait)
    stream = sys.stdout if outcome.ok and status not in ("failed", "unknown") else sys.stderr
    print(outcome.text if status is None else f"{outcome.text}\nstatus: {status}", file=stream)
    if not outcome.ok or status in ("failed", "unknown", "canceled"):
        return EXIT_REFUSED
    return 0


def _check(settings: Settings) -> int:
    print(f"database: {redacted(settings.database_url)}")
    print(f"public url: {settings.public_url}")
    print(f"undo window: {settings.undo_seconds:g}s")
    for line in settings.platforms_report():
        print(line)
    directory = settings.directory
    print(f"config: {settings.config_path or 'none (no SMSBRIDGE_CONFIG, no smsbridge.toml)'}")
    for org in directory.organizations:
        print(f"organization {org.key}: {org.name} ({org.timezone})")
    for line in directory.lines:
        where = ", ".join(f"{p} {c}" for p, c in sorted(line.routes.items())) or "no route"
        print(f"line {line.phone} [{line.organization}] {line.label}: {where}")
    for member in directory.members:
        print(f"member {member.key} [{member.organization}] {member.name}, {member.role}")
    for warning in deployment_warnings(settings, os.environ):
        print(f"warning: {warning}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
