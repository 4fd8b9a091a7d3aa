"""`smsbridge demo`: the main job on its embedded defaults. The real web server and
workers on SQLite in a temp dir; the real twilio client talking to a loopback Twilio
stand-in; a scripted lead texts in (signed webhook), a reply goes out, the status
callback marks it delivered, STOP opts the lead out and a later reply is refused."""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from sqlalchemy import select

REPO = Path(__file__).resolve().parents[1]
LINE = "+15005550006"
LEAD = "+14155550123"
ACCOUNT_SID = "AC" + "d" * 32
AUTH_TOKEN = "demo-auth-token"

DEMO_CONFIG = {
    "organizations": {
        "acme": {
            "name": "Acme Roofing",
            "timezone": "America/Chicago",
            "help_text": "Acme Roofing: text us anytime. Reply STOP to opt out.",
        }
    },
    "lines": {LINE: {"organization": "acme", "label": "Sales"}},
    "members": {"dana": {"organization": "acme", "name": "Dana", "role": "admin"}},
}


class Transcript:
    def __init__(self) -> None:
        self.started = time.monotonic()

    def say(self, who: str, text: str) -> None:
        print(f"[{time.monotonic() - self.started:6.2f}s] {who:<10} {text}", flush=True)


async def until(check: Callable[[], Awaitable[Any]], timeout: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = await check()
        if value:
            return value
        await asyncio.sleep(0.05)
    raise TimeoutError("the demo waited too long for a step")


async def run_demo() -> int:
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))  # the stand-ins live in tests/standins
    from bot.app import Options, SmsBridge
    from bot.config import Settings, TwilioSettings, parse_directory
    from bot.services.access import Denied
    from bot.services.portal import Portal
    from bot.services.replies import ReplyOptions, queue_sms
    from storage.models import Conversation, Member, Message
    from tests.conftest import free_port
    from tests.standins.twilio import TwilioStandIn

    say = Transcript().say
    with tempfile.TemporaryDirectory(prefix="smsbridge-demo-") as tmp:
        twilio = TwilioStandIn(account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN)
        await twilio.start()
        port = free_port()
        settings = Settings(
            database_url=f"sqlite+aiosqlite:///{tmp}/demo.db",
            public_url=f"http://127.0.0.1:{port}",
            host="127.0.0.1",
            port=port,
            undo_seconds=1.0,
            twilio=TwilioSettings(ACCOUNT_SID, AUTH_TOKEN, twilio.url),
            directory=parse_directory(DEMO_CONFIG),
        )
        app = SmsBridge(settings, Options(worker_kwargs={"poll": 0.05}))
        await app.start()
        core = app.core
        assert core is not None
        say("smsbridge", f"listening on {settings.public_url}; Twilio stand-in at {twilio.url}")
        webhook = settings.public_url + "/twilio/sms"
        try:
            say("lead", f"{LEAD} texts {LINE}: “Hi, can I get a quote for a roof repair?”")
            status, _ = await twilio.send_inbound(
                webhook, from_=LEAD, to=LINE, body="Hi, can I get a quote for a roof repair?"
            )
            say("twilio", f"webhook answered {status} with empty TwiML")

            async def conversation() -> Conversation | None:
                async with app.db.session() as s:
                    return await s.scalar(select(Conversation))

            conv = await until(conversation)
            say(
                "inbox",
                f"conversation #{conv.id} with {conv.lead.phone}: "
                f"unread {conv.unread_count}, needs response {conv.needs_response}",
            )

            async def reply(text: str) -> Any:
                async def work(session: Any) -> Any:
                    c = await session.get(Conversation, conv.id)
                    dana = await session.scalar(select(Member).where(Member.key == "dana"))
                    return await queue_sms(
                        core,
                        Portal(core, session, c),
                        text,
                        author=dana,
                        options=ReplyOptions(source="chat"),
                    )

                return await core.run(work)

            outcome = await reply("Sure! Can you send a photo of the damage?")
            say("dana", f"replies: {outcome.text}")
            sent = await until(lambda: _first(twilio.messages))
            say("twilio", f"received {sent['sid'][:10]}… to {sent['to']}: “{sent['body']}”")
            await twilio.send_status_callbacks(sent["sid"], ("sent", "delivered"))

            async def delivered() -> bool:
                async with app.db.session() as s:
                    st = await s.scalar(
                        select(Message.status).where(Message.id == outcome.message_id)
                    )
                    return st == "delivered"

            await until(delivered)
            say("status", "the reply is marked delivered")

            say("lead", "texts: “STOP”")
            await twilio.send_inbound(webhook, from_=LEAD, to=LINE, body="STOP")
            try:
                await reply("Just checking in!")
                say("error", "a reply to an opted-out lead was accepted")
                return 1
            except Denied as exc:
                say("dana", f"replies again, refused: {exc}")
            async with app.db.session() as s:
                events = list(await s.scalars(select(Message).where(Message.kind == "event")))
            for event in events:
                say("event", event.body)
            say("twilio", f"{len(twilio.messages)} SMS sent in all; none after STOP")
        finally:
            await app.stop()
            await twilio.stop()
    say("demo", "done")
    return 0


async def _first(items: list[Any]) -> Any:
    return items[0] if items else None
