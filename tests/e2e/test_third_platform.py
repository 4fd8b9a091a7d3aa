"""A new chat platform is one folder plus one entry-point line: here a whole platform, an
in-memory chat, is defined in this file only and registered as an entry point of group
`smsbridge.bridges` (a dist-info on sys.path, as `pip install` would leave it). With no
change to bot/, it mirrors a conversation, takes a reply that goes out as SMS and a note
that does not, and its TOML keys (`memchat_user`, `memchat_channel`) come with it."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from bot import plugins
from bot.app import Options, SmsBridge
from bot.directory_file import parse_directory
from bot.plugins import Context, Env, Kind
from bot.results import Noted, Queued
from bot.types import Actor, ChatRef, ChatReply, ConversationView, MessageView, ThreadRef
from bridges.sms import TwilioSettings
from standins.twilio import TwilioStandIn
from tests.conftest import ACCOUNT_SID, AUTH_TOKEN, LEAD, LINE, applied, make_settings, wait_for

PLATFORM = "memchat"
ROOM = "room-1"


@dataclass
class MemChat:
    """The whole chat platform: rooms of threads of posts, kept in memory."""

    threads: dict[str, list[str]] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    marks: dict[str, str] = field(default_factory=dict)
    ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))


class MemChatBridge:
    """The ChatBridge of bot/ports.py over MemChat."""

    platform = PLATFORM

    def __init__(self, chat: MemChat) -> None:
        self.chat = chat

    async def create_thread(
        self, channel: str, conversation: ConversationView, previous: ThreadRef | None
    ) -> ThreadRef:
        thread = f"t{next(self.chat.ids)}"
        self.chat.threads[thread] = []
        self.chat.headers[thread] = f"{conversation.lead_display} · {conversation.state}"
        return ThreadRef(PLATFORM, channel, thread, thread)

    async def find_thread(
        self, channel: str, conversation: ConversationView, since: datetime
    ) -> ThreadRef | None:
        return None

    async def update_header(self, thread: ThreadRef, conversation: ConversationView) -> None:
        self.chat.headers[thread.thread_id] = f"{conversation.lead_display} · {conversation.state}"

    async def post_messages(
        self, thread: ThreadRef, conversation: ConversationView, messages: list[MessageView]
    ) -> list[str]:
        ids = []
        for message in messages:
            ids.append(f"p{next(self.chat.ids)}")
            self.chat.threads[thread.thread_id].append(message.body)
        return ids

    async def show_status(self, thread: ThreadRef, post_id: str, message: MessageView) -> None:
        self.chat.marks[post_id] = message.status or ""

    async def edit_post(
        self, thread: ThreadRef, post_id: str, conversation: ConversationView, message: MessageView
    ) -> None:
        self.chat.marks[post_id] = message.kind

    async def delete_post(self, thread: ThreadRef, post_id: str) -> None:
        self.chat.marks[post_id] = "deleted"

    async def notify(
        self,
        thread: ThreadRef,
        text: str,
        *,
        mention: str | None = None,
        retry_message_id: int | None = None,
    ) -> None:
        self.chat.threads[thread.thread_id].append(text)

    async def post_file(self, channel: str, text: str, filename: str, data: bytes) -> None:
        self.chat.threads.setdefault(channel, []).append(text)


class MemChatPlugin:
    platform = PLATFORM

    def __init__(self, context: Context, chat: MemChat) -> None:
        self.facade = context.facade
        self.bridge = MemChatBridge(chat)

    def routes(self) -> list[Any]:
        return []

    async def start(self) -> None:
        pass

    async def stop(self) -> None:
        pass


class MemChatEntry:
    """What the entry point names: cheap to import, reads its own variable."""

    kind = Kind.CHAT
    chat = MemChat()
    running: MemChatPlugin | None = None

    def read_settings(self, env: Env) -> str | None:
        return env.get("MEMCHAT_ON")

    def describe(self, settings: str) -> str:
        return "on (in memory)"

    def create(self, settings: str, context: Context) -> MemChatPlugin:
        MemChatEntry.running = MemChatPlugin(context, MemChatEntry.chat)
        return MemChatEntry.running


bridge = MemChatEntry()


@pytest.fixture
def memchat_installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The entry point as an installed distribution would declare it."""
    dist = tmp_path / "site" / "smsbridge_memchat-0.1.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: smsbridge-memchat\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text(f"[smsbridge.bridges]\n{PLATFORM} = {__name__}:bridge\n")
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    plugins.bridges.cache_clear()
    yield
    plugins.bridges.cache_clear()


async def test_a_chat_platform_defined_only_here_mirrors_replies_and_keeps_notes(
    memchat_installed: None, tmp_path: Path, twilio: TwilioStandIn
) -> None:
    directory = parse_directory(
        {
            "organizations": {"acme": {"name": "Acme Roofing"}},
            "lines": {LINE: {"organization": "acme", "label": "Sales", "memchat_channel": ROOM}},
            "members": {"dana": {"organization": "acme", "name": "Dana", "memchat_user": "u-dana"}},
        }
    )
    settings = make_settings(
        tmp_path,
        directory,
        twilio=TwilioSettings(ACCOUNT_SID, AUTH_TOKEN, twilio.url),
        memchat="yes",
    )
    app = SmsBridge(settings, Options(create_schema=True, worker_kwargs={"poll": 0.05}))
    await app.start()
    try:
        status, _ = await twilio.send_inbound(
            settings.public_url + "/twilio/sms", from_=LEAD, to=LINE, body="Is Friday free?"
        )
        assert status == 200
        await applied(app)
        chat = MemChatEntry.chat
        thread = await wait_for(lambda: next(iter(chat.threads), None))
        await wait_for(lambda: chat.threads[thread] == ["Is Friday free?"])
        assert chat.headers[thread].endswith("Needs response")

        plugin = MemChatEntry.running
        assert plugin is not None
        dana = Actor(PLATFORM, "u-dana")
        where = ChatRef(PLATFORM, ROOM, thread)
        reply = ChatReply(dana, replace_post(where, "m1"), "Friday at 2 works", "m1")
        assert isinstance(await plugin.facade.thread_message(reply), Queued)
        note = ChatReply(dana, replace_post(where, "m2"), "note: she wants the blue tiles", "m2")
        assert isinstance(await plugin.facade.thread_message(note), Noted)

        await wait_for(lambda: [m["body"] for m in twilio.messages] == ["Friday at 2 works"])
        stranger = ChatReply(Actor(PLATFORM, "u-x"), replace_post(where, "m3"), "hi", "m3")
        refused = await plugin.facade.thread_message(stranger)
        assert refused is not None and not refused.ok
        assert [m["body"] for m in twilio.messages] == ["Friday at 2 works"], "notes stay in"
    finally:
        await app.stop()


def replace_post(where: ChatRef, post_id: str) -> ChatRef:
    return ChatRef(where.platform, where.channel, where.thread_id, post_id)
