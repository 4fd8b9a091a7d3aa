"""Loopback stand-in of Discord's REST API (v10, under `/api/v10`), its gateway (websocket
at `/gateway`, JSON, zlib-stream when asked) and its attachment CDN, for the real discord.py.

    async with DiscordStandIn() as api:
        api.add_guild(GUILD, "Acme")
        api.add_channel(GUILD, FORUM, "leads", 15, available_tags=["Open", "Closed"])
        api.add_member(GUILD, DANA, "dana")
        with point_discord_py_at(api.url):
            client = discord.Client(intents=..., guild_ready_timeout=0.05)
            ...  # client.start(api.token): login, READY + GUILD_CREATE, on_ready

`point_discord_py_at(url)` sets `discord.http.Route.BASE` (a str: every REST and webhook
request is `Route.BASE + path`) to `url + "/api/v10"`, and
`discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY` (a `yarl.URL`; discord.py appends
`?v=10&encoding=json&compress=zlib-stream`) to `ws://host:port/gateway`. Resumes follow
READY's `resume_gateway_url` (`/gateway-resume`). It returns an undo callable that is also
a context manager. The app's own settings use `api.url` / `api.gateway_url`. Every JSON
answer has `Content-Type: application/json` exactly: discord.py parses nothing else.

Tests drive it with `message_create/update/delete`, `command_interaction`,
`component_interaction`, `modal_interaction`, `dispatch`, `reconnect`,
`invalidate_session`, `delete_channel`, `restrict`, `fail_next(429, retry_after=...)`;
and read `requests`/`calls()`, `channel_messages()`, `threads_of()`, `channels`,
`messages`, `commands`, `interactions` / `interaction_responses()`, `webhook_executions`,
`identifies`, `gateway_connects`, `resumes`. The bot's own REST actions come back to it
as gateway events (MESSAGE_CREATE of its posts, THREAD_CREATE, ...) as on Discord.

The pieces: discord_model.py (in-memory guild model), discord_objects.py (object shapes,
error codes), discord_gateway.py (websocket, dispatch, message events, reconnect/resume),
discord_interactions.py (interaction builders, callbacks, followups), discord_webhooks.py
(channel webhooks), discord_guilds.py (guild and application-command routes),
discord_messages.py (message, reaction and thread routes); this module adds the user and
channel routes, auth, error and rate-limit shapes."""

from __future__ import annotations

import hashlib
import json
import math
import re
import time
import warnings
from typing import Any

import yarl
from aiohttp import web

from standins.base import StandIn
from standins.discord_guilds import DiscordGuilds
from standins.discord_interactions import InteractionRecord
from standins.discord_messages import DiscordMessages, check_name
from standins.discord_model import (
    APP_FLAGS,
    FORUM,
    THREAD_TYPES,
    iso,
)
from standins.discord_objects import DiscordError, invalid
from standins.discord_webhooks import DiscordWebhooks, json_response

with warnings.catch_warnings():  # discord.py imports audioop, deprecated since Python 3.11
    warnings.filterwarnings("ignore", "'audioop' is deprecated", DeprecationWarning)
    import discord.gateway
    import discord.http

__all__ = ["DiscordError", "DiscordStandIn", "InteractionRecord", "point_discord_py_at"]

API = "/api/v10"
RATE_LIMITED = "You are being rate limited."


class _Pointing:
    """Undo handle of `point_discord_py_at`: call it, or use it as a context manager."""

    def __init__(self, api_base: str, gateway: str) -> None:
        self._route, self._ws = discord.http.Route, discord.gateway.DiscordWebSocket
        self._saved = (self._route.BASE, self._ws.DEFAULT_GATEWAY)
        self._route.BASE = api_base
        self._ws.DEFAULT_GATEWAY = yarl.URL(gateway)
        self._done = False

    def __call__(self) -> None:
        if not self._done:
            self._route.BASE, self._ws.DEFAULT_GATEWAY = self._saved
            self._done = True

    def __enter__(self) -> _Pointing:
        return self

    def __exit__(self, *exc: object) -> None:
        self()


def point_discord_py_at(base_url: str, gateway_url: str | None = None) -> _Pointing:
    """Point discord.py's REST base and default gateway at a stand-in (`base_url` is the
    server root, or already ends in /api/v10); restore them with the returned handle."""
    root = re.sub(r"/api(/v\d+)?/?$", "", base_url.rstrip("/"))
    gateway = gateway_url or "ws" + root.removeprefix("http") + "/gateway"
    return _Pointing(root + API, gateway)


class DiscordStandIn(DiscordGuilds, DiscordMessages, DiscordWebhooks, StandIn):
    """Discord REST API + gateway + CDN on one loopback server; see the module docstring.
    Knobs: `interaction_timeout` (3.0 s), `echo` (True), `privileged_intents`,
    `heartbeat_interval_ms`."""

    def __init__(
        self,
        token: str = "test-token",
        application_id: str = "1000000000000000001",
        bot_user_id: str = "1000000000000000002",
        bot_name: str = "smsbridge",
    ) -> None:
        self.token = token
        self._init_model(application_id, bot_user_id, bot_name)
        self._init_gateway()
        self._init_webhooks()
        super().__init__()
        self.app.middlewares.insert(0, self._discord_shape)
        self.app.middlewares.append(self._auth)

    @property
    def api_url(self) -> str:
        """The REST base, e.g. for DISCORD_API_URL."""
        return self.url + API

    async def stop(self) -> None:
        await self._close_gateway()
        await super().stop()

    def setup_routes(self, router: web.UrlDispatcher) -> None:
        routes = [
            ("GET", "/users/@me", self._me),
            ("GET", "/users/{user_id}", self._user),
            ("GET", "/gateway", self._gateway_info),
            ("GET", "/gateway/bot", self._gateway_info),
            ("GET", "/oauth2/applications/@me", self._application),
            ("GET", "/applications/@me", self._application),
            ("GET", "/channels/{channel_id}", self._get_channel),
            ("PATCH", "/channels/{channel_id}", self._patch_channel),
            ("DELETE", "/channels/{channel_id}", self._delete_channel),
            ("PUT", "/channels/{channel_id}/thread-members/@me", self._no_content),
            ("POST", "/channels/{channel_id}/typing", self._no_content),
        ]
        every = routes + self._message_routes() + self._webhook_routes() + self._guild_routes()
        for method, path, handler in every:
            router.add_route(method, API + path, handler)
        router.add_get("/attachments/{channel_id}/{attachment_id}/{filename}", self._cdn)
        router.add_get("/gateway", self._gateway)
        router.add_get("/gateway-resume", self._gateway)

    # ---------------------------------------------------------------- middlewares
    @web.middleware
    async def _discord_shape(self, request: web.Request, handler: Any) -> web.StreamResponse:
        """Outermost: Discord's error bodies, 429 shape and rate-limit headers, and an
        exact `Content-Type: application/json` (also on injected faults)."""
        try:
            resp = await handler(request)
        except DiscordError as exc:
            resp = json_response(exc.body(), exc.status)
        except web.HTTPException as exc:
            if not request.path.startswith(API):
                raise
            resp = json_response({"message": f"{exc.status}: {exc.reason}", "code": 0}, exc.status)
        if not request.path.startswith(API) or not isinstance(resp, web.Response):
            return resp
        route = request.match_info.route.resource
        bucket = hashlib.md5(str(route.canonical if route else request.path).encode()).hexdigest()
        headers = {"X-RateLimit-Limit": "5", "X-RateLimit-Remaining": "4",
                   "X-RateLimit-Reset": f"{time.time() + 1:.3f}",
                   "X-RateLimit-Reset-After": "1.000", "X-RateLimit-Bucket": bucket}  # fmt: skip
        try:
            body = json.loads(resp.body) if resp.body else None  # type: ignore[arg-type]
        except ValueError:
            body = None
        if resp.status == 429:
            if not isinstance(body, dict) or "retry_after" not in body:
                retry = float(resp.headers.get("Retry-After", 1) or 1)
                body = {"message": RATE_LIMITED, "retry_after": retry, "global": False}
            scope = "global" if body.get("global") else "user"
            retry_after = float(body["retry_after"])
            headers["Retry-After"] = str(math.ceil(retry_after))  # whole seconds, as Discord
            headers["X-RateLimit-Remaining"], headers["X-RateLimit-Scope"] = "0", scope
            headers["X-RateLimit-Reset-After"] = f"{retry_after:.3f}"
            headers["Via"] = "1.1 google"  # discord.py treats a 429 without Via as a ban
            if body.get("global"):
                headers["X-RateLimit-Global"] = "true"
        elif resp.status >= 400 and not (isinstance(body, dict) and "code" in body):
            body = {"message": f"{resp.status}: {resp.reason}", "code": 0}
        if body is not None or resp.status >= 400:
            resp.body = json.dumps(body).encode()
            resp.headers["Content-Type"] = "application/json"
        resp.headers.update(headers)
        return resp

    @web.middleware
    async def _auth(self, request: web.Request, handler: Any) -> web.StreamResponse:
        """Innermost (requests are recorded first): bot routes want `Bot <token>`;
        interaction and webhook-token routes carry their token in the path."""
        path = request.path
        tokened = re.match(rf"{API}/(interactions/|webhooks/\d+/[^/]+)", path)
        public = tokened or path in (API + "/gateway",) or not path.startswith(API)
        if not public and request.headers.get("Authorization") != f"Bot {self.token}":
            return json_response({"message": "401: Unauthorized", "code": 0}, 401)
        return await handler(request)

    # ---------------------------------------------------------------- helpers
    async def _no_content(self, request: web.Request) -> web.Response:
        self.get_channel(request.match_info["channel_id"])
        return web.Response(status=204)

    # ---------------------------------------------------------------- users, app, gateway
    async def _me(self, request: web.Request) -> web.Response:
        me = {**self._bot(), "verified": True, "mfa_enabled": False, "locale": "en-US"}
        return json_response(me)

    async def _user(self, request: web.Request) -> web.Response:
        user = self.users.get(request.match_info["user_id"])
        if user is None:
            raise DiscordError(10013)
        return json_response(user)

    async def _gateway_info(self, request: web.Request) -> web.Response:
        info: dict[str, Any] = {"url": self.gateway_url}
        if request.path.endswith("/bot"):
            limit = {"total": 1000, "remaining": 999, "reset_after": 14400000,
                     "max_concurrency": 1}  # fmt: skip
            info.update(shards=1, session_start_limit=limit)
        return json_response(info)

    async def _application(self, request: web.Request) -> web.Response:
        bot = self._bot()
        return json_response({
            "id": self.application_id, "name": bot["username"], "icon": None,
            "description": "", "summary": "", "type": None, "bot": bot, "bot_public": False,
            "bot_require_code_grant": False, "verify_key": "0" * 64, "flags": APP_FLAGS,
            "owner": {**bot, "bot": False}, "team": None, "rpc_origins": [],
            "redirect_uris": [], "interactions_endpoint_url": None,
            "role_connections_verification_url": None, "tags": [],
            "approximate_guild_count": len(self.guilds), "approximate_user_install_count": 0,
            "approximate_user_authorization_count": 0, "explicit_content_filter": 0,
            "integration_types_config": {"0": {}}, "eligible_oauth2_scopes": ["bot"],
        })  # fmt: skip

    # ---------------------------------------------------------------- channels
    async def _get_channel(self, request: web.Request) -> web.Response:
        return json_response(self.get_channel(request.match_info["channel_id"]))

    async def _patch_channel(self, request: web.Request) -> web.Response:
        channel = self.get_channel(request.match_info["channel_id"])
        body, _ = await self._body(request)
        if self.restricted.get(channel["id"]) or self.restricted.get(channel.get("parent_id")):
            raise DiscordError(50013)
        if "name" in body:
            check_name(body)
        if channel["type"] in THREAD_TYPES:
            meta = channel["thread_metadata"]
            if "applied_tags" in body:
                tags = [str(t) for t in body["applied_tags"] or []]
                self.check_tags(self.channels[channel["parent_id"]], tags)
                channel["applied_tags"] = tags
            for key in ("archived", "locked", "auto_archive_duration", "invitable"):
                if key in body:
                    meta[key] = body[key]
            if "archived" in body:
                meta["archive_timestamp"] = iso()
            keys, event = ["name", "rate_limit_per_user", "flags"], "THREAD_UPDATE"
        else:
            if "available_tags" in body:
                if channel["type"] != FORUM:
                    raise invalid("available_tags", "CHANNEL_TYPE", "Not a forum channel")
                self.set_tags(channel, body["available_tags"] or [])
            keys = ("name topic position nsfw parent_id rate_limit_per_user "
                    "default_auto_archive_duration default_reaction_emoji").split()  # fmt: skip
            event = "CHANNEL_UPDATE"
        channel.update({k: body[k] for k in keys if k in body})
        await self._echo(event, channel)
        return json_response(channel)

    async def _delete_channel(self, request: web.Request) -> web.Response:
        channel = self.get_channel(request.match_info["channel_id"])
        await self.delete_channel(channel["id"])
        return json_response(channel)

    async def delete_channel(self, channel_id: str) -> None:
        """Delete a channel or thread (and its threads and messages), as a moderator
        would; the bot gets CHANNEL_DELETE / THREAD_DELETE."""
        channel = self.channels.pop(str(channel_id))
        self.messages.pop(channel["id"], None)
        for thread in self.threads_of(channel["id"]):
            await self.delete_channel(thread["id"])
        is_thread = channel["type"] in THREAD_TYPES
        event = {k: channel[k] for k in ("id", "guild_id", "parent_id", "type")}
        await self._echo(*(("THREAD_DELETE", event) if is_thread else ("CHANNEL_DELETE", channel)))

    # ---------------------------------------------------------------- CDN
    async def _cdn(self, request: web.Request) -> web.Response:
        found = self.files.get(request.match_info["attachment_id"])
        if found is None:
            return web.Response(status=404, text="Not Found")
        return web.Response(body=found[0], headers={"Content-Type": found[1]})
