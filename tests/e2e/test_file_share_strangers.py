"""A file shared in a mirrored thread by someone who may not write there (not a member,
or a limited member on a conversation not theirs) is refused before anything is fetched;
the refusal says why."""

from __future__ import annotations

from bot.app import SmsBridge
from standins.discord import DiscordStandIn
from standins.twilio import TwilioStandIn
from tests.conftest import wait_for
from tests.discord_fixtures import (  # noqa: F401  (fixtures)
    OUTSIDER,
    dbridge_fixture,
    discord_api_fixture,
    posts,
    text_in,
    the_thread,
)
from tests.slack_fixtures import SlackEnv, sx_fixture  # noqa: F401


async def test_a_strangers_slack_file_is_refused_before_it_is_fetched(sx: SlackEnv) -> None:
    sx.slack.add_user("U0STRANGER", "stranger")
    await sx.sms_in("Hello?")
    header = await sx.header()
    for user in ("U0STRANGER", "U0LEE"):  # not a member; limited, not assigned
        picture = sx.slack.add_file(b"\xff\xd8jpeg", "x.jpg", user=user, mimetype="image/jpeg")
        await sx.reply(user, "look at this", header, files=[picture])
        await wait_for(lambda user=user: sx.ephemerals_for(user))
    assert "not a member" in sx.ephemerals_for("U0STRANGER")[0]
    assert "assigned to you" in sx.ephemerals_for("U0LEE")[0]
    assert not sx.slack.calls("/files-pri/")  # nothing was fetched
    assert sx.twilio.messages == []


async def test_a_strangers_discord_attachment_is_refused_before_it_is_fetched(
    dbridge: SmsBridge, discord_api: DiscordStandIn, twilio: TwilioStandIn
) -> None:
    await text_in(dbridge, twilio, "Hello?")
    thread = (await the_thread(discord_api, dbridge))["id"]
    png = b"\x89PNG\r\n\x1a\n" + b"0" * 64
    await discord_api.message_create(thread, OUTSIDER, "mine", [("x.png", png, "image/png")])
    refusal = await wait_for(
        lambda: [m for m in posts(discord_api, thread) if m.get("message_reference")]
    )
    assert "not a member" in refusal[0]["content"]
    assert not discord_api.calls("/attachments/")
    assert twilio.messages == []
