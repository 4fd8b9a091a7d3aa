"""What the listener modules (listeners, actions, forms, recovery) use of the running Slack
bridge: typed here so that they need not import bridges/slack/plugin.py, which imports
and registers them. SlackPlugin is the one implementation."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, ParamSpec, Protocol, TypeVar

from slack_sdk.web.async_client import AsyncWebClient

from bot.delivery.pacing import Pacer
from bot.facade import Facade
from bot.results import FileReady
from bridges.slack.chat import SlackChat
from bridges.slack.files import Files

P = ParamSpec("P")
T = TypeVar("T")


class SlackHost(Protocol):
    facade: Facade
    client: AsyncWebClient
    files: Files
    bridge: SlackChat
    reads: Pacer  # paces conversations.* reads of the catch-up
    bot_user_id: str

    @property
    def team_url(self) -> str: ...

    @property
    def mention(self) -> str: ...

    def tracked(self, func: Callable[P, Awaitable[T]]) -> Callable[P, Awaitable[T]]: ...

    def background(self, work: Coroutine[Any, Any, None]) -> None: ...

    async def first_event(self, body: dict[str, Any]) -> bool: ...

    async def plain_text(self, text: str) -> str: ...

    async def send_file(self, user: str, ready: FileReady) -> str: ...

    async def ephemeral(
        self,
        channel: str,
        user: str,
        text: str,
        *,
        thread_ts: str | None = None,
        blocks: list[dict[str, Any]] | None = None,
    ) -> None: ...
