"""What the core answers a bridge: a small closed set of typed results, so a bridge decides
how to show them by their type (`match`), never by looking for string keys.

Every result carries `text`, the sentence a member reads, and `ok` (False only for
`Refused`: nothing was changed or sent)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from bot.types import ConversationView


class Unavailable(Exception):
    """The core cannot take the request now (database locked, full or gone): nothing was
    changed. An outside caller answers "try later" (a webhook: 503)."""


@dataclass(frozen=True)
class Done:
    """A change was made, or a question answered, in one sentence."""

    text: str
    conversation_id: int | None = None
    message_id: int | None = None
    ok: ClassVar[bool] = True


@dataclass(frozen=True)
class Refused:
    """Nothing was changed or sent; `reason` says why and how to do it right."""

    reason: str
    conversation_id: int | None = None
    ok: ClassVar[bool] = False

    @property
    def text(self) -> str:
        return self.reason


@dataclass(frozen=True)
class Queued:
    """An SMS is queued: it leaves at `send_at` (after the undo window, or after quiet
    hours when `held`). The chat post that wrote it, if any, is now a reply, not a note."""

    text: str
    conversation_id: int
    message_id: int
    send_at: datetime
    segments: int
    held: bool = False
    ai_assisted: bool = False
    author: str | None = None  # the member who wrote or approved it
    cost: str | None = None  # why it costs more than it looks (a UCS-2 character), if so
    ok: ClassVar[bool] = True


@dataclass(frozen=True)
class Noted:
    """An internal note was stored (or a reply turned into one): it is never sent."""

    text: str
    conversation_id: int
    message_id: int
    ok: ClassVar[bool] = True


@dataclass(frozen=True)
class InboxItem:
    conversation: ConversationView
    threads: tuple[tuple[str, str, str], ...]  # (platform, channel, thread id)


HOME_FILTERS = ("open", "unread", "mine", "unassigned", "needs-response")


@dataclass(frozen=True)
class Home:
    """One member's inbox at a glance (a chat app's home tab): counts per filter and the
    newest conversations of each."""

    organization: str
    member_name: str
    counts: dict[str, int]
    newest: dict[str, list[InboxItem]]


@dataclass(frozen=True)
class Listed:
    """Conversations (inbox or search): `total` may exceed the `items` shown."""

    text: str
    items: tuple[InboxItem, ...]
    total: int
    ok: ClassVar[bool] = True


@dataclass(frozen=True)
class Drafted:
    """A draft (from the AI, or a snippet) for the asking member's eyes only. Nothing is
    sent until they Send it (`Facade.send_draft`) with `conversation_id` and `ai`; a
    snippet asked for outside a conversation has no conversation to send to."""

    text: str
    describe: str  # "1 segment · GSM-7 · 42 chars"
    ai: bool
    conversation_id: int | None
    segments: int
    encoding: str
    model: str | None = None  # the AI model that wrote it
    snippet: str | None = None  # the snippet's name
    unknown_fields: tuple[str, ...] = ()  # merge fields of the snippet left as typed
    # A reply typed in the thread while smsbridge was down, read back later: too old to
    # go out by itself, offered to its author instead.
    typed_while_down: bool = False
    ok: ClassVar[bool] = True


@dataclass(frozen=True)
class Reported:
    """`/sms report`: the figures as text and the chart (a PNG) to show with them. Slack
    cannot show a file to one member only: its bridge posts both in the channel."""

    text: str
    chart: bytes
    filename: str = "report.png"
    ok: ClassVar[bool] = True


@dataclass(frozen=True)
class FileReady:
    """A file for the asking member's eyes only (`/sms contacts export`)."""

    text: str
    filename: str
    data: bytes
    ok: ClassVar[bool] = True


Result = Done | Refused | Queued | Noted | Listed | Drafted | Reported | FileReady


@dataclass(frozen=True)
class SettingsForm:
    """The organization's settings, for an admin to edit in a form. `values` are shown
    as typed (quiet hours "21:00 08:00", "" for off); `declared` are the file's and are
    shown, not edited."""

    organization: str
    values: dict[str, str]
    declared: frozenset[str]
    ok: ClassVar[bool] = True


@dataclass(frozen=True)
class Invalid:
    """A form sent with values the core refuses: what is wrong, by field. Nothing was
    changed."""

    errors: dict[str, str]
    ok: ClassVar[bool] = False

    @property
    def text(self) -> str:
        return " ".join(self.errors.values())
