"""The running Slack bridge: the Bolt app, its Web API client and its life cycle.

HTTP mode serves events, interactivity and the slash command on `POST /slack/events`;
with SLACK_APP_TOKEN set it uses Socket Mode instead and serves no route."""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, ParamSpec, TypeVar

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp, AsyncBoltContext
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.config import ConfigError
from bot.connections import unwatch_connection, watch_connection
from bot.delivery.pacing import Pacer
from bot.plugins import Context
from bot.ports import Rejected, RetryLater, ThreadGone
from bot.results import FileReady
from bridges.slack import (
    SlackSettings,
    actions,
    lead_form,
    listeners,
    recovery,
    render,
    settings_form,
)
from bridges.slack.chat import SlackChat
from bridges.slack.files import Files
from bridges.slack.gate import Gate, Refused

log = logging.getLogger(__name__)

SLACK_API = "https://slack.com/api/"
P = ParamSpec("P")
T = TypeVar("T")


class SlackPlugin:
    platform = "slack"

    def __init__(self, settings: SlackSettings, context: Context) -> None:
        self.facade = context.facade
        self.slack = settings
        api_url = self.slack.api_url or SLACK_API
        self.client = AsyncWebClient(token=self.slack.bot_token, base_url=api_url)
        self.files = Files(self.slack.bot_token, api_url, context.fetch_media)
        self.bridge = SlackChat(self.client, self.files)
        # Ack first, work after: Slack wants an answer within 3 s and retries otherwise.
        self.app = AsyncApp(
            client=self.client,
            signing_secret=self.slack.signing_secret or "",
            process_before_response=False,
        )
        self.bot_user_id = ""
        self.enterprise_id: str | None = None  # installed across this Grid organization
        self._names: dict[str, str] = {}
        self._socket: AsyncSocketModeHandler | None = None
        self._inflight: set[asyncio.Task[Any]] = set()
        events_url = context.settings.public_url + "/slack/events"
        self.gate = Gate(self.slack.signing_secret or "", events_url)
        self.app.use(self._only_installed_workspace)
        self.app.use(recovery.keep_thread_messages(self))
        self.reads = Pacer(rate=recovery.READS_PER_SECOND, burst=1)
        self._recovery: asyncio.Task[None] | None = None
        listeners.register(self.app, self)
        actions.register(self.app, self)
        lead_form.register(self.app, self)
        settings_form.register(self.app, self)

    @property
    def team_url(self) -> str:
        return self.bridge.team_url

    def routes(self) -> list[web.RouteDef]:
        if self.slack.app_token:
            return []
        return [web.post("/slack/events", self._events)]

    async def _events(self, request: web.Request) -> web.Response:
        try:
            body = self.gate.check(await request.read(), request.headers, request.content_type)
        except Refused as exc:
            return web.json_response({"error": str(exc)}, status=exc.status)
        # Bolt checks the signature once more, answers url_verification and acks.
        try:
            bolt_request = AsyncBoltRequest(
                body=body,
                query=request.query_string,
                headers=request.headers,  # type: ignore[arg-type]
            )
        except (TypeError, KeyError, AttributeError, ValueError):
            # Signed, yet shaped unlike anything Slack sends (Bolt reads ids from it).
            return web.json_response({"error": "the body is not what Slack sends"}, status=400)
        return await to_aiohttp_response(await self.app.async_dispatch(bolt_request))

    async def _only_installed_workspace(
        self,
        context: AsyncBoltContext,
        response: BoltResponse,
        next_: Callable[[], Awaitable[None]],
    ) -> BoltResponse:
        """The same app installed in another workspace signs with the same secret: what
        comes from there is acked and dropped, never acted on. Installed across an
        Enterprise Grid organization, every workspace of that organization is ours."""
        if self.enterprise_id is not None:
            ours, theirs = self.enterprise_id, context.enterprise_id
        else:
            ours, theirs = self.bridge.team_id, context.team_id
        if ours and theirs != ours and (theirs or self.enterprise_id):
            source = theirs or context.team_id
            self.gate.warnings.warn(
                f"team:{source}",
                "slack: ignored a request from workspace %s (installed in %s)",
                source,
                ours,
            )
            return BoltResponse(status=200, body="")
        await next_()
        return response

    async def start(self) -> None:
        # One HTTP session for every Web API call: without it slack_sdk opens a session
        # and a connection per call (a quarter of a mirrored SMS's CPU, bench/RESULTS.md).
        self.client.session = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=self.client.timeout)
        )
        try:
            auth = await self.client.auth_test()
        except SlackApiError as exc:
            raise ConfigError(
                f"SLACK_BOT_TOKEN was refused by Slack: {exc.response.get('error')}"
            ) from None
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise ConfigError(
                f"cannot reach Slack at {self.client.base_url} (SLACK_API_URL): {exc}"
            ) from None
        self.bot_user_id = str(auth["user_id"])
        self.bridge.team_id = auth.get("team_id")
        self.enterprise_id = (
            auth.get("enterprise_id") if auth.get("is_enterprise_install") else None
        )
        self.bridge.team_url = str(auth.get("url") or self.bridge.team_url)
        if self.slack.app_token:
            self._socket = AsyncSocketModeHandler(
                self.app, self.slack.app_token, web_client=self.client
            )
            await self._socket.connect_async()
            recovery.catch_up_after_gaps(self, self._socket.client)
            watch_connection("slack", self._socket.client.is_connected)
            log.info("slack: connected in Socket Mode as %s", self.bot_user_id)
        # What was typed while we were down, or kept by a process that died, in the
        # background: start-up must not wait for Slack's paced reads.
        self._recovery = asyncio.create_task(recovery.recover(self))

    async def stop(self) -> None:
        if self._recovery is not None:
            self._recovery.cancel()
            await asyncio.gather(self._recovery, return_exceptions=True)
            self._recovery = None
        if self._socket is not None:
            unwatch_connection("slack")
            await self._socket.close_async()
            self._socket = None
        # Listeners run after the ack, outside any request: let them finish first.
        if self._inflight:
            _, late = await asyncio.wait(self._inflight, timeout=5)
            for task in late:
                task.cancel()
            if late:
                await asyncio.wait(late, timeout=1)
        await self.files.close()
        if self.client.session is not None:
            await self.client.session.close()

    # ---- helpers for listeners -----------------------------------------------------

    def background(self, work: Coroutine[Any, Any, None]) -> None:
        """Run `work` in a task that stop() waits for (then cancels)."""
        task = asyncio.create_task(work)
        self._inflight.add(task)
        task.add_done_callback(self._inflight.discard)

    def tracked(self, func: Callable[P, Awaitable[T]]) -> Callable[P, Awaitable[T]]:
        """Wrap a Bolt listener so stop() can wait for it (Bolt runs it in a task of its
        own after the ack and keeps no handle)."""

        @functools.wraps(func)
        async def run(*args: P.args, **kwargs: P.kwargs) -> T:
            task = asyncio.current_task()
            if task is not None:
                self._inflight.add(task)
                task.add_done_callback(self._inflight.discard)
            return await func(*args, **kwargs)

        return run

    @property
    def mention(self) -> str:
        return f"<@{self.bot_user_id}>"

    async def first_event(self, body: dict[str, Any]) -> bool:
        """False for an Events API delivery seen before (Slack retries with the same
        event_id when an ack was late; over Socket Mode too)."""
        event_id = body.get("event_id")
        if not event_id:
            return True
        return await self.facade.first_time("slack", f"event:{event_id}")

    async def plain_text(self, text: str) -> str:
        """Slack markup as SMS text; user mentions become the person's name (a lead
        cannot read `<@U0DANA>`). Names are looked up once and kept."""
        wanted = {m.group(1) for m in render.USER_MENTION.finditer(text) if not m.group(2)}
        for user_id in wanted - set(self._names):
            try:
                info = (await self.client.users_info(user=user_id))["user"]
                profile = info.get("profile") or {}
                self._names[user_id] = (
                    profile.get("display_name") or info.get("real_name") or info.get("name", "")
                )
            except SlackApiError:
                self._names[user_id] = ""
        return render.from_slack(text, self._names)

    async def send_file(self, user: str, ready: FileReady) -> str:
        """A file for one member only, in their direct messages with the app; what to
        tell them about it."""
        try:
            opened = await self.client.conversations_open(users=user)
            channel = opened["channel"]["id"]
            await self.bridge.post_file(channel, ready.text, ready.filename, ready.data)
        except (SlackApiError, RetryLater, Rejected, ThreadGone) as exc:
            log.warning("slack: file not sent to a member: %s", exc)
            return f"Slack did not take {ready.filename}; nothing was sent. Try again."
        return f"📎 Sent you {ready.filename} in our direct messages. {ready.text}"

    async def ephemeral(
        self,
        channel: str,
        user: str,
        text: str,
        *,
        thread_ts: str | None = None,
        blocks: list[dict[str, Any]] | None = None,
    ) -> None:
        """An answer only `user` sees; a failure to show it is logged, not raised (the
        work it reports on is done)."""
        try:
            await self.client.chat_postEphemeral(
                channel=channel, user=user, text=text, thread_ts=thread_ts, blocks=blocks
            )
        except SlackApiError as exc:
            log.warning("slack: ephemeral answer not shown: %s", exc.response.get("error"))
