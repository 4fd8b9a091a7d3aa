"""`smsbridge setup PLATFORM`: each bridge contributes the few steps that connect its
platform to this deployment (entry-point group `smsbridge.setup`: a function
`run(settings, args) -> exit code`, with `args.apply` set by `--apply`). The core
names no platform: it lists what is installed."""

from __future__ import annotations

import argparse
import asyncio
import inspect
from collections.abc import Callable
from importlib.metadata import entry_points
from typing import Any

from bot.config import Settings

SETUP = "smsbridge.setup"


def platforms() -> list[str]:
    return sorted(ep.name for ep in entry_points(group=SETUP))


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("platform", choices=platforms())
    parser.add_argument(
        "--apply", action="store_true", help="make the changes it shows (where it changes any)"
    )


def run_setup(settings: Settings, args: argparse.Namespace) -> int:
    (entry,) = (ep for ep in entry_points(group=SETUP) if ep.name == args.platform)
    step: Callable[[Settings, argparse.Namespace], Any] = entry.load()
    result = step(settings, args)
    if inspect.isawaitable(result):
        result = asyncio.run(result)  # type: ignore[arg-type]
    return int(result)
