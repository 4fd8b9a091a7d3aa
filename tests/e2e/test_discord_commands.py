"""`/sms` app commands and the header's persistent components, through the real
discord.py client and the Discord stand-in's interactions (3 s to acknowledge)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from bot.app import SmsBridge
from bot.domain.commands import HELP_TEXT, SETTINGS
from bridges.ai import AiSettings
from standins.discord import DiscordStandIn
from standins.discord_interactions import answered, custom_ids
from standins.openai import DEFAULT_API_KEY, OpenAIStandIn
from standins.twilio import TwilioStandIn
from tests.conftest import wait_for
from tests.discord_fixtures import (  # noqa: F401  (fixtures)
    DANA,
    FORUM,
    GUILD,
    LEE,
    OTHER_CHANNEL,
    OUTSIDER,
    SAM,
    dbridge_fixture,
    discord_api_fixture,
    discord_settings,
    header_field,
    posts,
    start_bridge,
    tag_names,
    text_in,
    the_thread,
)

EPHEMERAL = 1 << 6
MESSAGE_CONTENT = 1 << 15
MANIFEST = Path(__file__).resolve().parents[2] / "manifests" / "discord.json"


def test_discord_offers_every_setting_the_core_knows() -> None:
    (sms,) = json.loads(MANIFEST.read_text())
    settings = next(o for o in sms["options"] if o["name"] == "settings")
    (name,) = [o for o in settings["options"] if o["name"] == "name"]
    assert tuple(c["value"] for c in name["choices"]) == SETTINGS


async def opened(bridge: SmsBridge, api: DiscordStandIn, twilio: TwilioStandIn) -> dict[str, Any]:
    await text_in(bridge, twilio, "Hello, roof leaking")
    thread = await the_thread(api, bridge)
    await wait_for(lambda: any(m.get("webhook_id") for m in posts(api, thread["id"])))
    return thread


def header(api: DiscordStandIn, thread: dict[str, Any]) -> dict[str, Any]:
    return api.messages[thread["id"]][thread["id"]]


def followup_text(api: DiscordStandIn, interaction: dict[str, Any]) -> str:
    record = api.interactions[interaction["id"]]
    return record.followups[-1]["content"] if record.followups else record.original["content"]


async def test_close_in_the_thread_defers_then_follows_up_and_updates_header_and_tags(
    dbridge: SmsBridge, discord_api: DiscordStandIn, twilio: TwilioStandIn
) -> None:
    # At start the bot synced exactly the manifest's commands to the routed guild, and
    # asked for message content (privileged) so thread replies are readable.
    synced = discord_api.calls(f"/guilds/{GUILD}/commands", "PUT")
    assert synced[-1].json == json.loads(MANIFEST.read_text())
    assert discord_api.identifies[-1]["intents"] & MESSAGE_CONTENT
    thread = await opened(dbridge, discord_api, twilio)
    interaction = await discord_api.command_interaction(thread["id"], DANA, "close")
    callbacks = await answered(discord_api, interaction)
    assert callbacks[0]["type"] == 5 and callbacks[0]["data"]["flags"] & EPHEMERAL
    assert followup_text(discord_api, interaction) == "Conversation closed."
    await wait_for(lambda: header_field(header(discord_api, thread), "Status") == "Closed")
    await wait_for(lambda: tag_names(discord_api, thread) == {"Closed"})
    assert any(c.startswith("smsbridge:reopen:") for c in custom_ids(header(discord_api, thread)))
    # The event is in the thread for everyone.
    await wait_for(
        lambda: any(
            "closed this conversation" in m["content"] for m in posts(discord_api, thread["id"])
        )
    )


async def test_header_buttons_keep_working_after_a_restart(
    tmp_path: Path, discord_api: DiscordStandIn, twilio: TwilioStandIn
) -> None:
    settings = discord_settings(tmp_path, discord_api, twilio)
    app = await start_bridge(settings)
    try:
        thread = await opened(app, discord_api, twilio)
    finally:
        await app.stop()
    app = await start_bridge(settings)
    try:
        close = next(c for c in custom_ids(header(discord_api, thread)) if ":close:" in c)
        click = await discord_api.component_interaction(
            thread["id"], SAM, close, message_id=thread["id"]
        )
        await answered(discord_api, click)
        assert followup_text(discord_api, click) == "Conversation closed."
        await wait_for(lambda: tag_names(discord_api, thread) == {"Closed"})
        reopen = next(c for c in custom_ids(header(discord_api, thread)) if ":reopen:" in c)
        click = await discord_api.component_interaction(
            thread["id"], SAM, reopen, message_id=thread["id"]
        )
        await answered(discord_api, click)
        await wait_for(lambda: "Closed" not in tag_names(discord_api, thread))
    finally:
        await app.stop()


async def test_assign_picker_assigns_and_mentions_the_assignee(
    dbridge: SmsBridge, discord_api: DiscordStandIn, twilio: TwilioStandIn
) -> None:
    thread = await opened(dbridge, discord_api, twilio)
    picker = next(c for c in custom_ids(header(discord_api, thread)) if ":assign:" in c)
    pick = await discord_api.component_interaction(
        thread["id"], DANA, picker, message_id=thread["id"], component_type=5, values=[SAM]
    )
    await answered(discord_api, pick)
    assert followup_text(discord_api, pick) == "Assigned to Sam."
    mention = await wait_for(
        lambda: [m for m in posts(discord_api, thread["id"]) if f"<@{SAM}>" in m["content"]]
    )
    assert "assigned this conversation to Sam" in mention[0]["content"]
    await wait_for(lambda: "Assigned" in tag_names(discord_api, thread))
    assert f"<@{SAM}>" in header_field(header(discord_api, thread), "Assignee")
    # The slash command takes a member picker too.
    again = await discord_api.command_interaction(thread["id"], DANA, "assign", {"member": DANA})
    await answered(discord_api, again)
    assert followup_text(discord_api, again) == "Assigned to Dana."


async def test_help_is_answered_whole_though_it_is_longer_than_one_discord_message(
    dbridge: SmsBridge, discord_api: DiscordStandIn, twilio: TwilioStandIn
) -> None:
    thread = await opened(dbridge, discord_api, twilio)
    asked = await discord_api.command_interaction(thread["id"], DANA, "help")
    record = discord_api.interactions[asked["id"]]
    assert len(HELP_TEXT) > 2000  # what made it lose its last lines
    await wait_for(lambda: "note:" in "".join(f["content"] for f in record.followups))
    parts = [f["content"] for f in record.followups]
    assert len(parts) >= 2 and all(len(p) <= 2000 for p in parts)
    assert all(f["flags"] & EPHEMERAL for f in record.followups)  # only the asker sees it
    assert "\n".join(parts) == HELP_TEXT


async def test_limited_member_and_outsider_are_refused(
    dbridge: SmsBridge, discord_api: DiscordStandIn, twilio: TwilioStandIn
) -> None:
    thread = await opened(dbridge, discord_api, twilio)
    limited = await discord_api.command_interaction(thread["id"], LEE, "close")
    await answered(discord_api, limited)
    assert "assigned to you" in followup_text(discord_api, limited)
    outsider = await discord_api.command_interaction(thread["id"], OUTSIDER, "optout")
    await answered(discord_api, outsider)
    assert "not a member" in followup_text(discord_api, outsider)
    said = await discord_api.message_create(thread["id"], OUTSIDER, "Hi, I can help!")
    refusal = await wait_for(
        lambda: [m for m in posts(discord_api, thread["id"]) if m.get("message_reference")]
    )
    assert str(refusal[0]["message_reference"]["message_id"]) == said["id"]
    assert f"<@{OUTSIDER}>" in refusal[0]["content"] and "not a member" in refusal[0]["content"]
    mine = discord_api.messages[thread["id"]][said["id"]]  # marked: it never went out
    assert {r["emoji"]["name"] for r in mine.get("reactions", []) if r["me"]} == {"🚫"}
    assert twilio.messages == []


async def test_commands_outside_threads_and_unrouted_channels(
    dbridge: SmsBridge, discord_api: DiscordStandIn, twilio: TwilioStandIn
) -> None:
    await opened(dbridge, discord_api, twilio)
    inbox = await discord_api.command_interaction(FORUM, SAM, "inbox", {"show": "unread"})
    await answered(discord_api, inbox)
    listing = discord_api.interactions[inbox["id"]].followups[-1]
    assert listing["content"] == "1 unread conversation(s)."
    assert "*Hello, roof leaking* · <t:" in listing["embeds"][0]["description"]  # last text
    assert "<#" in listing["embeds"][0]["description"]
    new = await discord_api.command_interaction(
        FORUM, DANA, "new", {"phone": "+1 415 555 0199", "text": "Hi from Acme"}
    )
    await answered(discord_api, new)
    await wait_for(lambda: twilio.messages)
    assert twilio.messages[0]["to"] == "+14155550199"
    elsewhere = await discord_api.command_interaction(OTHER_CHANNEL, DANA, "inbox")
    await answered(discord_api, elsewhere)
    assert "not connected" in followup_text(discord_api, elsewhere)


async def test_snippet_card_sends_on_click_and_discard_sends_nothing(
    dbridge: SmsBridge, discord_api: DiscordStandIn, twilio: TwilioStandIn
) -> None:
    thread = await opened(dbridge, discord_api, twilio)
    add = await discord_api.command_interaction(
        thread["id"], DANA, "snippet", {"action": "add", "name": "hours", "text": "We open at 8."}
    )
    await answered(discord_api, add)
    for click in ("draftdiscard", "draftsend"):
        show = await discord_api.command_interaction(
            thread["id"], DANA, "snippet", {"name": "hours"}
        )
        await answered(discord_api, show)
        card = discord_api.interactions[show["id"]].followups[-1]
        assert card["flags"] & EPHEMERAL and card["embeds"][0]["description"] == "We open at 8."
        button = next(c for c in custom_ids(card) if c.startswith(f"smsbridge:{click}:"))
        press = await discord_api.component_interaction(thread["id"], DANA, button, message=card)
        await answered(discord_api, press)
    await wait_for(lambda: twilio.messages)
    assert [m["body"] for m in twilio.messages] == ["We open at 8."]


async def click_edit(
    api: DiscordStandIn, thread: dict[str, Any], card: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Sam clicks Edit under a draft card: the modal, and its text field."""
    edit = next(c for c in custom_ids(card) if c.startswith("smsbridge:draftedit:"))
    click = await api.component_interaction(thread["id"], SAM, edit, message=card)
    modal = (await wait_for(lambda: api.interaction_responses(click["id"])))[0]
    assert modal["type"] == 9  # the modal, as the first (and only) answer
    return modal, modal["data"]["components"][0]["components"][0]


async def test_draft_modal_open_across_a_restart_still_sends(
    tmp_path: Path, discord_api: DiscordStandIn, twilio: TwilioStandIn
) -> None:
    settings = discord_settings(tmp_path, discord_api, twilio)
    app = await start_bridge(settings)
    try:
        thread = await opened(app, discord_api, twilio)
        add = await discord_api.command_interaction(
            thread["id"], SAM, "snippet", {"action": "add", "name": "hours", "text": "9 to 5"}
        )
        await answered(discord_api, add)
        ask = await discord_api.command_interaction(thread["id"], SAM, "snippet", {"name": "hours"})
        await answered(discord_api, ask)
        card = discord_api.interactions[ask["id"]].followups[-1]
        modal, field = await click_edit(discord_api, thread, card)
        await app.stop()  # a deploy while Sam is typing
        app = await start_bridge(settings)
        submit = await discord_api.modal_interaction(
            thread["id"], SAM, modal["data"]["custom_id"], {field["custom_id"]: "We open 9 to 5."}
        )
        await answered(discord_api, submit)
        await wait_for(lambda: twilio.messages)
        assert [m["body"] for m in twilio.messages] == ["We open 9 to 5."]
    finally:
        await app.stop()


async def test_ai_draft_is_edited_in_a_modal_then_sent_as_ai_assisted(
    tmp_path: Path, discord_api: DiscordStandIn, twilio: TwilioStandIn
) -> None:
    async with OpenAIStandIn(reply="Hi! We can come Tuesday at 9.") as ai:
        settings = discord_settings(
            tmp_path,
            discord_api,
            twilio,
            openai=AiSettings(DEFAULT_API_KEY, ai.url + "/v1", "gpt-4o-mini", timeout=2.0),
        )
        app = await start_bridge(settings)
        try:
            thread = await opened(app, discord_api, twilio)
            ask = await discord_api.command_interaction(
                thread["id"], SAM, "draft", {"instructions": "offer Tuesday"}
            )
            await answered(discord_api, ask)
            card = discord_api.interactions[ask["id"]].followups[-1]
            assert card["flags"] & EPHEMERAL
            assert card["embeds"][0]["description"] == "Hi! We can come Tuesday at 9."
            modal, field = await click_edit(discord_api, thread, card)
            assert field["value"] == "Hi! We can come Tuesday at 9."
            submit = await discord_api.modal_interaction(
                thread["id"],
                SAM,
                modal["data"]["custom_id"],
                {field["custom_id"]: "Hi! Tuesday at 9 works. - Sam"},
            )
            await answered(discord_api, submit)
            await wait_for(lambda: twilio.messages)
            assert twilio.messages[0]["body"] == "Hi! Tuesday at 9 works. - Sam"
            mirrored = await wait_for(
                lambda: [
                    m for m in posts(discord_api, thread["id"]) if "AI-assisted" in m["content"]
                ]
            )
            assert "sent as SMS" in mirrored[0]["content"]
            assert len(twilio.messages) == 1  # the modal's submit is handled once
        finally:
            await app.stop()


async def test_retry_button_under_a_failed_sms_sends_it_once_more(
    dbridge: SmsBridge, discord_api: DiscordStandIn, twilio: TwilioStandIn
) -> None:
    thread = await opened(dbridge, discord_api, twilio)
    await discord_api.message_create(thread["id"], DANA, "Can we call you?")
    await wait_for(lambda: twilio.messages)
    await twilio.send_status_callbacks(
        twilio.messages[0]["sid"], ("undelivered",), error_code="30003"
    )
    notice = await wait_for(
        lambda: [m for m in posts(discord_api, thread["id"]) if "not delivered" in m["content"]]
    )
    assert "unreachable" in notice[0]["content"]
    assert notice[0]["content"].startswith(f"<@{DANA}> ")  # her phone buzzes
    shown = copy.deepcopy(notice[0])  # as a second, quick click still sees it
    retry = next(c for c in custom_ids(shown) if c.startswith("smsbridge:retry:"))
    click = await discord_api.component_interaction(thread["id"], DANA, retry, message=shown)
    await answered(discord_api, click)
    await wait_for(lambda: len(twilio.messages) == 2)
    assert twilio.messages[1]["body"] == "Can we call you?"
    await wait_for(lambda: not custom_ids(discord_api.messages[thread["id"]][notice[0]["id"]]))
    again = await discord_api.component_interaction(thread["id"], DANA, retry, message=shown)
    await answered(discord_api, again)
    assert "Already" in followup_text(discord_api, again)
    assert len(twilio.messages) == 2


async def test_replayed_interaction_runs_once_and_note_and_tag_options_arrive(
    dbridge: SmsBridge, discord_api: DiscordStandIn, twilio: TwilioStandIn
) -> None:
    thread = await opened(dbridge, discord_api, twilio)
    new = await discord_api.command_interaction(
        FORUM, DANA, "new", {"phone": "+14155550199", "text": "Hi from Acme"}
    )
    await answered(discord_api, new)
    await wait_for(lambda: twilio.messages)
    # The same INTERACTION_CREATE again (a gateway replay): Discord refuses a second
    # acknowledgement, so the command does not run again.
    await discord_api.dispatch("INTERACTION_CREATE", new)
    await wait_for(lambda: len(discord_api.calls(f"/interactions/{new['id']}/", "POST")) == 2)
    note = await discord_api.command_interaction(
        thread["id"], SAM, "note", {"text": "Prefers texts after 5pm"}
    )
    await answered(discord_api, note)
    tag = await discord_api.command_interaction(
        thread["id"], SAM, "tag", {"action": "add", "name": "Hot-Lead"}
    )
    await answered(discord_api, tag)
    assert followup_text(discord_api, tag) == "Tags: hot-lead"
    await wait_for(lambda: header_field(header(discord_api, thread), "Tags") == "hot-lead")
    await wait_for(
        lambda: any(
            "Prefers texts after 5pm" in m["content"] for m in posts(discord_api, thread["id"])
        )
    )
    assert len(twilio.messages) == 1


async def test_a_button_or_form_nothing_reads_is_answered_out_of_date_and_changes_nothing(
    dbridge: SmsBridge, discord_api: DiscordStandIn, twilio: TwilioStandIn
) -> None:
    thread = await opened(dbridge, discord_api, twilio)
    tags = tag_names(discord_api, thread)
    for stale in ("smsbridge:close:abc", "smsbridge:archive:1", "someone-elses-button"):
        click = await discord_api.component_interaction(
            thread["id"], SAM, stale, message_id=thread["id"]
        )
        await answered(discord_api, click)
        answer = followup_text(discord_api, click)
        assert answer.startswith("⛔ This button is out of date; nothing was done."), answer
    form = await discord_api.modal_interaction(
        thread["id"], SAM, "smsbridge:oldmodal:1", {"smsbridge:text": "hi"}
    )
    await answered(discord_api, form)
    assert "This form is out of date" in followup_text(discord_api, form)
    assert tag_names(discord_api, thread) == tags  # still open, unanswered
    assert twilio.messages == []
