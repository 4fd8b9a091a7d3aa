"""GET /readyz: may a load balancer send this process traffic? Unlike /healthz (alive:
restart it if not), not ready means "wait": the database does not answer, its schema is
behind this code's migrations (an upgrade is running or was skipped), or a chat
connection this process holds is down. The answer names failing checks, never errors."""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web
from sqlalchemy import text

from bot.connections import connection_states
from bot.core import Core
from storage.db import migration_heads, schema_revisions

log = logging.getLogger(__name__)

CHECK_SECONDS = 3.0


async def failing_checks(core: Core, *, migrations: bool) -> list[str]:
    failing = []
    try:
        async with asyncio.timeout(CHECK_SECONDS):
            async with core.db.session() as session:
                await session.execute(text("SELECT 1"))
            if migrations and await schema_revisions(core.db) != migration_heads():
                failing.append("migrations")
    except Exception as exc:
        log.warning("readyz: the database does not answer: %s", type(exc).__name__)
        failing.append("database")
    states = await connection_states()
    failing += [platform for platform, up in sorted(states.items()) if not up]
    return failing


def readiness_routes(core: Core, *, migrations: bool = True) -> list[web.RouteDef]:
    """`migrations=False` where the schema is made without Alembic (demo, tests)."""

    async def readyz(_: web.Request) -> web.Response:
        failing = await failing_checks(core, migrations=migrations)
        if failing:
            return web.json_response({"ok": False, "failing": failing}, status=503)
        return web.json_response({"ok": True})

    return [web.get("/readyz", readyz)]
