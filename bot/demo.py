"""`smsbridge demo`: the main job on its embedded defaults. The real web server and
workers on SQLite in a temp dir; the real twilio and slack_sdk/slack_bolt clients talking
to loopback Twilio and Slack stand-ins. A scripted lead texts in (signed webhook) and the
conversation appears as a Slack thread; a reply typed in the thread (signed event) goes
out as SMS, a note typed there stays in, the status callback marks the reply delivered,
STOP opts the lead out and a later reply in the thread is refused."""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
LINE = "+15005550006"
LEAD = "+14155550123"
ACCOUNT_SID = "AC" + "d" * 32
AUTH_TOKEN = "demo-auth-token"
SLACK_BOT_TOKEN = "xoxb-demo"
SLACK_SECRET = "demo-signing-secret"
CHANNEL = "C0SALES"

DEMO_CONFIG = {
    "organizations": {
        "acme": {
            "name": "Acme Roofing",
            "timezone": "America/Chicago",
            "help_text": "Acme Roofing: text us anytime. Reply STOP to opt out.",
        }
    },
    "lines": {LINE: {"organization": "acme", "label": "Sales", "slack_channel": CHANNEL}},
    "members": {
        "dana": {"organization": "acme", "name": "Dana", "role": "admin", "slack_user": "U0DANA"}
    },
}


class Transcript:
    def __init__(self) -> None:
        self.started = time.monotonic()

    def say(self, who: str, text: str) -> None:
        print(f"[{time.monotonic() - self.started:6.2f}s] {who:<10} {text}", flush=True)


async def until(check: Callable[[], Any], timeout: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return value
        await asyncio.sleep(0.05)
    raise TimeoutError("the demo waited too long for a step")


async def run_demo() -> int:
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))  # the stand-ins live in tests/standins
    from bot.app import Options, SmsBridge
    from bot.config import Settings, SlackSettings, TwilioSettings, parse_directory
    from tests.conftest import free_port
    from tests.standins import slack_payloads as sp
    from tests.standins.slack import SlackStandIn
    from tests.standins.twilio import TwilioStandIn

    say = Transcript().say
    with tempfile.TemporaryDirectory(prefix="smsbridge-demo-") as tmp:
        twilio = TwilioStandIn(account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN)
        await twilio.start()
        slack = SlackStandIn(bot_token=SLACK_BOT_TOKEN)
        await slack.start()
        slack.add_channel(CHANNEL, "sales")
        slack.add_user("U0DANA", "dana", real_name="Dana")
        port = free_port()
        settings = Settings(
            database_url=f"sqlite+aiosqlite:///{tmp}/demo.db",
            public_url=f"http://127.0.0.1:{port}",
            host="127.0.0.1",
            port=port,
            undo_seconds=1.0,
            twilio=TwilioSettings(ACCOUNT_SID, AUTH_TOKEN, twilio.url),
            slack=SlackSettings(SLACK_BOT_TOKEN, SLACK_SECRET, api_url=slack.url + "/api/"),
            directory=parse_directory(DEMO_CONFIG),
        )
        app = SmsBridge(settings, Options(worker_kwargs={"poll": 0.05}))
        await app.start()
        say("smsbridge", f"listening on {settings.public_url}")
        say("smsbridge", f"Twilio stand-in at {twilio.url}, Slack stand-in at {slack.url}")
        webhook = settings.public_url + "/twilio/sms"
        events = settings.public_url + "/slack/events"

        def thread() -> list[dict[str, Any]]:
            cards = [m for m in slack.posts(CHANNEL) if m.get("thread_ts") in (None, m["ts"])]
            return slack.thread(CHANNEL, cards[0]["ts"]) if cards else []

        def marks(ts: str) -> str:
            found = next((m for m in slack.messages[CHANNEL] if m["ts"] == ts), {})
            return " ".join(f":{r['name']}:" for r in found.get("reactions", [])) or "-"

        async def type_in_thread(text: str, parent: str) -> dict[str, Any]:
            event = slack.user_message(CHANNEL, "U0DANA", text, thread_ts=parent)
            body = sp.json_body(sp.event_callback(event))
            status, _ = await sp.post_signed(events, body, "application/json", SLACK_SECRET)
            say("dana", f"types in the thread: “{text}” (signed event answered {status})")
            return event

        try:
            say("lead", f"{LEAD} texts {LINE}: “Hi, can I get a quote for a roof repair?”")
            status, _ = await twilio.send_inbound(
                webhook, from_=LEAD, to=LINE, body="Hi, can I get a quote for a roof repair?"
            )
            say("twilio", f"webhook answered {status} with empty TwiML")
            first = await until(lambda: thread())
            header = slack.posts(CHANNEL)[0]
            say("slack", f"#sales: header card “{header['text']}” (thread {header['ts']})")
            say("slack", f"  in the thread, as {first[0]['username']}: “{first[0]['text']}”")

            reply = await type_in_thread("Sure! Can you send a photo of the damage?", header["ts"])
            await until(lambda: marks(reply["ts"]) != "-")
            say(
                "slack",
                f"  the reply is marked {marks(reply['ts'])}: deleting or editing it now stops it",
            )
            note = await type_in_thread("note: wants the estimate by Friday", header["ts"])
            await until(lambda: marks(note["ts"]) != "-")
            say("slack", f"  the note is marked {marks(note['ts'])} and stays in the team")
            sent = await until(lambda: _first(twilio.messages))
            say("twilio", f"received {sent['sid'][:10]}… to {sent['to']}: “{sent['body']}”")
            await twilio.send_status_callbacks(sent["sid"], ("sent", "delivered"))
            await until(lambda: marks(reply["ts"]) == ":white_check_mark:")
            say("slack", f"  status callbacks: the reply is marked {marks(reply['ts'])}")

            say("lead", "texts: “STOP”")
            await twilio.send_inbound(webhook, from_=LEAD, to=LINE, body="STOP")
            await until(lambda: "Opted out" in str(slack.posts(CHANNEL)[0].get("blocks")))
            say("slack", "  the header card now says: 🚫 Opted out (STOP)")
            await type_in_thread("Just checking in!", header["ts"])
            refusal = await until(lambda: _first(slack.ephemerals))
            say("slack", f"  only Dana sees: “{refusal['text']}”")
            say("slack", "the thread now reads:")
            for post in thread():
                who = post.get("username") or (
                    "dana" if post.get("user") == "U0DANA" else "smsbridge"
                )
                text = post.get("text", "").replace("\n", " ⏎ ")
                say("slack", f"  {who:<14} {text}  {marks(post['ts'])}")
            say(
                "twilio",
                f"{len(twilio.messages)} SMS sent in all; the note and the late reply stayed in",
            )
            if len(twilio.messages) != 1:
                say("error", "expected exactly one SMS")
                return 1
        finally:
            await app.stop()
            await slack.stop()
            await twilio.stop()
    say("demo", "done")
    return 0


async def _first(items: list[Any]) -> Any:
    return items[0] if items else None
