"""Admins run the team from chat (#14): members added by mention on Slack and Discord
can reply at once; removed ones cannot, and a reply of theirs still in its undo window
is canceled with a notice in the thread. What the TOML declares is the file's."""

from __future__ import annotations

import asyncio
import copy
from pathlib import Path
from typing import Any

from bot.app import SmsBridge
from bot.directory_file import parse_directory
from standins.discord import DiscordStandIn
from standins.twilio import TwilioStandIn
from tests.conftest import DIRECTORY, wait_for
from tests.discord_fixtures import (  # noqa: F401  (fixtures)
    DANA,
    GUILD,
    SAM,
    answered,
    discord_api_fixture,
    discord_settings,
    posts,
    start_bridge,
    text_in,
    the_thread,
)
from tests.slack_fixtures import SlackEnv

PAT = "1100000000000000077"


async def test_slack_admin_adds_a_member_by_mention_and_removing_revokes_at_once(
    tmp_path: Path, twilio: TwilioStandIn
) -> None:
    audited = copy.deepcopy(DIRECTORY)
    audited["organizations"]["acme"]["admin_channel"] = {"slack": "C0ADMIN"}
    directory = parse_directory(audited)
    async with SlackEnv.start(tmp_path, twilio, undo_seconds=1.5, directory=directory) as sx:
        sx.slack.add_user("U0PAT", "pat")
        sx.slack.add_channel("C0ADMIN", "admins")
        await sx.sms_in("Hello, is the roof quote ready?")
        header = await sx.header()

        refused = await sx.command("member add <@U0PAT|pat> agent", "U0SAM")
        assert "may not add, change or remove members" in refused
        assert "not a member" in await sx.command("inbox", "U0PAT")

        added = await sx.command("member add <@U0PAT|pat> agent", "U0DANA")
        assert added == "Added pat as agent: they can use smsbridge now."
        listed = await sx.command("member list", "U0DANA")
        assert "• pat (`pat`) — agent · slack" in listed
        assert "• Dana (`dana`) — admin · discord, slack · managed by the file" in listed

        await sx.reply("U0PAT", "Yes, it is on its way", header)
        await wait_for(lambda: [m["body"] for m in twilio.messages] == ["Yes, it is on its way"])

        await sx.reply("U0PAT", "Also: 10% off", header)  # waits in its undo window
        await wait_for(lambda: "hourglass_flowing_sand" in str(sx.thread(header)))
        removed = await sx.command("member remove <@U0PAT|pat>", "U0DANA")
        assert (
            removed == "Removed pat: they can no longer use smsbridge (1 waiting reply canceled)."
        )
        await wait_for(
            lambda: any("pat's reply was canceled, not sent" in t for t in sx.texts(header))
        )
        await sx.reply("U0PAT", "One more thing", header)
        await wait_for(lambda: any("not a member" in e for e in sx.ephemerals_for("U0PAT")))
        await asyncio.sleep(2)  # past the undo window: nothing more went out
        assert [m["body"] for m in twilio.messages] == ["Yes, it is on its way"]

        assert "managed by the file: edit `members.sam`" in await sx.command(
            "member remove <@U0SAM|sam>", "U0DANA"
        )
        assert "managed by the file: edit `members.sam.role`" in await sx.command(
            "member role <@U0SAM|sam> limited", "U0DANA"
        )
        assert "yourself" in await sx.command("member role <@U0DANA|dana> agent", "U0DANA")
        again = await sx.command("member add <@U0PAT|pat> limited", "U0DANA")
        assert again == "pat is a member again, as limited."

        # Every change is audited, and posted to the admin channel as it happens.
        log = await sx.command("audit", "U0DANA")
        assert log.splitlines()[0] == "The last 3 admin change(s), newest first:"
        assert log.splitlines()[1].endswith("UTC · Dana: pat is a member again, as limited.")
        assert "Dana: Removed pat" in log and "Dana: Added pat as agent" in log
        assert "may not see the admin changes" in await sx.command("audit", "U0SAM")
        await wait_for(lambda: len(sx.slack.posts("C0ADMIN")) == 3)
        assert sx.slack.posts("C0ADMIN")[0]["text"].startswith("🛠 Dana: Added pat as agent")
        assert "needs the teammate mentioned" in await sx.command("member add pat", "U0DANA")


def command_text(api: DiscordStandIn, interaction: dict[str, Any]) -> str:
    record = api.interactions[interaction["id"]]
    return record.followups[-1]["content"] if record.followups else record.original["content"]


async def discord_command(
    api: DiscordStandIn, channel: str, user: str, name: str, options: dict[str, Any]
) -> str:
    interaction = await api.command_interaction(channel, user, name, options)
    await answered(api, interaction)
    return command_text(api, interaction)


async def test_discord_admin_adds_a_member_with_the_user_option_and_removes_them(
    tmp_path: Path, discord_api: DiscordStandIn, twilio: TwilioStandIn
) -> None:
    discord_api.add_member(GUILD, PAT, "pat")
    app: SmsBridge = await start_bridge(
        discord_settings(tmp_path, discord_api, twilio, undo_seconds=1.5)
    )
    try:
        await text_in(app, twilio, "Hello from the lead")
        thread = await the_thread(discord_api, app)
        channel = thread["id"]

        refused = await discord_command(
            discord_api, channel, SAM, "member", {"action": "add", "user": PAT, "role": "agent"}
        )
        assert "may not add, change or remove members" in refused
        added = await discord_command(
            discord_api, channel, DANA, "member", {"action": "add", "user": PAT, "role": "agent"}
        )
        assert added == "Added pat as agent: they can use smsbridge now."

        await discord_api.message_create(channel, PAT, "Booked for Tuesday", guild_id=GUILD)
        await wait_for(lambda: [m["body"] for m in twilio.messages] == ["Booked for Tuesday"])

        await discord_api.message_create(channel, PAT, "And free gutters", guild_id=GUILD)
        await asyncio.sleep(0.3)  # stored, waiting in its undo window
        removed = await discord_command(
            discord_api, channel, DANA, "member", {"action": "remove", "user": PAT}
        )
        assert "Removed pat" in removed and "1 waiting reply canceled" in removed
        await wait_for(
            lambda: any(
                "pat's reply was canceled, not sent" in m["content"]
                for m in posts(discord_api, channel)
            )
        )
        await asyncio.sleep(2)
        assert [m["body"] for m in twilio.messages] == ["Booked for Tuesday"]
    finally:
        await app.stop()
