"""The small interfaces bot/ defines and bridges implement."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from bot.types import ConversationView, MessageView, ThreadRef


class RetryLater(Exception):
    """The outside system asked us to wait (429, 5xx) or was unreachable before the
    request left: safe to try again."""

    def __init__(self, reason: str, after: float | None = None) -> None:
        super().__init__(reason)
        self.after = after


class Rejected(Exception):
    """The outside system refused for good; retrying would not help."""

    def __init__(self, reason: str, code: str | None = None) -> None:
        super().__init__(reason)
        self.code = code


class OutcomeUnknown(Exception):
    """The request may have reached the outside system; repeating it could duplicate."""


class ThreadGone(Exception):
    """The chat thread or its header was deleted, or the channel is no longer reachable."""


@dataclass(frozen=True)
class SentSms:
    sid: str
    status: str


class SmsGateway(Protocol):
    async def send(
        self,
        *,
        from_phone: str,
        to_phone: str,
        body: str,
        media_urls: list[str],
        status_callback: str,
    ) -> SentSms: ...

    async def close(self) -> None: ...


@dataclass(frozen=True)
class Completion:
    """What a language model answered, with the tokens it cost."""

    text: str
    prompt_tokens: int
    completion_tokens: int
    model: str


class Drafter(Protocol):
    """A chat-completions model that writes reply drafts. Raise RetryLater (rate limited,
    timed out, unreachable, 5xx) or Rejected (refused, bad request, bad key or model),
    each with a short reason a member can read."""

    # Seconds one completion may take; the core gives up a little after that.
    timeout: float

    async def complete(
        self, messages: list[dict[str, str]], *, max_tokens: int, temperature: float
    ) -> Completion: ...

    async def close(self) -> None: ...


class ChatBridge(Protocol):
    """One chat platform. Raise ThreadGone, RetryLater or Rejected as they apply."""

    platform: str

    async def create_thread(
        self, channel: str, conversation: ConversationView, previous: ThreadRef | None
    ) -> ThreadRef:
        """Post the header card and open a thread under it; `previous` is the thread this
        one replaces (deleted or moved), for the header to link to."""
        ...

    async def find_thread(
        self, channel: str, conversation: ConversationView, since: datetime
    ) -> ThreadRef | None:
        """The header card of `conversation` posted in `channel` since `since` and its
        thread, if one is there: a process that died between posting a card and recording
        it left it, and it is adopted rather than posted twice."""
        ...

    async def update_header(self, thread: ThreadRef, conversation: ConversationView) -> None: ...

    async def post_messages(
        self, thread: ThreadRef, conversation: ConversationView, messages: list[MessageView]
    ) -> list[str]:
        """Post messages in order (may coalesce several into one post); returns the post id
        of each message."""
        ...

    async def show_status(self, thread: ThreadRef, post_id: str, message: MessageView) -> None:
        """An outbound message moved status: mark its chat copy."""
        ...

    async def edit_post(
        self, thread: ThreadRef, post_id: str, conversation: ConversationView, message: MessageView
    ) -> None:
        """Rewrite our copy of a message that changed elsewhere (a correction inside the
        undo window, a reply turned into a note). A post deleted meanwhile is left alone."""
        ...

    async def delete_post(self, thread: ThreadRef, post_id: str) -> None:
        """Take down our copy of a reply its author deleted on another platform (gone
        already is fine)."""
        ...

    async def notify(
        self,
        thread: ThreadRef,
        text: str,
        *,
        mention: str | None = None,
        retry_message_id: int | None = None,
    ) -> None:
        """A notice in the thread, for everyone in it; with a platform user id, that user
        is mentioned (a push on their phone); with a message id, offering a Retry button
        for that SMS."""
        ...

    async def post_file(
        self, channel: str, text: str, filename: str | None = None, data: bytes | None = None
    ) -> None:
        """A message in a channel, outside any thread, with a file when given (a report's
        chart; an audit line has none)."""
        ...


class ChatPlugin(Protocol):
    """What a chat platform folder in bridges/ offers the wiring in bot/app.py."""

    platform: str
    bridge: ChatBridge

    def routes(self) -> list[Any]:
        """aiohttp route definitions it serves on our web server (may be empty)."""
        ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...
