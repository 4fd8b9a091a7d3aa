"""The official twilio library (async transport) against the Twilio stand-in.

Pointing twilio 9.x at another base URL: every Messages request is built from the `Api`
domain's `base_url` (twilio/base/domain.py `Domain.absolute_url`), which defaults to
"https://api.twilio.com". Overriding that one attribute redirects the whole domain;
clearing `edge`/`region` keeps `ClientBase.get_hostname` from rewriting the host when
TWILIO_EDGE / TWILIO_REGION are set in the environment::

    client = Client(account_sid, auth_token, http_client=BasicAuthHeaderClient())
    client.api.base_url = api_url.rstrip("/")   # e.g. TWILIO_API_URL
    client.edge = client.region = None
    ...
    await client.http_client.close()            # closes its aiohttp ClientSession

(An alternative is a custom `AsyncHttpClient` whose `request` replaces the
"https://api.twilio.com" prefix of `url`; `twilio_async_client` below is the short way.)
With aiohttp >= 3.14 the stock AsyncTwilioHttpClient warns (BasicAuth / `auth=` are
deprecated): `BasicAuthHeaderClient` below sends the Authorization header itself.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from twilio.base.exceptions import TwilioRestException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.http.response import Response
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from standins.twilio import TwilioStandIn
from standins.twilio_wire import (
    PNG,
    count_segments,
    inbound_sms_params,
    sign_twilio_request,
)

TO, FROM = "+15005550009", "+15005550006"


class BasicAuthHeaderClient(AsyncTwilioHttpClient):
    """twilio 9.13's AsyncTwilioHttpClient passes `aiohttp.BasicAuth` as `auth=`, both
    deprecated since aiohttp 3.14 (DeprecationWarning, an error under -W error). Same
    transport, credentials sent as a ready Authorization header instead."""

    async def request(  # type: ignore[override]
        self,
        method: str,
        url: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,
        allow_redirects: bool = False,
    ) -> Response:
        if auth is not None:
            headers = {**(headers or {}), "Authorization": aiohttp.encode_basic_auth(*auth)}
        return await super().request(
            method, url, params, data, headers, None, timeout, allow_redirects
        )


def twilio_async_client(api_url: str, account_sid: str, auth_token: str) -> Client:
    """The official twilio client with its aiohttp transport, talking to `api_url`."""
    client = Client(account_sid, auth_token, http_client=BasicAuthHeaderClient())
    client.api.base_url = api_url.rstrip("/")
    client.edge = client.region = None
    return client


class Receiver:
    """Our side of the webhooks: records each form POST and whether its signature holds."""

    def __init__(self, auth_token: str) -> None:
        self.validator = RequestValidator(auth_token)
        self.posts: list[tuple[dict[str, str], bool]] = []
        self.url = ""
        app = web.Application()
        app.router.add_post("/{tail:.*}", self.handle)
        self.runner = web.AppRunner(app, access_log=None)

    async def handle(self, request: web.Request) -> web.Response:
        form = {k: str(v) for k, v in (await request.post()).items()}
        signature = request.headers.get("X-Twilio-Signature", "")
        self.posts.append((form, self.validator.validate(str(request.url), form, signature)))
        return web.Response(text="<Response></Response>", content_type="text/xml")

    async def start(self) -> None:
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"


@pytest.fixture
async def twilio() -> AsyncIterator[TwilioStandIn]:
    async with TwilioStandIn() as standin:
        yield standin  # type: ignore[misc]


@pytest.fixture
async def client(twilio: TwilioStandIn) -> AsyncIterator[Client]:
    client = twilio_async_client(twilio.url, twilio.account_sid, twilio.auth_token)
    yield client
    await client.http_client.close()  # type: ignore[attr-defined]


@pytest.fixture
async def receiver(twilio: TwilioStandIn) -> AsyncIterator[Receiver]:
    receiver = Receiver(twilio.auth_token)
    await receiver.start()
    yield receiver
    await receiver.runner.cleanup()


async def test_create_returns_the_message_resource(twilio: TwilioStandIn, client: Client) -> None:
    message = await client.messages.create_async(
        to=TO, from_=FROM, body="Hello 👍", status_callback="https://example.com/twilio/status"
    )
    assert message.sid and message.sid.startswith("SM") and len(message.sid) == 34
    assert message.status == "queued"
    assert (message.to, message.from_, message.body) == (TO, FROM, "Hello 👍")
    assert message.direction == "outbound-api" and message.api_version == "2010-04-01"
    assert message.num_segments == "1" and message.num_media == "0"
    assert message.price is None and message.error_code is None
    assert message.date_created is not None and message.date_created.tzinfo is not None
    assert message.uri == f"/2010-04-01/Accounts/{twilio.account_sid}/Messages/{message.sid}.json"
    stored = twilio.messages[0]
    assert stored["status_callback"] == "https://example.com/twilio/status"
    call = twilio.calls("/Messages.json", "POST")[0]
    assert call.form == {
        "To": TO,
        "From": FROM,
        "Body": "Hello 👍",
        "StatusCallback": "https://example.com/twilio/status",
    }
    fetched = await client.messages(message.sid).fetch_async()
    assert fetched.sid == message.sid and fetched.status == "queued"


async def test_mms_repeats_media_url(twilio: TwilioStandIn, client: Client) -> None:
    urls = [twilio.media_url("a.png"), twilio.media_url("b.png")]
    message = await client.messages.create_async(to=TO, from_=FROM, media_url=urls)
    assert message.sid.startswith("MM") and message.num_media == "2"
    assert twilio.messages[0]["media_urls"] == urls
    async with aiohttp.ClientSession() as session, session.get(urls[0]) as response:
        assert response.content_type == "image/png"
        assert await response.read() == PNG and PNG.startswith(b"\x89PNG")


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"to": "", "from_": FROM, "body": "x"}, 21604),
        ({"to": "5551234", "from_": FROM, "body": "x"}, 21211),
        ({"to": TO, "body": "x"}, 21603),
        ({"to": TO, "from_": FROM}, 21602),
        ({"to": TO, "from_": FROM, "body": "x" * 1601}, 21617),
        (
            {"to": TO, "from_": FROM, "media_url": [f"https://e.x/{i}.png" for i in range(11)]},
            21623,
        ),
    ],
)
async def test_validation_errors(client: Client, kwargs: dict[str, object], code: int) -> None:
    with pytest.raises(TwilioRestException) as info:
        await client.messages.create_async(**kwargs)  # type: ignore[arg-type]
    assert info.value.status == 400 and info.value.code == code


async def test_opted_out_recipient_is_21610(twilio: TwilioStandIn, client: Client) -> None:
    twilio.opted_out.add(TO)
    with pytest.raises(TwilioRestException) as info:
        await client.messages.create_async(to=TO, from_=FROM, body="hi")
    assert (info.value.status, info.value.code) == (400, 21610)
    assert "unsubscribed" in info.value.msg and twilio.messages == []


async def test_bad_credentials_are_401_20003(twilio: TwilioStandIn) -> None:
    client = twilio_async_client(twilio.url, twilio.account_sid, "wrong-token")
    try:
        with pytest.raises(TwilioRestException) as info:
            await client.messages.create_async(to=TO, from_=FROM, body="hi")
    finally:
        await client.http_client.close()  # type: ignore[attr-defined]
    assert (info.value.status, info.value.code) == (401, 20003)


async def test_unknown_message_is_404_20404(client: Client) -> None:
    with pytest.raises(TwilioRestException) as info:
        await client.messages("SM" + "0" * 32).fetch_async()
    assert (info.value.status, info.value.code) == (404, 20404)


async def test_rate_limit_reaches_client_as_429(twilio: TwilioStandIn, client: Client) -> None:
    twilio.fail_next(429, retry_after=2, path_contains="/Messages.json")
    with pytest.raises(TwilioRestException) as info:
        await client.messages.create_async(to=TO, from_=FROM, body="hi")
    assert (info.value.status, info.value.code) == (429, 20429)
    last = client.http_client._test_only_last_response  # type: ignore[attr-defined]
    assert last.headers["Retry-After"] == "2"
    message = await client.messages.create_async(to=TO, from_=FROM, body="hi")
    assert message.status == "queued"


async def test_cancel_only_while_scheduled(twilio: TwilioStandIn, client: Client) -> None:
    queued = await client.messages.create_async(to=TO, from_=FROM, body="now")
    with pytest.raises(TwilioRestException) as info:
        await client.messages(queued.sid).update_async(status="canceled")
    assert (info.value.status, info.value.code) == (400, 30409)
    later = datetime.now(UTC) + timedelta(hours=1)
    scheduled = await client.messages.create_async(
        to=TO,
        messaging_service_sid="MG" + "1" * 32,
        body="later",
        schedule_type="fixed",
        send_at=later,
    )
    assert scheduled.status == "scheduled"
    canceled = await client.messages(scheduled.sid).update_async(status="canceled")
    assert canceled.status == "canceled"


async def test_status_callbacks_are_signed(
    twilio: TwilioStandIn, client: Client, receiver: Receiver
) -> None:
    callback = receiver.url + "/twilio/status?line=1"
    message = await client.messages.create_async(
        to=TO, from_=FROM, body="hi", status_callback=callback
    )
    assert await twilio.send_status_callbacks(message.sid) == [200, 200]
    assert await twilio.send_status_callbacks(message.sid, ("undelivered",), "30003") == [200]
    statuses = [(form["MessageStatus"], valid) for form, valid in receiver.posts]
    assert statuses == [("sent", True), ("delivered", True), ("undelivered", True)]
    form = receiver.posts[2][0]
    assert form["ErrorCode"] == "30003" and form["MessageSid"] == form["SmsSid"] == message.sid
    assert (form["To"], form["From"], form["AccountSid"]) == (TO, FROM, twilio.account_sid)
    assert "ErrorCode" not in receiver.posts[0][0]
    fetched = await client.messages(message.sid).fetch_async()
    assert (fetched.status, fetched.error_code) == ("undelivered", 30003)
    await twilio.send_status_callbacks(message.sid, ("delivered",), auth_token="other")
    assert receiver.posts[-1][1] is False


async def test_auto_callbacks(receiver: Receiver) -> None:
    async with TwilioStandIn(auto_callbacks=True, callback_delay=0.01) as twilio:
        client = twilio_async_client(twilio.url, twilio.account_sid, twilio.auth_token)
        try:
            message = await client.messages.create_async(
                to=TO, from_=FROM, body="hi", status_callback=receiver.url + "/status"
            )
        finally:
            await client.http_client.close()  # type: ignore[attr-defined]
        for _ in range(200):
            if len(receiver.posts) == 2:
                break
            await asyncio.sleep(0.01)
    assert [(f["MessageStatus"], ok) for f, ok in receiver.posts] == [
        ("sent", True),
        ("delivered", True),
    ]
    assert twilio.message(message.sid)["status"] == "delivered"


async def test_inbound_webhook_is_signed_like_twilio(
    twilio: TwilioStandIn, receiver: Receiver
) -> None:
    media = [(twilio.media_url("p.png"), "image/png")]
    status, text = await twilio.send_inbound(
        receiver.url + "/twilio/sms", from_=TO, to=FROM, body="Hi there", media=media
    )
    assert status == 200 and "<Response>" in text
    form, valid = receiver.posts[0]
    assert valid
    assert form["SmsStatus"] == "received" and form["NumMedia"] == "1"
    assert form["MediaUrl0"] == media[0][0] and form["MediaContentType0"] == "image/png"
    assert form["MessageSid"].startswith("MM") and form["AccountSid"] == twilio.account_sid
    # Signed over a different public URL (a proxy in front): invalid at the URL we saw.
    await twilio.send_inbound(
        receiver.url + "/twilio/sms",
        from_=TO,
        to=FROM,
        body="STOP",
        opt_out_type="STOP",
        signature_url="https://public.example.com/twilio/sms",
    )
    form, valid = receiver.posts[1]
    assert not valid and form["OptOutType"] == "STOP" and TO in twilio.opted_out


def test_pure_helpers_match_the_validator() -> None:
    params = inbound_sms_params(account_sid="AC" + "a" * 32, from_=TO, to=FROM, body="yo")
    url = "https://bridge.example.com/twilio/sms"
    signature = sign_twilio_request("token", url, params)
    assert RequestValidator("token").validate(url, params, signature)
    assert not RequestValidator("token").validate(url, {**params, "Body": "x"}, signature)
    assert {"ToCountry", "SmsMessageSid", "NumSegments", "ApiVersion"} <= params.keys()
    assert count_segments("a" * 160) == 1 and count_segments("a" * 161) == 2
    assert count_segments("é" * 160) == 1 and count_segments("’" * 71) == 2
    assert count_segments("{" * 80) == 1 and count_segments("{" * 81) == 2


SPEC = Path(__file__).resolve().parents[3] / "shared" / "specs" / "twilio_api_v2010.fixed.json"


@pytest.mark.skipif(not SPEC.exists(), reason="Twilio OpenAPI spec not available")
async def test_message_resource_matches_the_openapi_spec(twilio: TwilioStandIn) -> None:
    schema = json.loads(SPEC.read_text())["components"]["schemas"]["api.v2010.account.message"]
    auth = {"Authorization": aiohttp.encode_basic_auth(twilio.account_sid, twilio.auth_token)}
    path = f"{twilio.url}/2010-04-01/Accounts/{twilio.account_sid}/Messages.json"
    async with aiohttp.ClientSession(headers=auth) as session:
        async with session.post(path, data={"To": TO, "From": FROM, "Body": "x"}) as response:
            assert response.status == 201
            resource = await response.json()
        async with session.post(path, data={"From": FROM, "Body": "x"}) as response:
            assert response.status == 400
            assert set(await response.json()) == {"code", "message", "more_info", "status"}
    kinds = {"string": str, "integer": int, "object": dict}
    for name, prop in schema["properties"].items():
        value = resource[name]
        if "$ref" in prop:  # status and direction enums
            enum = json.loads(SPEC.read_text())["components"]["schemas"][prop["$ref"][21:]]
            assert value in enum["enum"], name
        elif value is None:
            assert prop.get("nullable"), name
        else:
            assert isinstance(value, kinds[prop["type"]]), name
            if "pattern" in prop:
                assert re.match(prop["pattern"], value), name
    assert set(resource) == set(schema["properties"])
