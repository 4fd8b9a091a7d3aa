"""The Slack stand-in against the real slack_sdk / slack_bolt clients."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs

import aiohttp
import pytest
from aiohttp import web
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.signature import SignatureVerifier
from slack_sdk.socket_mode.aiohttp import SocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse
from slack_sdk.web.async_client import AsyncWebClient

from standins import slack_interactivity as si
from standins import slack_payloads as sp
from standins.slack import SlackStandIn

BOT = "xoxb-test"
SECRET = "8f742231b10e8888abcd99yyyzzz85a5"


@pytest.fixture
async def slack() -> AsyncIterator[SlackStandIn]:
    async with SlackStandIn() as standin:
        standin.add_channel("C0SALES", "sales")
        standin.add_user("U0DANA", "dana", real_name="Dana Scully", display_name="dana")
        yield standin


def web_client(slack: SlackStandIn, token: str | None = BOT, **kwargs: Any) -> AsyncWebClient:
    return AsyncWebClient(token=token, base_url=slack.url + "/api/", **kwargs)


async def test_auth_test_and_token_errors(slack: SlackStandIn) -> None:
    resp = await web_client(slack).auth_test()
    assert resp["ok"] and resp["user_id"] == "U0BOT" and resp["bot_id"] == "B0BOT"
    assert resp["team_id"] == "T0TEST" and resp["url"].startswith("https://")
    for token, error in (("xoxb-wrong", "invalid_auth"), (None, "not_authed")):
        with pytest.raises(SlackApiError) as e:
            await web_client(slack, token).auth_test()
        assert e.value.response.status_code == 200
        assert e.value.response["error"] == error
    with pytest.raises(SlackApiError) as e:
        await web_client(slack).api_call("no.such.method")
    assert e.value.response.status_code == 200
    assert e.value.response["error"] == "unknown_method"


async def test_post_in_thread_and_read_back(slack: SlackStandIn) -> None:
    client = web_client(slack)
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "*Lead* +1 555"}}]
    header = await client.chat_postMessage(channel="C0SALES", text="Lead", blocks=blocks)
    assert header["channel"] == "C0SALES" and header["message"]["bot_id"] == "B0BOT"
    assert header["message"]["blocks"] == blocks
    metadata = {"event_type": "sms", "event_payload": {"message_id": 7}}
    reply = await client.chat_postMessage(
        channel="C0SALES",
        thread_ts=header["ts"],
        text="hi",
        metadata=metadata,
        username="Dana",
        icon_emoji=":iphone:",
        unfurl_links=False,
    )
    assert reply["message"]["thread_ts"] == header["ts"]
    assert reply["message"]["username"] == "Dana" and reply["message"]["metadata"] == metadata
    assert float(reply["ts"]) > float(header["ts"])
    assert [m["text"] for m in slack.thread("C0SALES", header["ts"])] == ["hi"]
    assert [m["ts"] for m in slack.posts("C0SALES")] == [header["ts"], reply["ts"]]

    # form-encoded requests (JSON fields as strings) work too
    form = await client.api_call(
        "chat.postMessage",
        data={"channel": "C0SALES", "thread_ts": header["ts"], "blocks": json.dumps(blocks)},
    )
    assert form["message"]["blocks"] == blocks

    replies = await client.conversations_replies(channel="C0SALES", ts=header["ts"])
    assert [m["ts"] for m in replies["messages"]] == [header["ts"], reply["ts"], form["ts"]]
    assert replies["messages"][0]["reply_count"] == 2
    history = await client.conversations_history(channel="C0SALES")
    assert [m["ts"] for m in history["messages"]] == [header["ts"]]
    info = await client.conversations_info(channel="C0SALES")
    assert info["channel"]["name"] == "sales" and info["channel"]["is_member"]
    user = await client.users_info(user="U0DANA")
    assert user["user"]["profile"]["display_name"] == "dana" and user["user"]["tz"]


async def test_errors_channel_thread_message(slack: SlackStandIn) -> None:
    client = web_client(slack)

    async def error(call: Any) -> str:
        with pytest.raises(SlackApiError) as e:
            await call
        return e.value.response["error"]

    assert await error(client.chat_postMessage(channel="C0NOPE", text="x")) == "channel_not_found"
    post = client.chat_postMessage(channel="C0SALES", thread_ts="1.000001", text="x")
    assert await error(post) == "thread_not_found"
    no_text = client.api_call("chat.postMessage", json={"channel": "C0SALES"})
    assert await error(no_text) == "no_text"
    bad = client.chat_postMessage(channel="C0SALES", text="x", blocks=[{"text": "no type"}])
    assert await error(bad) == "invalid_blocks"
    upd = client.chat_update(channel="C0SALES", ts="1.000001", text="x")
    assert await error(upd) == "message_not_found"

    # a person deletes our header: the thread is gone; with a tombstone it lives on
    header = await client.chat_postMessage(channel="C0SALES", text="header")
    await client.chat_postMessage(channel="C0SALES", thread_ts=header["ts"], text="r1")
    event = slack.delete_message("C0SALES", header["ts"], tombstone=True)
    assert event["subtype"] == "message_deleted" and event["deleted_ts"] == header["ts"]
    await client.chat_postMessage(channel="C0SALES", thread_ts=header["ts"], text="r2")
    slack.delete_message("C0SALES", header["ts"])
    post = client.chat_postMessage(channel="C0SALES", thread_ts=header["ts"], text="r3")
    assert await error(post) == "thread_not_found"
    assert slack.thread("C0SALES", header["ts"]) == []


async def test_update_delete_reactions_ephemeral_permalink(slack: SlackStandIn) -> None:
    client = web_client(slack)
    posted = await client.chat_postMessage(channel="C0SALES", text="draft")
    updated = await client.chat_update(channel="C0SALES", ts=posted["ts"], text="final")
    assert updated["ts"] == posted["ts"] and updated["message"]["text"] == "final"
    assert slack.posts()[0]["edited"]["user"] == "U0BOT"

    theirs = slack.user_message("C0SALES", "U0DANA", "from a person")
    with pytest.raises(SlackApiError) as e:
        await client.chat_update(channel="C0SALES", ts=theirs["ts"], text="x")
    assert e.value.response["error"] == "cant_update_message"

    await client.reactions_add(channel="C0SALES", timestamp=theirs["ts"], name="white_check_mark")
    with pytest.raises(SlackApiError) as e:
        await client.reactions_add(
            channel="C0SALES", timestamp=theirs["ts"], name="white_check_mark"
        )
    assert e.value.response["error"] == "already_reacted"
    stored = slack.messages["C0SALES"][-1]
    assert stored["reactions"] == [{"name": "white_check_mark", "users": ["U0BOT"], "count": 1}]
    await client.reactions_remove(
        channel="C0SALES", timestamp=theirs["ts"], name="white_check_mark"
    )
    with pytest.raises(SlackApiError) as e:
        await client.reactions_remove(channel="C0SALES", timestamp=theirs["ts"], name="x")
    assert e.value.response["error"] == "no_reaction"

    eph = await client.chat_postEphemeral(channel="C0SALES", user="U0DANA", text="only you")
    assert slack.ephemerals[-1]["user"] == "U0DANA"
    assert slack.ephemerals[-1]["message_ts"] == eph["message_ts"]
    link = await client.chat_getPermalink(channel="C0SALES", message_ts=posted["ts"])
    assert link["permalink"].endswith("/archives/C0SALES/p" + posted["ts"].replace(".", ""))

    deleted = await client.chat_delete(channel="C0SALES", ts=posted["ts"])
    assert deleted["ts"] == posted["ts"] and slack.posts() == []


async def test_views(slack: SlackStandIn) -> None:
    client = web_client(slack)
    modal = {
        "type": "modal",
        "callback_id": "assign",
        "title": {"type": "plain_text", "text": "A"},
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "x"}}],
    }
    opened = await client.views_open(trigger_id="1.2.abc", view=modal)
    assert opened["view"]["callback_id"] == "assign" and opened["view"]["id"].startswith("V")
    updated = await client.views_update(view_id=opened["view"]["id"], view={**modal, "blocks": []})
    assert updated["view"]["blocks"] == []
    home = await client.views_publish(user_id="U0DANA", view={"type": "home", "blocks": []})
    assert slack.home_views["U0DANA"]["id"] == home["view"]["id"]


async def test_files_upload_v2_and_private_urls(slack: SlackStandIn) -> None:
    client = web_client(slack)
    header = await client.chat_postMessage(channel="C0SALES", text="header")
    data = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 10
    up = await client.files_upload_v2(
        channel="C0SALES",
        thread_ts=header["ts"],
        content=data,
        filename="photo.png",
        title="MMS photo",
        initial_comment="from the lead",
    )
    file = up["file"]
    assert file["title"] == "MMS photo" and file["size"] == len(data)
    [share] = slack.thread("C0SALES", header["ts"])
    assert share["files"][0]["id"] == file["id"] and share["text"] == "from the lead"
    info = await client.files_info(file=file["id"])
    assert info["file"]["shares"]["public"]["C0SALES"][0]["thread_ts"] == header["ts"]

    async with aiohttp.ClientSession() as http:
        auth = {"Authorization": f"Bearer {BOT}"}
        async with http.get(file["url_private"], headers=auth) as resp:
            assert resp.status == 200 and await resp.read() == data
        async with http.get(file["url_private_download"]) as resp:
            assert resp.status == 401
    # a file a person shared: our app fetches it with the bot token
    photo = slack.add_file(b"jpegbytes", "IMG_1.jpg", user="U0DANA", mimetype="image/jpeg")
    event = slack.user_message("C0SALES", "U0DANA", "", thread_ts=header["ts"], files=[photo])
    assert event["subtype"] == "file_share" and event["files"][0]["filetype"] == "jpg"
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {BOT}"}) as http:
        async with http.get(photo["url_private"]) as resp:
            assert await resp.read() == b"jpegbytes" and resp.content_type == "image/jpeg"


async def test_rate_limit_429_and_sdk_retry() -> None:
    async with SlackStandIn(rate_limit_per_channel=1, burst=1) as slack:
        slack.add_channel("C0SALES", "sales")
        await web_client(slack).chat_postMessage(channel="C0SALES", text="1")
        with pytest.raises(SlackApiError) as e:
            await web_client(slack).chat_postMessage(channel="C0SALES", text="2")
        assert e.value.response.status_code == 429
        assert e.value.response["error"] == "ratelimited"
        assert int(e.value.response.headers["Retry-After"]) >= 1
        assert slack.rate_limited_count == 1

        handler = AsyncRateLimitErrorRetryHandler(max_retry_count=2)
        retrying = web_client(slack, retry_handlers=[handler])
        resp = await retrying.chat_postMessage(channel="C0SALES", text="3")
        assert resp["ok"] and [m["text"] for m in slack.posts()] == ["1", "3"]
        assert slack.rate_limited_count == 2  # one 429, then the retry went through


async def test_socket_mode_events_ack_and_reconnect(slack: SlackStandIn) -> None:
    received: list[SocketModeRequest] = []

    async def on_request(client: Any, req: SocketModeRequest) -> None:
        received.append(req)
        await client.send_socket_mode_response(SocketModeResponse(envelope_id=req.envelope_id))

    client = SocketModeClient(app_token="xapp-test", web_client=web_client(slack, None))
    client.socket_mode_request_listeners.append(on_request)
    try:
        await client.connect()
        await slack.wait_socket(1)
        event = slack.user_message("C0SALES", "U0DANA", "hello", thread_ts="1.000001")
        eid = await slack.socket_send("events_api", sp.event_callback(event))
        ack = await slack.wait_ack(eid)
        assert ack == {"envelope_id": eid}
        assert received[0].type == "events_api" and received[0].payload["event"]["text"] == "hello"
        opens = slack.calls("apps.connections.open")
        assert opens[0].headers["Authorization"] == "Bearer xapp-test"

        await slack.socket_disconnect()
        await slack.wait_socket(2)
        command = sp.slash_command("inbox open", user_id="U0DANA")
        eid = await slack.socket_send("slash_commands", command, accepts_response_payload=True)
        await slack.wait_ack(eid)
        assert received[-1].payload["command"] == "/sms"
        assert len(slack.calls("apps.connections.open")) == 2

        await slack.socket_disconnect(close=True)  # the socket drops: the client comes back
        await slack.wait_socket(3)
        eid = await slack.socket_send("interactive", si.block_actions_payload("close", "c1"))
        assert (await slack.wait_ack(eid))["envelope_id"] == eid
        assert received[-1].payload["actions"][0]["value"] == "c1"
    finally:
        await client.close()


def test_signature_verifies_with_slack_sdk() -> None:
    body = sp.json_body(sp.event_callback(sp.message_event("C0SALES", "U0DANA", "hi")))
    headers = sp.sign_slack_request(SECRET, body)
    verifier = SignatureVerifier(SECRET)
    assert verifier.is_valid_request(body, headers)
    assert not SignatureVerifier("other").is_valid_request(body, headers)
    stale = sp.sign_slack_request(SECRET, body, timestamp=1_600_000_000)
    assert not verifier.is_valid_request(body, stale)


async def test_payloads_through_bolt_over_http(slack: SlackStandIn) -> None:
    """Signed events, commands and interactivity reach a real Bolt app's listeners."""
    seen: dict[str, Any] = {}
    app = AsyncApp(client=web_client(slack), signing_secret=SECRET)

    @app.event("message")
    async def on_message(event: dict, context: Any) -> None:
        seen.setdefault("message", []).append((event.get("subtype"), context.get("bot_user_id")))

    @app.event("app_mention")
    async def on_mention(event: dict) -> None:
        seen["mention"] = event["text"]

    @app.command("/sms")
    async def on_command(ack: Any, command: dict) -> None:
        await ack("ok")
        seen["command"] = command["text"]

    @app.action("close")
    async def on_action(ack: Any, body: dict, respond: Any) -> None:
        await ack()
        await respond(text="closed", replace_original=True)
        seen["action"] = body["actions"][0]["value"]

    @app.shortcut("note")
    async def on_shortcut(ack: Any, shortcut: dict) -> None:
        await ack()
        seen["shortcut"] = shortcut["message"]["text"]

    @app.view("assign")
    async def on_view(ack: Any, view: dict) -> None:
        await ack()
        seen["view"] = view["state"]["values"]["who"]["pick"]["selected_user"]

    runner = web.AppRunner(app.web_app(path="/slack/events"))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}/slack/events"  # type: ignore[union-attr]
    try:
        header = await web_client(slack).chat_postMessage(channel="C0SALES", text="header")
        reply = slack.user_message("C0SALES", "U0DANA", "on my way", thread_ts=header["ts"])
        events = [
            reply,
            sp.message_changed_event("C0SALES", reply, "on my way!"),
            sp.message_deleted_event("C0SALES", reply),
            sp.app_mention_event("C0SALES", "U0DANA", "<@U0BOT> close", thread_ts=header["ts"]),
        ]
        jtype, ftype = "application/json", "application/x-www-form-urlencoded"
        for i, event in enumerate(events):
            body = sp.json_body(sp.event_callback(event))
            status, _ = await sp.post_signed(url, body, jtype, SECRET, retry_num=i or None)
            assert status == 200
        status, text = await sp.post_signed(
            url, sp.form_body(sp.slash_command("inbox", user_id="U0DANA")), ftype, SECRET
        )
        assert (status, text) == (200, "ok")
        rurl = slack.response_url("C0SALES", header["ts"])
        click = si.block_actions_payload(
            "close", "conv-1", message=header["message"], channel_id="C0SALES", response_url=rurl
        )
        shortcut = si.message_action_payload("note", {"ts": reply["ts"], "text": "on my way"})
        values = {"who": {"pick": {"type": "users_select", "selected_user": "U0DANA"}}}
        submit = si.view_submission_payload("assign", values)
        for payload in (click, shortcut, submit):
            status, _ = await sp.post_signed(url, sp.interactive_body(payload), ftype, SECRET)
            assert status == 200
        bad = await sp.post_signed(url, sp.json_body(sp.event_callback(reply)), jtype, "nope")
        assert bad[0] == 401
        for _ in range(100):
            if len(seen) == 6 and len(seen["message"]) == 3 and slack.responses:
                break
            await asyncio.sleep(0.02)
        assert seen["message"] == [
            (None, "U0BOT"),
            ("message_changed", "U0BOT"),
            ("message_deleted", "U0BOT"),
        ]
        assert seen["mention"] == "<@U0BOT> close" and seen["command"] == "inbox"
        assert (seen["action"], seen["shortcut"], seen["view"]) == ("conv-1", "on my way", "U0DANA")
        assert slack.responses[0]["body"]["replace_original"] is True
        assert slack.posts("C0SALES")[0]["text"] == "closed"
    finally:
        await runner.cleanup()


def test_form_bodies_parse_like_slack_sends_them() -> None:
    fields = parse_qs(sp.form_body(sp.slash_command("new +15551234567 hi")).decode())
    assert fields["command"] == ["/sms"] and fields["text"] == ["new +15551234567 hi"]
    assert set(fields) >= {
        "token",
        "team_id",
        "team_domain",
        "channel_id",
        "channel_name",
        "user_id",
        "user_name",
        "api_app_id",
        "response_url",
        "trigger_id",
    }
    payload = parse_qs(sp.interactive_body({"type": "block_actions"}).decode())["payload"]
    assert json.loads(payload[0]) == {"type": "block_actions"}
