"""The floor of benchmark 2's CPU per SMS: the least a process built on our libraries
must do to mirror an inbound SMS into a Slack thread, and nothing more.

It answers a signed `POST /twilio/sms` (the signature checked with the twilio library,
the form parsed by aiohttp), stores the SMS in SQLite in its own committed transaction
(stdlib sqlite3 on the event loop, WAL, synchronous=NORMAL, as smsbridge's SQLite), then
posts it into its lead's thread with slack_sdk's AsyncWebClient and updates the
thread's header card (the same two Slack calls smsbridge makes per SMS). It keeps no
outbox, no ordering across a crash, no lead or conversation state: what it spends is
what the libraries cost, so smsbridge's CPU per SMS reads as a multiple of it.

    python -m bench.bare_mirror PORT SLACK_API_URL DB_PATH
"""

from __future__ import annotations

import asyncio
import sqlite3
import sys

import aiohttp
from aiohttp import web
from slack_sdk.web.async_client import AsyncWebClient
from twilio.request_validator import RequestValidator

from bench.bare import EMPTY_TWIML, healthz
from bench.common import AUTH_TOKEN

CHANNEL = "C0BENCH"


class BareMirror:
    def __init__(self, public_url: str, slack_url: str, db_path: str) -> None:
        self.url = public_url + "/twilio/sms"
        self.validator = RequestValidator(AUTH_TOKEN)
        self.slack = AsyncWebClient(token="xoxb-bench", base_url=slack_url)
        self.db = sqlite3.connect(db_path, isolation_level=None)
        for pragma in ("journal_mode=WAL", "synchronous=NORMAL"):
            self.db.execute(f"PRAGMA {pragma}")
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS messages (id INTEGER PRIMARY KEY, sid TEXT UNIQUE, "
            "lead TEXT, body TEXT)"
        )
        self.threads: dict[str, str] = {}  # lead -> thread ts
        self.locks: dict[str, asyncio.Lock] = {}  # a lead's posts in order
        self.tasks: set[asyncio.Task[None]] = set()

    async def inbound(self, request: web.Request) -> web.Response:
        form = dict(await request.post())
        params = {k: str(v) for k, v in form.items()}
        if not self.validator.validate(
            self.url, params, request.headers.get("X-Twilio-Signature", "")
        ):
            return web.Response(status=403)
        self.db.execute("BEGIN")
        self.db.execute(
            "INSERT OR IGNORE INTO messages (sid, lead, body) VALUES (?, ?, ?)",
            (params["MessageSid"], params["From"], params["Body"]),
        )
        self.db.execute("COMMIT")
        task = asyncio.create_task(self.mirror(params["From"], params["Body"]))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return web.Response(text=EMPTY_TWIML, content_type="text/xml")

    async def mirror(self, lead: str, body: str) -> None:
        async with self.locks.setdefault(lead, asyncio.Lock()):
            ts = self.threads.get(lead)
            if ts is None:
                card = await self.slack.chat_postMessage(channel=CHANNEL, text=f"SMS with {lead}")
                ts = self.threads[lead] = str(card["ts"])
            await self.slack.chat_postMessage(channel=CHANNEL, thread_ts=ts, text=body)
            await self.slack.chat_update(channel=CHANNEL, ts=ts, text=f"SMS with {lead}: 1 new")

    async def open(self, _: web.Application) -> None:
        # One HTTP session for every Slack call, as smsbridge's Slack bridge keeps.
        self.slack.session = aiohttp.ClientSession()

    async def close(self, _: web.Application) -> None:
        if self.slack.session is not None:
            await self.slack.session.close()


def main() -> None:
    port, slack_url, db_path = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    mirror = BareMirror(f"http://127.0.0.1:{port}", slack_url, db_path)
    app = web.Application()
    app.on_startup.append(mirror.open)
    app.on_cleanup.append(mirror.close)
    app.router.add_post("/twilio/sms", mirror.inbound)
    app.router.add_get("/healthz", healthz)
    web.run_app(app, host="127.0.0.1", port=port, access_log=None, print=None)


if __name__ == "__main__":
    main()
