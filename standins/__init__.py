"""Loopback stand-ins of the outside APIs (Twilio, Slack, Discord, OpenAI), one module
(or a few) per system: small aiohttp servers that answer the real client libraries as the
real API would, record what they receive and fail on command.

They ship with the package because `smsbridge demo` (standins/demo.py) runs on them from a
plain install; the tests and benchmarks reuse them."""

from __future__ import annotations

import argparse
import asyncio

from bot.plugins import Command


def _run_demo(args: argparse.Namespace) -> int:
    from standins.demo import run_demo  # here: `smsbridge --help` imports no client library

    return asyncio.run(run_demo())


# The `demo` subcommand (entry point `standins:demo_command`; not `demo`, which the
# submodule standins.demo would shadow once imported).
demo_command = Command(
    help="a scripted conversation end to end on loopback stand-ins",
    configure=lambda parser: None,
    run=_run_demo,
    log_level="WARNING",
)
