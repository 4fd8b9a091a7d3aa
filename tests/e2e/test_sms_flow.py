"""The spine end to end: signed webhooks in, SMS out through the real twilio client to
the loopback stand-in, status callbacks, opt-out."""

from __future__ import annotations

from sqlalchemy import func, select

from bot.app import SmsBridge
from bot.results import Queued
from bot.services.conversations import start_conversation
from bot.services.portal import Portal
from bot.services.replies import ReplyOptions, queue_sms
from standins.twilio import TwilioStandIn
from storage.models import Conversation, Delivery, Lead, Line, Message
from tests.conftest import LEAD, LINE, applied, queue_reply, wait_for


async def messages(bridge: SmsBridge) -> list[Message]:
    async with bridge.db.session() as s:
        return list(await s.scalars(select(Message).order_by(Message.id)))


async def reply(bridge: SmsBridge, text: str, **kw: object) -> Queued:
    assert bridge.core is not None
    return await queue_reply(bridge.core, text, **kw)


async def test_inbound_sms_is_stored_once_and_answered_with_empty_twiml(
    bridge: SmsBridge, twilio: TwilioStandIn
) -> None:
    url = bridge.settings.public_url + "/twilio/sms"
    status, body = await twilio.send_inbound(
        url, from_=LEAD, to=LINE, body="Hi, need a quote", message_sid="SM" + "a" * 32
    )
    assert status == 200
    assert "<Response></Response>" in body
    status, _ = await twilio.send_inbound(
        url, from_=LEAD, to=LINE, body="Hi, need a quote", message_sid="SM" + "a" * 32
    )
    assert status == 200
    await applied(bridge)
    stored = await messages(bridge)
    inbound = [m for m in stored if m.kind == "sms"]
    assert len(inbound) == 1
    assert inbound[0].body == "Hi, need a quote"
    async with bridge.db.session() as s:
        conv = await s.scalar(select(Conversation))
        assert conv.unread_count == 1 and conv.needs_response


async def test_reply_goes_out_and_status_callback_marks_it_delivered(
    bridge: SmsBridge, twilio: TwilioStandIn
) -> None:
    url = bridge.settings.public_url + "/twilio/sms"
    await twilio.send_inbound(url, from_=LEAD, to=LINE, body="Hello?")
    await applied(bridge)
    outcome = await reply(bridge, "Hi! This is Acme.")
    assert outcome.ok
    await wait_for(lambda: twilio.messages)
    sent = twilio.messages[0]
    assert sent["to"] == LEAD and sent["from"] == LINE and sent["body"] == "Hi! This is Acme."
    assert sent["status_callback"] == bridge.settings.public_url + "/twilio/status"

    async def status() -> str | None:
        async with bridge.db.session() as s:
            return await s.scalar(select(Message.status).where(Message.id == outcome.message_id))

    await wait_for(lambda: status())
    await twilio.send_status_callbacks(sent["sid"], ("sent", "delivered"))
    await wait_for(lambda: _eq(status(), "delivered"))


async def _eq(coro, value):  # type: ignore[no-untyped-def]
    return (await coro) == value


async def test_stop_opts_out_and_later_reply_is_refused(
    bridge: SmsBridge, twilio: TwilioStandIn
) -> None:
    url = bridge.settings.public_url + "/twilio/sms"
    await twilio.send_inbound(url, from_=LEAD, to=LINE, body="Stop.")
    await applied(bridge)
    async with bridge.db.session() as s:
        lead = await s.scalar(select(Lead))
        assert lead.opted_out
    from bot.services.access import Denied

    try:
        await reply(bridge, "Are you sure?")
    except Denied as exc:
        assert "opted out" in str(exc)
    else:
        raise AssertionError("a reply to an opted-out lead was accepted")
    assert twilio.messages == []


async def test_tampered_or_unsigned_webhooks_get_403_and_store_nothing(
    bridge: SmsBridge, twilio: TwilioStandIn
) -> None:
    from standins.twilio import inbound_sms_params, sign_twilio_request

    url = bridge.settings.public_url + "/twilio/sms"
    params = inbound_sms_params(from_=LEAD, to=LINE, body="hello", account_sid=twilio.account_sid)
    signature = sign_twilio_request(twilio.auth_token, url, params)
    import aiohttp

    async with aiohttp.ClientSession() as http:
        tampered = {**params, "Body": "hello!"}
        r = await http.post(url, data=tampered, headers={"X-Twilio-Signature": signature})
        assert r.status == 403
        r = await http.post(url, data=params)
        assert r.status == 403
        other = sign_twilio_request(twilio.auth_token, "http://evil.example/twilio/sms", params)
        r = await http.post(url, data=params, headers={"X-Twilio-Signature": other})
        assert r.status == 403
        r = await http.post(
            url,
            data=b"\xff\xfe",
            headers={"X-Twilio-Signature": signature, "Content-Type": "application/json"},
        )
        assert r.status == 403
    assert await messages(bridge) == []


async def test_cli_style_send_to_new_number_then_refusal_of_invalid_number(
    bridge: SmsBridge, twilio: TwilioStandIn
) -> None:
    core = bridge.core
    assert core is not None

    async def work(session):  # type: ignore[no-untyped-def]
        line = await session.scalar(select(Line).where(Line.phone == LINE))
        return await start_conversation(
            core, session, line, "(415) 555-0199", "Hi from Acme", author=None, source="cli"
        )

    outcome = await core.run(work)
    assert outcome.ok
    await wait_for(lambda: twilio.messages)
    assert twilio.messages[0]["to"] == "+14155550199"
    async with bridge.db.session() as s:
        assert await s.scalar(select(func.count()).select_from(Delivery)) >= 1


async def test_signed_garbage_gets_4xx_never_500(bridge: SmsBridge, twilio: TwilioStandIn) -> None:
    import random

    import aiohttp

    from standins.twilio import sign_twilio_request

    rng = random.Random(7)
    keys = ["MessageSid", "From", "To", "Body", "NumMedia", "MediaUrl0", "MessageStatus", "x"]
    values = ["", "+15005550006", LEAD, "abc", "3", "-1", "https://x/y", "\x00", "é" * 50, "SM1"]
    statuses = set()
    async with aiohttp.ClientSession() as http:
        for _ in range(150):
            form = {rng.choice(keys): rng.choice(values) for _ in range(rng.randint(0, 6))}
            path = rng.choice(["/twilio/sms", "/twilio/status"])
            url = bridge.settings.public_url + path
            sig = sign_twilio_request(twilio.auth_token, url, form)
            async with http.post(url, data=form, headers={"X-Twilio-Signature": sig}) as r:
                statuses.add(r.status)
                assert r.status < 500, (form, r.status)
    assert statuses & {400, 404}


async def test_mms_out_is_rehosted_and_fetchable_until_it_expires(
    bridge: SmsBridge, twilio: TwilioStandIn
) -> None:
    import aiohttp

    from bot.services.access import Denied
    from bot.types import OutboundFile

    png = b"\x89PNG\r\n\x1a\n" + b"0" * 100
    url = bridge.settings.public_url + "/twilio/sms"
    await twilio.send_inbound(url, from_=LEAD, to=LINE, body="send me a picture")
    await applied(bridge)
    core = bridge.core
    assert core is not None

    async def send(files: tuple[OutboundFile, ...]):  # type: ignore[no-untyped-def]
        async def work(session):  # type: ignore[no-untyped-def]
            conv = await session.scalar(select(Conversation))
            return await queue_sms(
                core,
                Portal(core, session, conv),
                "here",
                author=None,
                options=ReplyOptions(),
                files=files,
            )

        return await core.run(work)

    await send((OutboundFile("roof.png", "image/png", png),))
    await wait_for(lambda: twilio.messages)
    (media_url,) = twilio.messages[0]["media_urls"]
    assert media_url.startswith(bridge.settings.public_url + "/media/")
    async with aiohttp.ClientSession() as http:
        async with http.get(media_url) as r:
            assert r.status == 200 and await r.read() == png
            assert r.content_type == "image/png"
        async with http.get(bridge.settings.public_url + "/media/guess") as r:
            assert r.status == 404
        from datetime import UTC, datetime, timedelta

        from sqlalchemy import update

        from storage.models import Media

        async with bridge.db.session() as s, s.begin():
            await s.execute(update(Media).values(expires_at=datetime.now(UTC) - timedelta(1)))
        async with http.get(media_url) as r:
            assert r.status == 404, "expired media must not be served"

    too_big = OutboundFile("big.png", "image/png", b"0" * (5 * 1024 * 1024 + 1))
    for files, reason in [
        ((too_big,), "5 MB"),
        (tuple(OutboundFile(f"{i}.png", "image/png", png) for i in range(11)), "at most 10"),
        ((OutboundFile("a.exe", "application/x-msdownload", png),), "JPEG, PNG or GIF"),
    ]:
        try:
            await send(files)
        except Denied as exc:
            assert reason in str(exc)
        else:
            raise AssertionError(f"accepted: {reason}")


async def test_health_metrics_and_logs_without_full_numbers_or_secrets(
    bridge: SmsBridge, twilio: TwilioStandIn, caplog: object
) -> None:
    import logging

    import aiohttp

    from bot.ops.logs import quiet_noisy_loggers

    quiet_noisy_loggers()
    caplog.set_level(logging.DEBUG)  # type: ignore[attr-defined]
    url = bridge.settings.public_url
    await twilio.send_inbound(url + "/twilio/sms", from_=LEAD, to=LINE, body="hi")
    await applied(bridge)
    await reply(bridge, "hello")
    await wait_for(lambda: twilio.messages)
    twilio.fail_next(drop=True, path_contains="Messages.json")
    await reply(bridge, "again")
    async with aiohttp.ClientSession() as http:
        async with http.get(url + "/healthz") as r:
            assert r.status == 200 and (await r.json())["ok"] is True
        async with http.get(url + "/metrics") as r:
            text = await r.text()
    assert 'smsbridge_webhooks_total{outcome="stored",source="twilio_sms"}' in text
    assert "smsbridge_deliveries_total" in text
    logged = "\n".join(r.getMessage() for r in caplog.records)  # type: ignore[attr-defined]
    assert LEAD not in logged and LEAD[1:] not in logged
    assert twilio.auth_token not in logged
