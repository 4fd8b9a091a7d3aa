"""`smsbridge demo`: the main job on its embedded defaults. The real web server and
workers on SQLite in a temp dir; the real twilio and slack_sdk/slack_bolt clients talking
to loopback Twilio and Slack stand-ins, and the real discord.py client to a Discord
stand-in. A scripted lead texts in (signed webhook) and the conversation appears as a
Slack thread and as a Discord forum post; a reply typed in the Slack thread (signed event)
goes out as SMS, notes typed in Slack and Discord stay in, the status callback marks the
reply delivered, an AI draft is requested in Discord (loopback OpenAI stand-in), edited and
sent, STOP opts the lead out and a later reply in the thread is refused. Then the team
turns on an away message: a lead texting at night gets it once; the week's report
follows."""

from __future__ import annotations

import io
import tempfile
import time
from typing import Any

from bot.app import Options, SmsBridge
from bot.config import Settings
from bot.directory_file import parse_directory
from bot.domain.contacts import read_contacts
from bot.services.contacts import import_contacts
from bridges.ai import AiSettings
from bridges.discord import DiscordSettings
from bridges.slack import SlackSettings
from bridges.sms import TwilioSettings
from standins import slack_payloads as sp
from standins.base import free_port, wait_for
from standins.demo_automations import show_automations
from standins.discord import DiscordStandIn
from standins.discord_interactions import answered, custom_ids
from standins.openai import OpenAIStandIn
from standins.slack import SlackStandIn
from standins.twilio import TwilioStandIn

LINE = "+15005550006"
LEAD = "+14155550123"
ACCOUNT_SID = "AC" + "d" * 32
AUTH_TOKEN = "demo-auth-token"
SLACK_BOT_TOKEN = "xoxb-demo"
SLACK_SECRET = "demo-signing-secret"
CHANNEL = "C0SALES"
DISCORD_TOKEN = "discord-demo-token"
GUILD = "1300000000000000001"
FORUM = "1200000000000000001"
DANA_DISCORD = "1100000000000000001"

DEMO_CONFIG = {
    "organizations": {
        "acme": {
            "name": "Acme Roofing",
            "timezone": "America/Chicago",
            "help_text": "Acme Roofing: text us anytime. Reply STOP to opt out.",
        }
    },
    "lines": {
        LINE: {
            "organization": "acme",
            "label": "Sales",
            "slack_channel": CHANNEL,
            "discord_channel": FORUM,
        }
    },
    "members": {
        "dana": {
            "organization": "acme",
            "name": "Dana",
            "role": "admin",
            "slack_user": "U0DANA",
            "discord_user": DANA_DISCORD,
        }
    },
}


class Transcript:
    def __init__(self) -> None:
        self.started = time.monotonic()

    def say(self, who: str, text: str) -> None:
        print(f"[{time.monotonic() - self.started:6.2f}s] {who:<10} {text}", flush=True)


async def run_demo() -> int:
    say = Transcript().say
    with tempfile.TemporaryDirectory(prefix="smsbridge-demo-") as tmp:
        twilio = TwilioStandIn(account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN)
        await twilio.start()
        slack = SlackStandIn(bot_token=SLACK_BOT_TOKEN)
        await slack.start()
        slack.add_channel(CHANNEL, "sales")
        slack.add_user("U0DANA", "dana", real_name="Dana")
        discord_api = DiscordStandIn(token=DISCORD_TOKEN)
        discord_api.add_guild(GUILD, "Acme Roofing")
        discord_api.add_channel(GUILD, FORUM, "sms-leads", 15)
        discord_api.add_member(GUILD, DANA_DISCORD, "dana")
        await discord_api.start()
        openai_api = OpenAIStandIn(api_key="sk-demo")
        openai_api.reply = "Hi! Thanks for the photo. We can come Tuesday at 9 for a free estimate."
        await openai_api.start()
        port = free_port()
        settings = Settings(
            database_url=f"sqlite+aiosqlite:///{tmp}/demo.db",
            public_url=f"http://127.0.0.1:{port}",
            host="127.0.0.1",
            port=port,
            undo_seconds=1.0,
            bridges={
                "twilio": TwilioSettings(ACCOUNT_SID, AUTH_TOKEN, twilio.url),
                "slack": SlackSettings(SLACK_BOT_TOKEN, SLACK_SECRET, api_url=slack.url + "/api/"),
                "discord": DiscordSettings(
                    DISCORD_TOKEN, api_url=discord_api.url, gateway_url=discord_api.gateway_url
                ),
                "openai": AiSettings("sk-demo", openai_api.url + "/v1", timeout=5.0),
            },
            directory=parse_directory(DEMO_CONFIG),
        )
        app = SmsBridge(settings, Options(worker_kwargs={"poll": 0.05}))
        await app.start()
        say("smsbridge", f"listening on {settings.public_url}")
        say(
            "smsbridge",
            f"stand-ins: Twilio {twilio.url}, Slack {slack.url}, Discord {discord_api.url}, "
            f"OpenAI {openai_api.url}",
        )
        webhook = settings.public_url + "/twilio/sms"
        events = settings.public_url + "/slack/events"

        def thread() -> list[dict[str, Any]]:
            cards = [m for m in slack.posts(CHANNEL) if m.get("thread_ts") in (None, m["ts"])]
            return slack.thread(CHANNEL, cards[0]["ts"]) if cards else []

        def marks(ts: str) -> str:
            found = next((m for m in slack.messages[CHANNEL] if m["ts"] == ts), {})
            return " ".join(f":{r['name']}:" for r in found.get("reactions", [])) or "-"

        def tags(thread: dict[str, Any]) -> str:
            names = {t["id"]: t["name"] for t in discord_api.channels[FORUM]["available_tags"]}
            return ", ".join(names[t] for t in thread["applied_tags"]) or "-"

        def discord_lead_posts(thread_id: str) -> list[dict[str, Any]]:
            return [m for m in discord_api.channel_messages(thread_id) if m.get("webhook_id")]

        def discord_marks(thread_id: str, message_id: str) -> str:
            found = discord_api.messages[thread_id].get(message_id, {})
            return " ".join(r["emoji"]["name"] for r in found.get("reactions", [])) or "-"

        async def draft_edit_send(thread_id: str) -> None:
            ask = await discord_api.command_interaction(
                thread_id, DANA_DISCORD, "draft", {"instructions": "offer Tuesday morning"}
            )
            say("dana", "runs /sms draft offer Tuesday morning in the Discord post")
            await answered(discord_api, ask)
            card = discord_api.interactions[ask["id"]].followups[-1]
            draft = card["embeds"][0]
            say("discord", f"  only Dana sees the draft: “{draft['description']}”")
            request = openai_api.calls("/chat/completions")[-1].json
            prompt = " ".join(str(m["content"]) for m in request["messages"])
            say(
                "openai",
                f"  prompt built from our database: {len(request['messages'])} messages, "
                f"history and notes included: {'wants the estimate by Friday' in prompt}",
            )
            edit = next(c for c in custom_ids(card) if c.startswith("smsbridge:draftedit:"))
            click = await discord_api.component_interaction(
                thread_id, DANA_DISCORD, edit, message=card
            )
            modal = (await wait_for(lambda: discord_api.interaction_responses(click["id"])))[0]
            field = modal["data"]["components"][0]["components"][0]
            edited = "Hi! Thanks for the photo. Tuesday at 9 works for a free estimate. - Dana"
            submit = await discord_api.modal_interaction(
                thread_id, DANA_DISCORD, modal["data"]["custom_id"], {field["custom_id"]: edited}
            )
            say("dana", f"  clicks Edit, changes it and sends: “{edited}”")
            await answered(discord_api, submit)
            sent = await wait_for(lambda: twilio.messages[1:])
            say("twilio", f"received the AI-assisted reply: “{sent[0]['body']}”")

        async def type_in_thread(text: str, parent: str) -> dict[str, Any]:
            event = slack.user_message(CHANNEL, "U0DANA", text, thread_ts=parent)
            body = sp.json_body(sp.event_callback(event))
            status, _ = await sp.post_signed(events, body, "application/json", SLACK_SECRET)
            say("dana", f"types in the thread: “{text}” (signed event answered {status})")
            return event

        try:
            assert app.core is not None
            contacts = f"phone,name,company,plan\n{LEAD},Maria Lopez,Lopez Bakery,gold\n"
            imported = await import_contacts(app.core, 1, read_contacts(io.StringIO(contacts)))
            say("dana", f"smsbridge contacts import leads.csv: {imported.describe()}")
            say("lead", f"{LEAD} texts {LINE}: “Hi, can I get a quote for a roof repair?”")
            status, _ = await twilio.send_inbound(
                webhook, from_=LEAD, to=LINE, body="Hi, can I get a quote for a roof repair?"
            )
            say("twilio", f"webhook answered {status} with empty TwiML")
            first = await wait_for(lambda: thread())
            header = slack.posts(CHANNEL)[0]
            say("slack", f"#sales: header card “{header['text']}” (thread {header['ts']})")
            who = header["blocks"][0]["text"]["text"].split("\n")[0].replace("*", "")
            say("slack", f"  the card: {who.replace('`', '')}")
            say("slack", f"  in the thread, as {first[0]['username']}: “{first[0]['text']}”")
            dpost = await wait_for(lambda: _first(discord_api.threads_of(FORUM)))
            lead_post = await wait_for(lambda: _first(discord_lead_posts(dpost["id"])))
            say("discord", f"#sms-leads: forum post “{dpost['name']}”, tagged {tags(dpost)}")
            say(
                "discord",
                f"  in the post, as {lead_post['author']['username']}: “{lead_post['content']}”",
            )

            reply = await type_in_thread("Sure! Can you send a photo of the damage?", header["ts"])
            await wait_for(lambda: marks(reply["ts"]) != "-")
            say(
                "slack",
                f"  the reply is marked {marks(reply['ts'])}: deleting or editing it now stops it",
            )
            note = await type_in_thread("note: wants the estimate by Friday", header["ts"])
            await wait_for(lambda: marks(note["ts"]) != "-")
            say("slack", f"  the note is marked {marks(note['ts'])} and stays in the team")
            dnote = await discord_api.message_create(
                dpost["id"], DANA_DISCORD, "// call after 5pm, they work days"
            )
            say("dana", f"types in the Discord post: “{dnote['content']}”")
            await wait_for(lambda: discord_marks(dpost["id"], dnote["id"]) != "-")
            say("discord", f"  the note is marked {discord_marks(dpost['id'], dnote['id'])}")
            sent = await wait_for(lambda: _first(twilio.messages))
            say("twilio", f"received {sent['sid'][:10]}… to {sent['to']}: “{sent['body']}”")
            await twilio.send_status_callbacks(sent["sid"], ("sent", "delivered"))
            await wait_for(lambda: marks(reply["ts"]) == ":white_check_mark:")
            say("slack", f"  status callbacks: the reply is marked {marks(reply['ts'])}")

            await draft_edit_send(dpost["id"])

            say("lead", "texts: “STOP”")
            await twilio.send_inbound(webhook, from_=LEAD, to=LINE, body="STOP")
            await wait_for(lambda: "Opted out" in str(slack.posts(CHANNEL)[0].get("blocks")))
            say("slack", "  the header card now says: 🚫 Opted out (STOP)")
            await wait_for(lambda: "Opted out" in tags(discord_api.channels[dpost["id"]]))
            say(
                "discord",
                f"  the forum post is now tagged {tags(discord_api.channels[dpost['id']])}",
            )
            await type_in_thread("Just checking in!", header["ts"])
            refusal = await wait_for(lambda: _first(slack.ephemerals))
            say("slack", f"  only Dana sees: “{refusal['text']}”")
            say("slack", "the thread now reads:")
            for post in thread():
                who = post.get("username") or (
                    "dana" if post.get("user") == "U0DANA" else "smsbridge"
                )
                text = post.get("text", "").replace("\n", " ⏎ ")
                say("slack", f"  {who:<14} {text}  {marks(post['ts'])}")
            await wait_for(
                lambda: any(
                    "Opted out" in m["content"] for m in discord_api.channel_messages(dpost["id"])
                )
            )
            say("discord", "the forum post now reads:")
            for message in sorted(
                discord_api.channel_messages(dpost["id"]), key=lambda m: int(m["id"])
            ):
                embed = (message.get("embeds") or [{}])[0]
                text = message["content"] or embed.get("title") or embed.get("description", "")
                text = text.replace("\n", " ⏎ ")
                who = message["author"]["username"]
                say("discord", f"  {who:<14} {text}  {discord_marks(dpost['id'], message['id'])}")
            say(
                "twilio",
                f"{len(twilio.messages)} SMS sent in all; the notes and the late reply stayed in",
            )
            if len(twilio.messages) != 2:
                say("error", "expected exactly two SMS")
                return 1
            if not await show_automations(app, twilio, webhook, LINE, say):
                return 1
        finally:
            await app.stop()
            await slack.stop()
            await discord_api.stop()
            await openai_api.stop()
            await twilio.stop()
    say("demo", "done")
    return 0


async def _first(items: list[Any]) -> Any:
    return items[0] if items else None
