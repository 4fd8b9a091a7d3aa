"""Every chat action that sends is idempotent: a double click on a draft's Send, Slack
retrying it, a byte-identical replay of the signed request, Send then the Edit box's
Send, or a replayed `/sms new`, each texts the lead once."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from bot.app import SmsBridge
from standins import slack_interactivity as si
from standins import slack_payloads as sp
from standins.discord import DiscordStandIn
from standins.twilio import TwilioStandIn
from tests.conftest import wait_for
from tests.discord_fixtures import (  # noqa: F401  (fixtures)
    DANA,
    answered,
    custom_ids,
    dbridge_fixture,
    discord_api_fixture,
)
from tests.e2e.test_discord_commands import opened
from tests.e2e.test_slack_drafts import (
    DRAFT,
    ask_for_draft,
    buttons,
    click_edit,
    drafting,
    submission,
)
from tests.slack_fixtures import FORM, SALES, SECRET, SlackEnv, sx_fixture  # noqa: F401


def send_click(sx: SlackEnv, draft: dict[str, object], url: str) -> bytes:
    click = si.block_actions_payload(
        "draft_send",
        buttons(draft)["Send as SMS"]["value"],
        user_id="U0DANA",
        channel_id=SALES,
        is_ephemeral=True,
        message_ts=str(draft["message_ts"]),
        response_url=url,
        state_values={"draft": {"text": {"type": "plain_text_input", "value": DRAFT}}},
    )
    return sp.interactive_body(click)


async def test_a_double_click_a_retry_and_a_replay_of_send_text_the_lead_once(
    tmp_path: Path, twilio: TwilioStandIn
) -> None:
    async with drafting(tmp_path, twilio) as sx:
        _, draft = await ask_for_draft(sx)
        url = sx.slack.response_url(SALES, str(draft["message_ts"]))
        body = send_click(sx, draft, url)
        timestamp = int(time.time())
        # Two clicks at once, Slack's retry of the first, then the same bytes replayed.
        await asyncio.gather(
            sp.post_signed(sx.events_url, body, FORM, SECRET, timestamp=timestamp),
            sp.post_signed(sx.events_url, send_click(sx, draft, url), FORM, SECRET),
        )
        await sp.post_signed(sx.events_url, body, FORM, SECRET, retry_num=1)
        await sp.post_signed(sx.events_url, body, FORM, SECRET, timestamp=timestamp)
        await wait_for(lambda: twilio.messages)
        await asyncio.sleep(0.5)
        assert len(twilio.messages) == 1


async def test_send_then_the_edit_boxs_send_texts_the_lead_once(
    tmp_path: Path, twilio: TwilioStandIn
) -> None:
    async with drafting(tmp_path, twilio) as sx:
        _, draft = await ask_for_draft(sx)
        url = sx.slack.response_url(SALES, str(draft["message_ts"]))
        modal = await click_edit(sx, draft, url)
        await sp.post_signed(sx.events_url, send_click(sx, draft, url), FORM, SECRET)
        await wait_for(lambda: twilio.messages)
        await sx.submit(submission(modal, "Tuesday at 9 works"))
        await asyncio.sleep(0.5)
        assert len(twilio.messages) == 1


async def test_a_replayed_sms_new_texts_the_lead_once(sx: SlackEnv) -> None:
    url = sx.slack.response_url()
    fields = sp.slash_command(
        "new +14155550177 Hello from Acme", user_id="U0DANA", channel_id=SALES, response_url=url
    )
    body = sp.form_body(fields)
    for _ in range(2):
        status, _ = await sp.post_signed(sx.events_url, body, FORM, SECRET)
        assert status == 200
    await wait_for(lambda: sx.twilio.messages)
    await asyncio.sleep(0.5)
    assert [m["to"] for m in sx.twilio.messages] == ["+14155550177"]


async def test_a_double_click_on_a_discord_draft_send_texts_the_lead_once(
    dbridge: SmsBridge, discord_api: DiscordStandIn, twilio: TwilioStandIn
) -> None:
    thread = await opened(dbridge, discord_api, twilio)
    add = await discord_api.command_interaction(
        thread["id"], DANA, "snippet", {"action": "add", "name": "hours", "text": "We open at 8."}
    )
    await answered(discord_api, add)
    show = await discord_api.command_interaction(thread["id"], DANA, "snippet", {"name": "hours"})
    await answered(discord_api, show)
    card = discord_api.interactions[show["id"]].followups[-1]
    button = next(c for c in custom_ids(card) if c.startswith("smsbridge:draftsend:"))
    presses = await asyncio.gather(
        *(
            discord_api.component_interaction(thread["id"], DANA, button, message=card)
            for _ in range(3)
        )
    )
    for press in presses:
        await answered(discord_api, press)
    await asyncio.sleep(0.5)
    assert [m["body"] for m in twilio.messages] == ["We open at 8."]
