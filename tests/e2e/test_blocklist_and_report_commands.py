"""`/sms block`, `unblock`, `blocked` and `report` from Slack and Discord: a blocked
number opens no thread, the list counts its texts, a limited member is refused; the
report answers with figures and a chart (uploaded to Slack with files_upload_v2,
attached on Discord)."""

from __future__ import annotations

from pathlib import Path

from bot.app import SmsBridge
from standins import slack_payloads as sp
from standins.discord import DiscordStandIn
from standins.twilio import TwilioStandIn
from tests.conftest import LEAD, wait_for
from tests.discord_fixtures import (  # noqa: F401  (fixtures)
    DANA,
    LEE,
    answered,
    dbridge_fixture,
    discord_api_fixture,
    posts,
    text_in,
    the_thread,
)
from tests.slack_fixtures import SALES, SlackEnv, sx_fixture  # noqa: F401  (fixtures)

SPAMMER = "+14155550123"
PNG = b"\x89PNG\r\n\x1a\n"


async def test_slack_block_keeps_a_number_out_and_blocked_counts_its_texts(sx: SlackEnv) -> None:
    assert (await sx.command(f"block {SPAMMER}", "U0SAM")).startswith("Blocked +14155550123")
    await sx.sms_in("Cheap followers!!!", from_=SPAMMER)
    await sx.sms_in("Last chance", from_=SPAMMER)
    await sx.sms_in("Hi, roof question")
    await sx.header()
    await wait_for(lambda: sx.headers())
    assert len(sx.headers()) == 1  # only the ordinary lead's thread
    listed = await sx.command("blocked", "U0DANA")
    assert '+14155550123 — 🚫 blocked · 2 text(s) kept aside · last: "Last chance"' in listed
    refused = await sx.command(f"unblock {SPAMMER}", "U0LEE")
    assert "Your role (limited) may not block or unblock numbers" in refused
    assert "Unblocked +14155550123" in await sx.command(f"unblock {SPAMMER}", "U0DANA")
    await sx.sms_in("Hello again", from_=SPAMMER)
    await sx.header(1)
    assert "`/sms block` acts on a number" in await sx.command("block", "U0DANA")


async def test_slack_block_by_mention_in_a_thread(sx: SlackEnv) -> None:
    await sx.sms_in("Buy crypto now")
    header = await sx.header()
    await wait_for(lambda: sx.thread(header))
    mention = sp.app_mention_event(SALES, "U0DANA", "<@U0BOT> block", thread_ts=header["ts"])
    assert await sx.send_event(mention) == 200
    await wait_for(lambda: sx.ephemerals_for("U0DANA"))
    assert sx.ephemerals_for("U0DANA")[0].startswith(f"Blocked {LEAD}")
    await wait_for(lambda: any("blocked this number" in t for t in sx.texts(header)))
    await sx.sms_in("More crypto")
    await sx.sms_in("HELP")  # not even the help text goes to a blocked number
    assert not any("More crypto" in t for t in sx.texts(header))
    assert sx.twilio.messages == []


async def test_slack_report_posts_figures_and_a_png_chart_in_the_channel(sx: SlackEnv) -> None:
    await sx.sms_in("Hello")
    header = await sx.header()
    await wait_for(lambda: sx.thread(header))
    await sx.reply("U0SAM", "Hi! How can we help?", header)
    await wait_for(lambda: sx.twilio.messages)
    answer = await sx.command("report week", "U0DANA")
    assert answer == "📊 The report and its chart are posted in this channel."
    [post] = [m for m in sx.slack.messages[SALES] if m.get("files")]
    assert post["text"].startswith("*Report · Acme Roofing · week*")
    assert "New conversations: 1" in post["text"]
    assert "First response: median" in post["text"]
    [file] = post["files"]
    assert file["name"] == "report.png"
    assert sx.slack.file_data[file["id"]].startswith(PNG)  # the bytes reached the upload URL
    assert "is not a period" not in await sx.command("report today", "U0SAM")
    assert "`today`, `week` or `month`" in await sx.command("report year", "U0SAM")
    assert "may not see the team's reports" in await sx.command("report", "U0LEE")


async def test_discord_block_in_the_thread_and_report_with_the_chart_attached(
    dbridge: SmsBridge, discord_api: DiscordStandIn, twilio: TwilioStandIn, tmp_path: Path
) -> None:
    await text_in(dbridge, twilio, "Hello, roof leaking")
    thread = await the_thread(discord_api, dbridge)
    await wait_for(lambda: any(m.get("webhook_id") for m in posts(discord_api, thread["id"])))

    limited = await discord_api.command_interaction(thread["id"], LEE, "block")
    await answered(discord_api, limited)
    assert "may not block" in _answer(discord_api, limited)["content"]
    block = await discord_api.command_interaction(thread["id"], DANA, "block")
    await answered(discord_api, block)
    assert _answer(discord_api, block)["content"].startswith(f"Blocked {LEAD}")
    await text_in(dbridge, twilio, "spam spam")
    assert not any("spam spam" in m["content"] for m in posts(discord_api, thread["id"]))

    report = await discord_api.command_interaction(thread["id"], DANA, "report", {"period": "week"})
    await answered(discord_api, report)
    message = _answer(discord_api, report)
    assert message["content"].startswith("*Report · Acme Roofing · week*")
    [chart] = message["attachments"]
    assert chart["filename"] == "report.png"
    assert discord_api.files[chart["id"]][0].startswith(PNG)


def _answer(api: DiscordStandIn, interaction: dict[str, object]) -> dict[str, object]:
    record = api.interactions[interaction["id"]]  # type: ignore[index]
    return record.followups[-1] if record.followups else record.original
