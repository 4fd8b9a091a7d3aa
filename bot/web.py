"""The web server: bridges add their webhook routes; the core serves health, metrics and
re-hosted media for Twilio to fetch as MMS."""

from __future__ import annotations

import hmac
import logging

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import func, select, text

from bot import metrics
from bot.connections import connection_states
from bot.core import Core
from bot.services.intake import backlog_count, parked_count
from storage.models import Delivery, Media

log = logging.getLogger(__name__)


def build_web_app(core: Core, routes: list[web.RouteDef]) -> web.Application:
    app = web.Application(client_max_size=8 << 20)

    async def healthz(_: web.Request) -> web.Response:
        try:
            async with core.db.session() as session:
                await session.execute(text("SELECT 1"))
        except Exception as exc:
            # Anyone may ask: the reason goes to the log, not to the caller.
            log.warning("healthz: the database does not answer: %s", type(exc).__name__)
            return web.json_response({"ok": False}, status=503)
        return web.json_response({"ok": True})

    async def metrics_view(request: web.Request) -> web.Response:
        token = core.settings.metrics_token
        if token is not None:
            offered = request.headers.get("Authorization", "").encode()
            if not hmac.compare_digest(offered, f"Bearer {token}".encode()):
                raise web.HTTPUnauthorized(
                    text="a bearer token is required\n", headers={"WWW-Authenticate": "Bearer"}
                )
        async with core.db.session() as session:
            rows = await session.execute(
                select(Delivery.lane, func.count())
                .where(Delivery.status == "pending")
                .group_by(Delivery.lane)
            )
            counts = dict(rows.all())
            # Lanes with nothing pending show 0 rather than vanishing.
            for lane in {*counts, "sms", *core.chat_platforms}:
                metrics.PENDING.labels(lane).set(counts.get(lane, 0))
            metrics.PARKED.set(await parked_count(session))
            metrics.INTAKE_BACKLOG.set(await backlog_count(session))
        await connection_states()
        return web.Response(
            body=generate_latest(metrics.REGISTRY),
            headers={"Content-Type": CONTENT_TYPE_LATEST},
        )

    async def media(request: web.Request) -> web.Response:
        token = request.match_info["token"]
        async with core.db.session() as session:
            row = await session.scalar(select(Media).where(Media.token == token).options())
            data = None
            if row is not None and row.expires_at and row.expires_at > core.now():
                data = await session.scalar(select(Media.data).where(Media.id == row.id))
        if row is None or data is None:
            raise web.HTTPNotFound(text="no such media, or it expired\n")
        return web.Response(
            body=data,
            content_type=row.content_type,
            headers={"Cache-Control": "private, max-age=300"},
        )

    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics_view)
    app.router.add_get("/media/{token}", media)
    app.router.add_routes(routes)
    return app
