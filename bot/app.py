"""Wiring: config -> storage -> bridges found by entry points -> web server -> workers.

The core names no bridge: bot/plugins.py finds the installed ones, the settings say
which are on, and each gets a `Context` to make its running plugin from."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any, cast

from aiohttp import web

from bot import metrics, plugins
from bot.config import Settings
from bot.core import Core
from bot.delivery.chat import ChatMirror
from bot.delivery.sms import SmsSender
from bot.delivery.worker import Handler, Worker
from bot.facade import Facade
from bot.ops.logs import ACCESS, AccessLog
from bot.ops.readiness import readiness_routes
from bot.ops.retention import DailyPrune, message_retention
from bot.plugins import AiPlugin, ChatPlugin, Context, Kind, Plugin, SmsPlugin
from bot.ports import SmsGateway
from bot.services.automation_loop import AutomationLoop
from bot.services.directory import sync_directory
from bot.services.intake import Intake
from bot.services.reminders import Reminders
from bot.web import build_web_app
from storage.db import Database

log = logging.getLogger(__name__)


@dataclass
class Options:
    """Test and demo seams; production uses the defaults."""

    create_schema: bool = False  # create tables directly instead of running migrations
    serve_http: bool = True
    run_workers: bool = True
    worker_kwargs: dict[str, Any] = field(default_factory=dict)


def create_plugins(settings: Settings, context: Context, kind: Kind) -> dict[str, Any]:
    """The running plugins of the bridges of `kind` that are on, by platform name."""
    found = plugins.bridges()
    return {
        name: found[name].create(settings.bridges[name], context)
        for name in plugins.bridges_of(kind)
        if name in settings.bridges
    }


def sms_plugin(settings: Settings, context: Context) -> SmsPlugin | None:
    """The SMS bridge that is on (config allows one), or None."""
    made = create_plugins(settings, context, Kind.SMS)
    return cast(SmsPlugin, next(iter(made.values()))) if made else None


class SmsBridge:
    def __init__(self, settings: Settings, options: Options | None = None) -> None:
        self.settings = settings
        self.options = options or Options()
        self.db = Database(settings.database_url, pooler=settings.database_pooler)
        self.core: Core | None = None
        self.running: list[Plugin] = []  # every bridge's plugin, in the order they start
        self.sms: SmsPlugin | None = None
        self.plugins: dict[str, ChatPlugin] = {}  # the chat ones, by platform
        self.gateway: SmsGateway | None = None
        self.worker: Worker | None = None
        self.intake: Intake | None = None
        self.reminders: Reminders | None = None
        self.pruning: DailyPrune | None = None
        self.automations: AutomationLoop | None = None
        self.runner: web.AppRunner | None = None
        self.port: int | None = None

    async def start(self) -> None:
        try:
            await self._start()
        except BaseException:
            await self.stop()
            raise

    async def _start(self) -> None:
        settings = self.settings
        if self.options.create_schema:
            await self.db.create_all()
        else:
            await self.db.upgrade()
        # Posts for a platform another process serves are queued here and sent there.
        queued = settings.chat_platforms()
        core = self.core = Core(self.db, settings, chat_platforms=queued)
        await sync_directory(core, settings.directory)
        for line in settings.platforms_report():
            log.info("%s", line)

        metrics.initialise(["sms", *sorted(queued)])
        routes = readiness_routes(core, migrations=not self.options.create_schema)
        self.intake = Intake(core)
        context = Context(Facade(core, self.intake), settings, self._fetch_media)
        self.sms = sms_plugin(settings, context)
        if self.sms is not None:
            self.gateway = self.sms.gateway
            self.running.append(self.sms)
        for name, plugin in create_plugins(settings, context, Kind.CHAT).items():
            self.plugins[name] = cast(ChatPlugin, plugin)
            self.running.append(plugin)
        for plugin in create_plugins(settings, context, Kind.AI).values():
            core.drafter = cast(AiPlugin, plugin).drafter
            self.running.append(plugin)
        routes += [route for plugin in self.running for route in plugin.routes()]

        app = build_web_app(core, routes)
        for plugin in self.running:
            await plugin.start()
        if self.options.serve_http:
            self.runner = web.AppRunner(app, access_log=ACCESS, access_log_class=AccessLog)
            await self.runner.setup()
            site = web.TCPSite(self.runner, settings.host, settings.port)
            await site.start()
            self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
            log.info("listening on %s:%s", settings.host, self.port)

        if self.options.run_workers:
            handlers: dict[str, Handler] = {
                name: ChatMirror(core, plugin.bridge) for name, plugin in self.plugins.items()
            }
            if self.gateway is not None:
                handlers["sms"] = SmsSender(
                    core, self.gateway, segments_per_second=settings.sms_per_second
                )
            kwargs = {"lease": settings.lease_seconds, **self.options.worker_kwargs}
            self.worker = Worker(core, handlers, **kwargs)
            await self.worker.recover(all_running=self.db.is_sqlite)
            self.worker.start()
            self.reminders = Reminders(core)
            self.reminders.start()
            self.pruning = DailyPrune(
                self.db,
                core.now,
                retention_days=settings.retention_days,
                message_retention=message_retention(settings),
            )
            self.pruning.start()
            self.automations = AutomationLoop(core)
            self.automations.start()
        # Received SMS are applied in every process (in order per lead, see Intake).
        self.intake.start()

    async def stop(self) -> None:
        """Within SMSBRIDGE_SHUTDOWN_SECONDS (Docker kills after 10 s, Heroku after 30):
        what still runs then is cancelled and left to the lease and restart rules (a
        delivery cut short is taken up again; an SMS cut mid-send becomes `unknown`)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.settings.shutdown_seconds
        # Most of the time for the work in flight; the rest to close connections.
        try:
            async with asyncio.timeout_at(deadline - min(1.0, self.settings.shutdown_seconds / 4)):
                await self._drain()
        except TimeoutError:
            log.warning(
                "shutdown: work still running after %gs is left to its lease",
                self.settings.shutdown_seconds,
            )
        try:
            async with asyncio.timeout_at(max(deadline, loop.time() + 0.5)):
                await self._release()
        except TimeoutError:
            log.warning("shutdown: connections not closed in time")

    async def _drain(self) -> None:
        # The web server first: a webhook being answered still gets its row stored.
        if self.runner:
            await self.runner.cleanup()
        if self.intake:
            await self.intake.stop()
        if self.reminders:
            await self.reminders.stop()
        if self.pruning:
            await self.pruning.stop()
        if self.automations:
            await self.automations.stop()
        if self.worker:
            await self.worker.stop()

    async def _release(self) -> None:
        for plugin in reversed(self.running):
            await plugin.stop()
        self.running.clear()
        if self.core is not None:
            self.core.drafter = None
        await self.db.dispose()

    async def _fetch_media(self, url: str) -> bytes | None:
        return await self.sms.fetch_media(url) if self.sms is not None else None

    async def __aenter__(self) -> SmsBridge:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()
