"""The real discord.py client against the Discord stand-in: login, gateway READY and
caches, events, REST sends, forum posts, app commands, webhooks, 429s, reconnect/resume."""

from __future__ import annotations

import asyncio
import io
import time
import warnings
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from standins.discord import DiscordStandIn, point_discord_py_at

with warnings.catch_warnings():  # discord.py imports audioop, deprecated since Python 3.11
    warnings.filterwarnings("ignore", "'audioop' is deprecated", DeprecationWarning)
    import discord
    from discord import app_commands

GUILD, FORUM_ID, TEXT_ID = "1300000000000000001", "1200000000000000001", "1200000000000000002"
DANA = "1100000000000000001"
WAIT = 10.0


class Bot(discord.Client):
    """A minimal bot: records messages and runs `/sms assign` and `/sms close`."""

    def __init__(self, *, message_content: bool = True) -> None:
        intents = discord.Intents.default()
        intents.message_content = message_content
        super().__init__(intents=intents, guild_ready_timeout=0.05)
        self.ready = asyncio.Event()
        self.messages: asyncio.Queue[discord.Message] = asyncio.Queue()
        self.invoked: list[tuple[str, Any]] = []
        self.tree = app_commands.CommandTree(self)
        sms = app_commands.Group(name="sms", description="SMS inbox")

        @sms.command(name="assign", description="Assign the conversation")
        async def assign(interaction: discord.Interaction, member: discord.Member) -> None:
            self.invoked.append(("assign", member))
            await interaction.response.defer(ephemeral=True)
            await interaction.followup.send(f"Assigned to {member.display_name}", ephemeral=True)

        @sms.command(name="close", description="Close the conversation")
        async def close(interaction: discord.Interaction) -> None:
            self.invoked.append(("close", interaction.channel_id))
            await interaction.response.send_message("Closed.")

        self.tree.add_command(sms, guild=discord.Object(int(GUILD)))

    async def on_ready(self) -> None:
        self.ready.set()

    async def on_message(self, message: discord.Message) -> None:
        await self.messages.put(message)

    async def next_message(self) -> discord.Message:
        return await asyncio.wait_for(self.messages.get(), WAIT)


class Card(discord.ui.View):
    """A header card with persistent buttons: close edits the card, note opens a modal."""

    def __init__(self) -> None:
        super().__init__(timeout=None)

    @discord.ui.button(label="Close", custom_id="card:close")
    async def close(self, interaction: discord.Interaction, _: discord.ui.Button) -> None:
        await interaction.response.edit_message(content="Closed", view=None)

    @discord.ui.button(label="Note", custom_id="card:note")
    async def note(self, interaction: discord.Interaction, _: discord.ui.Button) -> None:
        await interaction.response.send_modal(NoteModal())


class NoteModal(discord.ui.Modal, title="Add a note"):
    text: discord.ui.TextInput = discord.ui.TextInput(label="Note", custom_id="note:text")

    def __init__(self) -> None:
        super().__init__(custom_id="note:modal")

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message(f"Noted: {self.text.value}", ephemeral=True)


@pytest.fixture
async def standin() -> AsyncIterator[DiscordStandIn]:
    api = DiscordStandIn()
    api.add_guild(GUILD, "Acme Roofing")
    api.add_channel(GUILD, FORUM_ID, "sms-leads", 15, available_tags=["Open", "Closed"])
    api.add_channel(GUILD, TEXT_ID, "sales")
    api.add_member(GUILD, DANA, "dana")
    await api.start()
    with point_discord_py_at(api.url):
        yield api
    await api.stop()


async def run_bot(api: DiscordStandIn, bot: Bot) -> asyncio.Task[None]:
    task = asyncio.create_task(bot.start(api.token))
    try:
        await asyncio.wait_for(bot.ready.wait(), WAIT)
    except BaseException:
        await bot.close()
        raise
    return task


async def stop_bot(bot: Bot, task: asyncio.Task[None]) -> None:
    await bot.close()
    await asyncio.wait_for(task, WAIT)


@pytest.fixture
async def bot(standin: DiscordStandIn) -> AsyncIterator[Bot]:
    client = Bot()
    task = await run_bot(standin, client)
    yield client
    await stop_bot(client, task)


async def eventually(check: Any, timeout: float = WAIT) -> Any:
    deadline = time.monotonic() + timeout
    while not (value := check()):
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.01)
    return value


def test_point_discord_py_at_patches_and_restores() -> None:
    before = (discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY)
    with point_discord_py_at("http://127.0.0.1:9/api/v10/"):
        assert discord.http.Route.BASE == "http://127.0.0.1:9/api/v10"
        assert str(discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY) == "ws://127.0.0.1:9/gateway"
    assert (discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY) == before


async def test_login_and_ready_cache_the_guild(standin: DiscordStandIn, bot: Bot) -> None:
    assert bot.user is not None and str(bot.user.id) == standin.bot_user_id
    me = standin.calls("/users/@me", "GET")[0]
    assert me.headers["Authorization"] == "Bot test-token"
    assert standin.calls("/oauth2/applications/@me")
    assert standin.gateway_connects[0]["query"] == {
        "v": "10", "encoding": "json", "compress": "zlib-stream"}  # fmt: skip
    assert standin.identifies[0]["intents"] & (1 << 15)  # MESSAGE_CONTENT
    guild = bot.get_guild(int(GUILD))
    assert guild is not None and guild.name == "Acme Roofing" and guild.me is not None
    forum = guild.get_channel(int(FORUM_ID))
    assert isinstance(forum, discord.ForumChannel)
    assert [t.name for t in forum.available_tags] == ["Open", "Closed"]
    assert isinstance(guild.get_channel(int(TEXT_ID)), discord.TextChannel)


async def test_on_message_gets_a_dispatched_message(standin: DiscordStandIn, bot: Bot) -> None:
    sent = await standin.message_create(
        TEXT_ID, DANA, "call me back", attachments=[("roof.jpg", b"\xff\xd8jpeg\r\n", "image/jpeg")]
    )
    message = await bot.next_message()
    assert (message.id, message.content, message.author.id) == (int(sent["id"]), "call me back",
                                                                int(DANA))  # fmt: skip
    assert isinstance(message.author, discord.Member) and message.guild is not None
    assert message.attachments[0].content_type == "image/jpeg"
    assert await message.attachments[0].read() == b"\xff\xd8jpeg\r\n"  # served by the CDN


async def test_content_is_blank_without_the_intent(standin: DiscordStandIn) -> None:
    client = Bot(message_content=False)
    task = await run_bot(standin, client)
    try:
        await standin.message_create(TEXT_ID, DANA, "secret")
        await standin.message_create(TEXT_ID, DANA, f"<@{standin.bot_user_id}> close")
        assert (await client.next_message()).content == ""
        assert (await client.next_message()).content.endswith("close")  # mentions keep it
    finally:
        await stop_bot(client, task)


async def test_channel_send_reaches_the_standin_and_echoes(
    standin: DiscordStandIn, bot: Bot
) -> None:
    channel = bot.get_channel(int(TEXT_ID))
    assert isinstance(channel, discord.TextChannel)
    sent = await channel.send("Hello from the bot", embed=discord.Embed(title="Lead"))
    stored = standin.channel_messages(TEXT_ID)[-1]
    assert stored["id"] == str(sent.id) and stored["content"] == "Hello from the bot"
    assert stored["embeds"][0]["title"] == "Lead"
    assert standin.calls(f"/channels/{TEXT_ID}/messages", "POST")[0].json["content"]
    echo = await bot.next_message()  # Discord tells the bot about its own posts too
    assert echo.id == sent.id and echo.author == bot.user
    await sent.add_reaction("✅")
    assert standin.channel_messages(TEXT_ID)[-1]["reactions"][0]["emoji"]["name"] == "✅"
    with pytest.raises(discord.NotFound) as lost:
        await bot.fetch_channel(1)
    assert lost.value.code == 10003
    standin.restrict(TEXT_ID, 50013)
    with pytest.raises(discord.Forbidden) as denied:
        await channel.send("nope")
    assert denied.value.code == 50013


async def test_forum_post_with_tags_then_edit_and_file(standin: DiscordStandIn, bot: Bot) -> None:
    forum = bot.get_channel(int(FORUM_ID))
    assert isinstance(forum, discord.ForumChannel)
    open_tag, closed_tag = forum.available_tags
    thread, first = await forum.create_thread(
        name="Lead +1 415 555 0100", content="New lead", applied_tags=[open_tag]
    )
    body = standin.calls(f"/channels/{FORUM_ID}/threads", "POST")[0].json
    assert body["message"]["content"] == "New lead" and body["applied_tags"] == [str(open_tag.id)]
    assert thread.parent_id == forum.id and first.id == thread.id
    stored = standin.threads_of(FORUM_ID)[0]
    assert stored["applied_tags"] == [str(open_tag.id)] and stored["type"] == 11
    assert standin.channel_messages(str(thread.id))[0]["content"] == "New lead"

    await thread.edit(applied_tags=[closed_tag], archived=True)
    assert stored["applied_tags"] == [str(closed_tag.id)] and stored["thread_metadata"]["archived"]
    await thread.send("photo", file=discord.File(io.BytesIO(b"\x89PNG"), "lead.png"))
    assert not stored["thread_metadata"]["archived"]  # a post reopens the thread
    attachment = standin.channel_messages(str(thread.id))[-1]["attachments"][0]
    assert (attachment["filename"], attachment["content_type"]) == ("lead.png", "image/png")

    hook = await forum.create_webhook(name="smsbridge")
    by_lead = await hook.send("Is it done?", username="Lead +1 415", avatar_url="https://a/b.png",
                              thread=thread, wait=True)  # fmt: skip
    assert by_lead.author.name == "Lead +1 415" and by_lead.channel.id == thread.id
    assert standin.webhook_executions[-1]["avatar_url"] == "https://a/b.png"
    assert standin.webhook_executions[-1]["thread_id"] == str(thread.id)


async def test_slash_command_defer_and_followup(standin: DiscordStandIn, bot: Bot) -> None:
    await bot.tree.sync(guild=discord.Object(int(GUILD)))
    [registered] = standin.commands[GUILD]
    assert registered["name"] == "sms" and registered["options"][0]["type"] == 1
    payload = await standin.command_interaction(TEXT_ID, DANA, "assign", {"member": DANA})
    record = standin.interactions[payload["id"]]
    await eventually(lambda: record.followups)
    assert standin.interaction_responses(payload["id"]) == [{"type": 5, "data": {"flags": 64}}]
    assert record.followups[0]["content"] == "Assigned to dana"
    assert record.followups[0]["flags"] & 64
    name, member = bot.invoked[0]
    assert name == "assign" and isinstance(member, discord.Member) and member.id == int(DANA)

    closed = await standin.command_interaction(TEXT_ID, DANA, "close")
    await eventually(lambda: standin.interactions[closed["id"]].original)
    assert standin.channel_messages(TEXT_ID)[-1]["content"] == "Closed."


async def test_buttons_update_the_card_and_open_a_modal(standin: DiscordStandIn, bot: Bot) -> None:
    bot.add_view(Card())
    channel = bot.get_channel(int(TEXT_ID))
    assert isinstance(channel, discord.TextChannel)
    card = await channel.send("Lead card", view=Card())
    stored = standin.channel_messages(TEXT_ID)[-1]
    assert stored["components"][0]["components"][0]["custom_id"] == "card:close"
    click = await standin.component_interaction(TEXT_ID, DANA, "card:note", message_id=str(card.id))
    await eventually(lambda: standin.interaction_responses(click["id"]))
    [modal] = standin.interaction_responses(click["id"])
    assert modal["type"] == 9 and modal["data"]["custom_id"] == "note:modal"
    submit = await standin.modal_interaction(TEXT_ID, DANA, "note:modal", {"note:text": "Tue"})
    await eventually(lambda: standin.interactions[submit["id"]].original)
    original = standin.interactions[submit["id"]].original
    assert original is not None and original["content"] == "Noted: Tue" and original["flags"] & 64
    assert standin.channel_messages(TEXT_ID)[-1]["id"] == str(card.id)  # ephemeral: not stored
    close = await standin.component_interaction(
        TEXT_ID, DANA, "card:close", message_id=str(card.id)
    )
    await eventually(lambda: standin.interaction_responses(close["id"]))
    assert standin.interaction_responses(close["id"])[0]["type"] == 7
    assert (stored["content"], stored["components"]) == ("Closed", [])


async def test_interaction_answered_twice_or_late_is_refused(
    standin: DiscordStandIn, bot: Bot
) -> None:
    message = await standin.message_create(TEXT_ID, standin.bot_user_id, "card")
    await bot.next_message()

    async def answer(payload: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        url = f"{standin.api_url}/interactions/{payload['id']}/{payload['token']}/callback"
        async with aiohttp.ClientSession() as session:
            async with session.post(url, json={"type": 6}) as resp:
                assert resp.status == 204 or resp.headers["Content-Type"] == "application/json"
                return resp.status, (await resp.json() if resp.status != 204 else {})

    click = await standin.component_interaction(TEXT_ID, DANA, "close", message_id=message["id"])
    assert (await answer(click))[0] == 204
    assert await answer(click) == (400, {"message": "Interaction has already been acknowledged.",
                                         "code": 40060})  # fmt: skip
    standin.interaction_timeout = 0.05
    late = await standin.component_interaction(TEXT_ID, DANA, "close", message_id=message["id"])
    await asyncio.sleep(0.1)
    assert await answer(late) == (404, {"message": "Unknown interaction", "code": 10062})


async def test_429_is_retried_after_retry_after(standin: DiscordStandIn, bot: Bot) -> None:
    channel = bot.get_channel(int(TEXT_ID))
    assert isinstance(channel, discord.TextChannel)
    standin.fail_next(429, retry_after=0.3, path_contains="/messages")
    started = time.monotonic()
    await channel.send("after the limit")
    assert time.monotonic() - started >= 0.3
    assert len(standin.calls(f"/channels/{TEXT_ID}/messages", "POST")) == 2
    assert standin.channel_messages(TEXT_ID)[-1]["content"] == "after the limit"

    standin.fail_next(429, retry_after=0.5)
    async with aiohttp.ClientSession() as session:
        async with session.get(standin.api_url + "/users/@me") as resp:
            assert resp.status == 429 and resp.headers["Content-Type"] == "application/json"
            assert resp.headers["Retry-After"] == "1"
            assert resp.headers["X-RateLimit-Scope"] == "user"
            assert resp.headers["X-RateLimit-Remaining"] == "0"
            assert await resp.json() == {"message": "You are being rate limited.",
                                         "retry_after": 0.5, "global": False}  # fmt: skip


async def test_rest_errors_and_nonces_answer_like_discord(standin: DiscordStandIn) -> None:
    auth = {"Authorization": f"Bot {standin.token}"}
    post = f"{standin.api_url}/channels/{{}}/messages"
    cases = [  # (headers, url, body) -> (status, code)
        ({}, standin.api_url + "/users/@me", None, 401, 0),
        (auth, post.format(TEXT_ID), {"content": ""}, 400, 50006),
        (auth, post.format(TEXT_ID), {"content": "x" * 2001}, 400, 50035),
        (auth, post.format(FORUM_ID), {"content": "in a forum"}, 400, 50008),
        (auth, post.format("1"), {"content": "lost"}, 404, 10003),
        (auth, standin.api_url + "/nowhere", None, 404, 0),
    ]
    async with aiohttp.ClientSession() as session:
        for headers, url, body, status, code in cases:
            method = session.post if body is not None else session.get
            async with method(url, json=body, headers=headers) as resp:
                assert resp.headers["Content-Type"] == "application/json"
                assert (resp.status, (await resp.json())["code"]) == (status, code), url
        once = {"content": "once", "nonce": "42", "enforce_nonce": True}
        ids = []
        for _ in range(2):
            async with session.post(post.format(TEXT_ID), json=once, headers=auth) as resp:
                ids.append((await resp.json())["id"])
    assert ids[0] == ids[1] and len(standin.channel_messages(TEXT_ID)) == 1


@pytest.mark.parametrize("close_code", [None, 4000])
async def test_reconnect_resumes_and_replays(
    standin: DiscordStandIn, bot: Bot, close_code: int | None
) -> None:
    await standin.reconnect(close_code=close_code)
    missed = await standin.message_create(TEXT_ID, DANA, "sent while you were away")
    await standin.wait_connected(WAIT)
    assert (await bot.next_message()).id == int(missed["id"])  # replayed after RESUME
    assert standin.resumes == 1 and standin.gateway_connects[-1]["path"] == "/gateway-resume"
    await standin.message_create(TEXT_ID, DANA, "and after")
    assert (await bot.next_message()).content == "and after"


async def test_wrong_token_fails_login(standin: DiscordStandIn) -> None:
    client = discord.Client(intents=discord.Intents.default())
    try:
        with pytest.raises(discord.LoginFailure):
            await client.login("not-the-token")
    finally:
        await client.close()
