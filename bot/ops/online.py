"""`smsbridge check --online`: try each configured service and say what is wrong, one line
each. The core checks the database and its migration state; each bridge contributes the
checks of its own service through the entry-point group `smsbridge.checks` (a function
`async check(settings) -> list[Check]`), so the core names no platform."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from importlib.metadata import entry_points

from bot.config import Settings
from storage.db import Database, migration_heads, schema_revisions

CHECKS = "smsbridge.checks"
CHECK_SECONDS = 20.0


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str

    def line(self) -> str:
        return f"{'ok' if self.ok else 'FAIL'} {self.name}: {self.detail}"


OnlineCheck = Callable[[Settings], Awaitable[list[Check]]]


async def database_checks(settings: Settings) -> list[Check]:
    db = Database(settings.database_url, pooler=settings.database_pooler)
    try:
        revisions = await schema_revisions(db)
    except Exception as exc:
        reason = " ".join(str(exc).split())[:200] or type(exc).__name__
        return [Check("database", False, f"cannot connect: {reason}")]
    finally:
        await db.dispose()
    heads = migration_heads()
    if revisions == heads:
        return [Check("database", True, f"reachable, schema at {', '.join(sorted(heads))}")]
    at = ", ".join(sorted(revisions)) or "no schema yet"
    return [
        Check(
            "database",
            False,
            f"schema at {at}, this version needs {', '.join(sorted(heads))}: "
            "run `smsbridge db upgrade`",
        )
    ]


def bridge_checks() -> dict[str, OnlineCheck]:
    return {ep.name: ep.load() for ep in sorted(entry_points(group=CHECKS), key=lambda e: e.name)}


async def online_checks(settings: Settings) -> list[Check]:
    results = await database_checks(settings)
    for name, check in bridge_checks().items():
        try:
            results += await asyncio.wait_for(check(settings), CHECK_SECONDS)
        except TimeoutError:
            results.append(Check(name, False, f"no answer within {CHECK_SECONDS:g}s"))
    return results


def run_online(settings: Settings) -> int:
    """Prints one line per check; exit 1 when any failed."""
    results = asyncio.run(online_checks(settings))
    for result in results:
        print(result.line())
    return 0 if all(r.ok for r in results) else 1
