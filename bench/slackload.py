"""Shared machinery of benchmarks 2 (bench/e2e.py) and 3 (bench/burst.py): a Slack
stand-in that stamps the time each post reaches it, signed inbound webhooks as Twilio
sends them, the server process wired to both, and the audit of what reached Slack
(every SMS exactly once, in order per conversation, in one thread per conversation).

    python -m bench.slackload   # the server under test (see start_bridge and main)
"""

from __future__ import annotations

import asyncio
import math
import os
import re
import sys
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
from twilio.request_validator import RequestValidator

from bench.common import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    Server,
    free_port,
    serve,
    server_env,
)
from bot.delivery.pacing import Pacer
from standins.slack import SlackStandIn
from standins.slack_errors import RateLimited

BOT_TOKEN = "xoxb-bench"
SIGNING_SECRET = "bench-signing-secret"
FORM = "application/x-www-form-urlencoded"
MARK = re.compile(r"\bsms-(\d{6})\b")


class TimedSlack(SlackStandIn):
    """The Slack stand-in, stamping every message it stores with this process's monotonic
    time (`_at`; keys starting with "_" are not shown by the API) and counting the 429s
    it answers per channel."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.limited: Counter[str] = Counter()
        self.posted: set[int] = set()  # SMS numbers seen in a stored post

    def _store(self, channel: str, msg: dict[str, Any]) -> None:
        msg.setdefault("_at", time.monotonic())
        super()._store(channel, msg)
        self.posted.update(int(n) for n in MARK.findall(msg.get("text") or ""))

    def _rate_limit(self, channel: str) -> None:
        try:
            super()._rate_limit(channel)
        except RateLimited:
            self.limited[channel] += 1
            raise

    def sms_posts(self) -> list[tuple[str, dict[str, Any], list[int]]]:
        """(channel, message, SMS numbers it carries) of every bot post with a marker."""
        out = []
        for channel, messages in self.messages.items():
            for m in messages:
                numbers = [int(n) for n in MARK.findall(m.get("text") or "")]
                if numbers and m.get("bot_id") == self.bot_id:
                    out.append((channel, m, numbers))
        return out


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return math.nan


def marker(i: int) -> str:
    return f"sms-{i:06d}"


def lead_phone(i: int) -> str:
    """A valid US number per lead (up to 10,000 leads)."""
    return f"+1415555{i:04d}"


@dataclass
class Sms:
    number: int
    lead: str
    line: str
    body: str


class Sender:
    """Signed inbound webhooks, as Twilio sends them."""

    def __init__(self, public_url: str, seed: str = "e") -> None:
        self.url = public_url + "/twilio/sms"
        self.validator = RequestValidator(AUTH_TOKEN)
        self.seed = seed
        self.sent_at: dict[int, float] = {}
        self.acked: dict[int, float] = {}
        self.statuses: dict[int, int] = {}
        self.http: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> Sender:
        connector = aiohttp.TCPConnector(limit=256)
        self.http = aiohttp.ClientSession(connector=connector)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self.http is not None:
            await self.http.close()

    def form(self, sms: Sms) -> tuple[bytes, str]:
        sid = f"SM{self.seed}{sms.number:031x}"[:34]
        params = {
            "MessageSid": sid,
            "SmsMessageSid": sid,
            "SmsSid": sid,
            "AccountSid": ACCOUNT_SID,
            "From": sms.lead,
            "To": sms.line,
            "Body": sms.body,
            "NumMedia": "0",
            "NumSegments": "1",
            "SmsStatus": "received",
            "ApiVersion": "2010-04-01",
        }
        return urlencode(params).encode(), self.validator.compute_signature(self.url, params)

    async def send(self, sms: Sms) -> int:
        """POST one webhook (retrying a refused or failed one, as Twilio would)."""
        assert self.http is not None
        body, signature = self.form(sms)
        headers = {"X-Twilio-Signature": signature, "Content-Type": FORM}
        status = 0
        for attempt in range(5):
            self.sent_at.setdefault(sms.number, time.monotonic())
            try:
                async with self.http.post(self.url, data=body, headers=headers) as r:
                    await r.read()
                    status = r.status
            except aiohttp.ClientError:
                status = 0
            if status == 200:
                break
            await asyncio.sleep(0.1 * 2**attempt)
        self.acked[sms.number] = time.monotonic()
        self.statuses[sms.number] = status
        return status

    async def open_loop(self, messages: list[Sms], rate: float) -> None:
        """Message i leaves at start + i / rate, whatever happened to the earlier ones."""
        start = time.monotonic()

        async def one(i: int, sms: Sms) -> None:
            await asyncio.sleep(max(0.0, start + i / rate - time.monotonic()))
            await self.send(sms)

        await asyncio.gather(*(one(i, sms) for i, sms in enumerate(messages)))


async def start_bridge(
    tmp: Path, slack: SlackStandIn, toml: str, *, unpaced: bool, log_level: str = "INFO"
) -> Server:
    """`smsbridge run` on SQLite in `tmp`, wired to the Slack stand-in (`unpaced`: its
    Slack pacing lifted, for a stand-in without a rate limit)."""
    port = free_port()
    config = tmp / "bench.toml"
    config.write_text(toml)
    env = server_env(
        tmp,
        f"sqlite+aiosqlite:///{tmp / 'bench.db'}",
        port,
        SMSBRIDGE_CONFIG=str(config),
        SLACK_BOT_TOKEN=slack.bot_token,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_API_URL=slack.url + "/api/",
        BENCH_UNPACED="1" if unpaced else "",
        BENCH_LOG_LEVEL=log_level,
    )
    return await serve(["-m", "bench.slackload"], tmp, port, env)  # `smsbridge run`: main()


def directory_toml(lines: Iterable[tuple[str, str]]) -> str:
    """One organization; each (line, Slack channel) a line routed to its channel."""
    out = ['[organizations.acme]\nname = "Acme Roofing"\ntimezone = "UTC"\n']
    for i, (phone, channel) in enumerate(lines):
        out.append(
            f'[lines."{phone}"]\norganization = "acme"\nlabel = "Line {i}"\n'
            f'slack_channel = "{channel}"\n'
        )
    return "\n".join(out)


async def wait_posted(slack: TimedSlack, numbers: set[int], timeout: float) -> set[int]:
    """Wait until every SMS number is in a post; returns those still missing."""
    deadline = time.monotonic() + timeout
    while True:
        missing = numbers - slack.posted
        if not missing or time.monotonic() > deadline:
            return missing
        await asyncio.sleep(0.1)


@dataclass
class Audit:
    """What reached Slack, SMS by SMS: each exactly once, in order per conversation."""

    sms: int = 0
    posts: int = 0  # bot posts carrying at least one of these SMS
    lost: int = 0
    duplicated: int = 0
    out_of_order: int = 0
    split: int = 0  # conversations whose SMS landed in more than one thread
    first_at: dict[int, float] = field(default_factory=dict)  # SMS -> stored in Slack

    @property
    def ok(self) -> bool:
        return not (self.lost or self.duplicated or self.out_of_order or self.split)

    def summary(self) -> str:
        return (
            f"lost {self.lost}, duplicated {self.duplicated}, out of order {self.out_of_order}, "
            f"conversations split over threads {self.split}"
        )


def audit(slack: TimedSlack, conversation_of: dict[int, int]) -> Audit:
    """Check the SMS numbered in `conversation_of` (SMS -> its conversation) against
    every bot post in the stand-in, in Slack's order."""
    result = Audit(sms=len(conversation_of))
    seen: Counter[int] = Counter()
    threads: dict[int, set[tuple[str, str]]] = {}
    last: dict[int, int] = {}
    for channel, message, numbers in slack.sms_posts():
        mine = [n for n in numbers if n in conversation_of]
        if not mine:
            continue
        result.posts += 1
        thread = (channel, str(message.get("thread_ts") or message["ts"]))
        for n in mine:
            conversation = conversation_of[n]
            seen[n] += 1
            result.first_at.setdefault(n, message["_at"])
            threads.setdefault(conversation, set()).add(thread)
            if n < last.get(conversation, -1):
                result.out_of_order += 1
            last[conversation] = max(n, last.get(conversation, -1))
    result.lost = sum(1 for n in conversation_of if not seen[n])
    result.duplicated = sum(1 for n in conversation_of if seen[n] > 1)
    result.split = sum(1 for found in threads.values() if len(found) > 1)
    return result


# ---- the served process: `smsbridge run`, with the Slack pacing lifted if BENCH_UNPACED --


class _Unpaced(Pacer):
    """For a stand-in without a rate limit: the bridge need not pace itself either."""

    def __init__(self, rate: float, burst: float) -> None:
        super().__init__(rate=1e9, burst=1e9)


def main() -> int:
    """`smsbridge --log-level $BENCH_LOG_LEVEL run`, exactly, except that with BENCH_UNPACED
    set the Slack bridge does not pace its posts; with BENCH_PROFILE=<file> the process
    is profiled (cProfile) and the stats are written there on exit."""
    from bot import cli
    from bridges.slack import chat

    if os.environ.get("BENCH_UNPACED"):
        chat.Pacer = _Unpaced  # type: ignore[misc]
    argv = ["--log-level", os.environ.get("BENCH_LOG_LEVEL", "INFO"), "run"]
    if not os.environ.get("BENCH_PROFILE"):
        return cli.main(argv)
    import cProfile

    profile = cProfile.Profile()
    try:
        return profile.runcall(cli.main, argv)
    finally:
        profile.dump_stats(os.environ["BENCH_PROFILE"])


if __name__ == "__main__":
    sys.exit(main())
