"""A running smsbridge wired to the Slack and Twilio stand-ins, and a driver that acts
like Slack (signed events, commands, clicks) and like the lead (signed inbound SMS).

Import the fixture explicitly: `from tests.slack_fixtures import sx_fixture  # noqa: F401`
and take `sx` as a test argument."""

from __future__ import annotations

import itertools
import json
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bot.app import Options, SmsBridge
from bridges.slack import SlackSettings
from bridges.sms import TwilioSettings
from standins import slack_interactivity as si
from standins import slack_payloads as sp
from standins.slack import SlackStandIn
from standins.twilio import TwilioStandIn
from tests.conftest import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    LEAD,
    LINE,
    applied,
    make_settings,
    thread_recorded,
    wait_for,
    with_settings,
)

BOT_TOKEN = "xoxb-test"
APP_TOKEN = "xapp-test"
SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
SALES = "C0SALES"
JSON = "application/json"
FORM = "application/x-www-form-urlencoded"
_sids = itertools.count(1)


@dataclass
class SlackEnv:
    app: SmsBridge
    slack: SlackStandIn
    twilio: TwilioStandIn

    @classmethod
    @asynccontextmanager
    async def start(
        cls,
        tmp_path: Path,
        twilio: TwilioStandIn,
        /,
        *,
        socket_mode: bool = False,
        enterprise: str | None = None,
        **settings: Any,
    ) -> AsyncIterator[SlackEnv]:
        async with SlackStandIn(bot_token=BOT_TOKEN, app_token=APP_TOKEN) as slack:
            slack.enterprise_id = enterprise  # installed across this Grid organization
            slack.add_channel(SALES, "sales")
            slack.add_channel("C0GLOBEX", "globex")
            for user, name in (("U0DANA", "dana"), ("U0SAM", "sam"), ("U0LEE", "lee")):
                slack.add_user(user, name)
            slack.add_user("U0GINA", "gina")
            slack_settings = SlackSettings(
                BOT_TOKEN,
                SECRET,
                APP_TOKEN if socket_mode else None,
                api_url=slack.url + "/api/",
            )
            config = make_settings(
                tmp_path,
                twilio=TwilioSettings(ACCOUNT_SID, AUTH_TOKEN, twilio.url),
                slack=slack_settings,
            )
            app = SmsBridge(
                with_settings(config, **settings), Options(worker_kwargs={"poll": 0.05})
            )
            await app.start()
            try:
                yield cls(app, slack, twilio)
            finally:
                await app.stop()

    # ---- the lead ---------------------------------------------------------------------

    async def sms_in(
        self, body: str, *, from_: str = LEAD, media: Sequence[tuple[str, str]] = ()
    ) -> None:
        url = self.app.settings.public_url + "/twilio/sms"
        sid = f"SM{next(_sids):032d}"
        status, _ = await self.twilio.send_inbound(
            url, from_=from_, to=LINE, body=body, message_sid=sid, media=media
        )
        assert status == 200
        await applied(self.app)

    # ---- what Slack shows ---------------------------------------------------------------

    def headers(self, channel: str = SALES) -> list[dict[str, Any]]:
        """Header cards: the bot's top-level posts with blocks, oldest first."""
        return [
            m
            for m in self.slack.posts(channel)
            if m.get("thread_ts") in (None, m["ts"]) and m.get("blocks")
        ]

    async def header(self, index: int = 0, channel: str = SALES) -> dict[str, Any]:
        await wait_for(lambda: len(self.headers(channel)) > index)
        header = self.headers(channel)[index]
        await thread_recorded(self.app, header["ts"])
        return header

    def card(self, index: int = 0, channel: str = SALES) -> str:
        """The words on a header card as it is now (texts and fields of its blocks)."""
        parts = []
        for block in self.headers(channel)[index].get("blocks", []):
            parts.append((block.get("text") or {}).get("text", ""))
            parts += [f.get("text", "") for f in block.get("fields", [])]
            parts += [e.get("text", "") for e in block.get("elements", []) if "text" in e]
        return "\n".join(str(p) for p in parts)

    def thread(self, header: dict[str, Any], channel: str = SALES) -> list[dict[str, Any]]:
        return self.slack.thread(channel, header["ts"])

    def texts(self, header: dict[str, Any], channel: str = SALES) -> list[str]:
        return [m.get("text", "") for m in self.thread(header, channel)]

    def ephemerals_for(self, user: str) -> list[str]:
        return [e["text"] for e in self.slack.ephemerals if e["user"] == user]

    def reactions(self, ts: str, channel: str = SALES) -> list[str]:
        message = next(m for m in self.slack.messages[channel] if m["ts"] == ts)
        return [r["name"] for r in message.get("reactions", [])]

    # ---- Slack calling our app ----------------------------------------------------------

    @property
    def events_url(self) -> str:
        return self.app.settings.public_url + "/slack/events"

    async def send_event(
        self,
        event: dict[str, Any],
        *,
        event_id: str | None = None,
        retry_num: int | None = None,
        secret: str = SECRET,
        timestamp: int | None = None,
    ) -> int:
        body = sp.json_body(sp.event_callback(event, event_id=event_id))
        status, _ = await sp.post_signed(
            self.events_url, body, JSON, secret, retry_num, timestamp=timestamp
        )
        return status

    async def reply(
        self,
        user: str,
        text: str,
        header: dict[str, Any],
        *,
        files: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """A person writes in the header's thread (stored in Slack, event sent to us)."""
        event = self.slack.user_message(SALES, user, text, thread_ts=header["ts"], files=files)
        assert await self.send_event(event) == 200
        return event

    async def command(self, text: str, user: str, channel: str = SALES) -> str:
        """`/sms text`; returns the ephemeral answer posted to the response_url."""
        url = self.slack.response_url()
        fields = sp.slash_command(text, user_id=user, channel_id=channel, response_url=url)
        status, _ = await sp.post_signed(self.events_url, sp.form_body(fields), FORM, SECRET)
        assert status == 200
        return await self.response(url)

    async def response(self, url: str) -> str:
        rid = url.rsplit("/", 1)[-1]
        found = await wait_for(lambda: [r for r in self.slack.responses if r["id"] == rid])
        body = found[0]["body"]
        assert body.get("response_type", "ephemeral") == "ephemeral" or body.get("replace_original")
        return str(body.get("text", ""))

    async def click(
        self,
        action_id: str,
        value: str | None,
        user: str,
        message: dict[str, Any],
        *,
        channel: str = SALES,
        selected_user: str | None = None,
        state: dict[str, Any] | None = None,
        thread_ts: str | None = None,
    ) -> str:
        """A click on a button (or the user picker) in `message`; returns the answer
        sent to the response_url."""
        url = self.slack.response_url(channel, message["ts"])
        payload = si.block_actions_payload(
            action_id,
            value,
            user_id=user,
            channel_id=channel,
            message=message,
            response_url=url,
            state_values=state,
            thread_ts=thread_ts,
        )
        if selected_user is not None:
            payload["actions"][0].update(type="users_select", selected_user=selected_user)
        await self.interact(payload)
        return await self.response(url)

    async def interact(self, payload: dict[str, Any]) -> None:
        await self.submit(payload)

    async def submit(self, payload: dict[str, Any]) -> dict[str, Any]:
        """An interaction; returns our app's answer to it (a view_submission's
        `response_action`, e.g. errors), {} for a bare ack."""
        body = sp.interactive_body(payload)
        status, answer = await sp.post_signed(self.events_url, body, FORM, SECRET)
        assert status == 200
        return json.loads(answer) if answer.strip() else {}


@pytest.fixture(name="sx")
async def sx_fixture(tmp_path: Path, twilio: TwilioStandIn) -> AsyncIterator[SlackEnv]:
    async with SlackEnv.start(tmp_path, twilio) as env:
        yield env
