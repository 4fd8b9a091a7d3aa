"""`smsbridge run` as real subprocesses (one, or several on one database) wired to the
Twilio and Slack stand-ins of the test process, for the scale-out and kill tests.

All processes share one public URL (as behind a load balancer): webhooks are signed for
it and posted to whichever process the test picks."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import aiohttp
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.core import Core
from standins.slack import SlackStandIn
from standins.twilio import TwilioStandIn
from storage.db import Database
from storage.models import Delivery, ReceivedSms
from tests.conftest import ACCOUNT_SID, AUTH_TOKEN, LINE, free_port, queue_reply, wait_for

REPO = Path(__file__).resolve().parents[2]
BOT_TOKEN = "xoxb-test"
SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
SALES = "C0SALES"
# Four lines, each routed to its own Slack channel (Slack paces posts per channel).
LINES = {LINE: SALES, "+15005550007": "C0LINE7", "+15005550008": "C0LINE8",
         "+15005550009": "C0LINE9"}  # fmt: skip
TOML = (
    '[organizations.acme]\nname = "Acme Roofing"\n\n'
    + "".join(
        f'[lines."{phone}"]\norganization = "acme"\nlabel = "Line {phone[-1]}"\n'
        f'slack_channel = "{channel}"\n\n'
        for phone, channel in LINES.items()
    )
    + '[members.dana]\norganization = "acme"\nname = "Dana"\nrole = "admin"\n'
    'slack_user = "U0DANA"\n'
)


@asynccontextmanager
async def slack_standin(**kwargs: object) -> AsyncIterator[SlackStandIn]:
    async with SlackStandIn(bot_token=BOT_TOKEN, **kwargs) as slack:  # type: ignore[arg-type]
        for channel in LINES.values():
            slack.add_channel(channel, channel.lower())
        slack.add_user("U0DANA", "dana")
        yield slack


@dataclass
class Proc:
    popen: subprocess.Popen[bytes]
    port: int

    @property
    def pid(self) -> int:
        return self.popen.pid

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


class Cluster:
    def __init__(
        self,
        tmp: Path,
        db_url: str,
        twilio: TwilioStandIn,
        slack: SlackStandIn | None,
        *,
        lease_seconds: float = 120,
        sms_per_second: float = 50,
    ) -> None:
        self.tmp, self.db_url, self.twilio, self.slack = tmp, db_url, twilio, slack
        self.public_port = free_port()
        self.public_url = f"http://127.0.0.1:{self.public_port}"
        (tmp / "smsbridge.toml").write_text(TOML)
        self.base_env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DISCORD_"))},
            "SMSBRIDGE_DATABASE_URL": db_url,
            "SMSBRIDGE_CONFIG": str(tmp / "smsbridge.toml"),
            "SMSBRIDGE_PUBLIC_URL": self.public_url,
            "SMSBRIDGE_HOST": "127.0.0.1",
            "SMSBRIDGE_UNDO_SECONDS": "0",
            "SMSBRIDGE_SMS_PER_SECOND": str(sms_per_second),
            "SMSBRIDGE_LEASE_SECONDS": str(lease_seconds),
            "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
            "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
            "TWILIO_API_URL": twilio.url,
        }
        if slack is not None:
            self.base_env.update(
                SLACK_BOT_TOKEN=BOT_TOKEN,
                SLACK_SIGNING_SECRET=SECRET,
                SLACK_API_URL=slack.url + "/api/",
            )
        self.procs: list[Proc] = []
        self.dead: set[int] = set()
        self._db: Database | None = None

    def spawn(self, port: int | None = None) -> Proc:
        port = port or (self.public_port if not self.procs else free_port())
        env = {**self.base_env, "SMSBRIDGE_PORT": str(port)}
        with (self.tmp / "servers.log").open("ab") as log:
            popen = subprocess.Popen(
                [sys.executable, "-m", "bot.cli", "run"],
                cwd=REPO,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        proc = Proc(popen, port)
        self.procs.append(proc)
        return proc

    async def start(self, count: int = 1) -> list[Proc]:
        started = [self.spawn() for _ in range(count)]
        try:
            for proc in started:
                await wait_for(lambda p=proc: self.healthy(p), timeout=60)
        except AssertionError:
            print((self.tmp / "servers.log").read_text()[-4000:])
            raise
        return started

    async def restart(self, proc: Proc) -> Proc:
        """A fresh process on the same port (as after a crash, same address)."""
        fresh = self.spawn(proc.port)
        await wait_for(lambda: self.healthy(fresh), timeout=60)
        return fresh

    @property
    def alive(self) -> list[Proc]:
        return [p for p in self.procs if p.pid not in self.dead]

    def kill(self, proc: Proc) -> None:
        proc.popen.send_signal(signal.SIGKILL)
        proc.popen.wait(10)
        self.dead.add(proc.pid)

    def stop(self) -> None:
        for proc in self.alive:
            proc.popen.terminate()
        for proc in self.alive:
            try:
                proc.popen.wait(10)
            except subprocess.TimeoutExpired:
                proc.popen.kill()
                proc.popen.wait(5)
            self.dead.add(proc.pid)

    async def close(self) -> None:
        self.stop()
        if self._db is not None:
            await self._db.dispose()

    async def healthy(self, proc: Proc) -> bool:
        if proc.popen.poll() is not None:
            raise AssertionError(f"process {proc.pid} exited with {proc.popen.returncode}")
        try:
            async with aiohttp.ClientSession() as http, http.get(proc.url + "/healthz") as r:
                return r.status == 200
        except aiohttp.ClientError:
            return False

    async def sms_in(
        self,
        turn: int,
        from_: str,
        body: str,
        sid: str | None = None,
        *,
        to: str = LINE,
        timeout: float = 10,
    ) -> int:
        """An inbound SMS webhook, signed for the public URL, posted to the `turn`-th
        live process (round robin); 0 when the connection failed."""
        alive = self.alive or self.procs[-1:]  # none alive: the connection is refused
        target = alive[turn % len(alive)]
        try:
            status, _ = await asyncio.wait_for(
                self.twilio.send_inbound(
                    target.url + "/twilio/sms",
                    from_=from_,
                    to=to,
                    body=body,
                    message_sid=sid or "SM" + uuid.uuid4().hex,
                    signature_url=self.public_url + "/twilio/sms",
                ),
                timeout,
            )
        except (aiohttp.ClientError, TimeoutError):
            return 0
        return status

    def session(self) -> AsyncSession:
        if self._db is None:
            self._db = Database(self.db_url)
        return self._db.session()

    async def wait_drained(self, timeout: float) -> None:
        """Until no delivery is pending or running; else show what is left, and why."""
        try:
            await wait_for(self.drained, timeout=timeout)
        except AssertionError:
            async with self.session() as s:
                left = await s.scalars(
                    select(Delivery).where(Delivery.status.in_(("pending", "running")))
                )
                for d in left:
                    print(
                        f"left: {d.id} {d.kind} {d.lane} {d.status} attempts={d.attempts} "
                        f"run_at={d.run_at} lease={d.lease_until} {d.worker} {d.last_error}"
                    )
            print((self.tmp / "servers.log").read_text()[-6000:])
            raise

    async def drained(self) -> bool:
        """No received SMS waiting to be applied, no delivery pending or running."""
        if not await self.applied():
            return False
        async with self.session() as s:
            left = await s.scalar(
                select(Delivery.id).where(Delivery.status.in_(("pending", "running"))).limit(1)
            )
        return left is None

    async def applied(self) -> bool:
        """Every inbound SMS answered 200 is applied (its conversation exists)."""
        async with self.session() as s:
            return await s.scalar(select(ReceivedSms.id).limit(1)) is None


async def enqueue_replies(db_url: str, replies: dict[str, list[str]]) -> None:
    """Queue outbound SMS into the shared database as a teammate's replies would be (the
    same service call), in order per lead; the servers' workers pick them up."""
    db = Database(db_url)
    core = Core(db, Settings(database_url=db_url, undo_seconds=0), chat_platforms={"slack"})
    try:

        async def lead(phone: str, texts: list[str]) -> None:
            for text in texts:
                await queue_reply(core, text, phone=phone, source="cli", undo=False)

        await asyncio.gather(*(lead(p, t) for p, t in replies.items()))
    finally:
        await db.dispose()


def inbound_tokens(slack: SlackStandIn, pattern: str = r"c\d+-in\d+") -> dict[str, list[str]]:
    """Per thread (by its ts), the tokens matching `pattern` in the bot's thread posts,
    in the order they appear (posts in order, lines within a coalesced post in order)."""
    found: dict[str, list[str]] = defaultdict(list)
    for post in slack.posts():
        thread = post.get("thread_ts")
        if not thread or thread == post["ts"]:
            continue
        found[thread] += re.findall(pattern, post.get("text") or "")
    return {t: tokens for t, tokens in found.items() if tokens}
