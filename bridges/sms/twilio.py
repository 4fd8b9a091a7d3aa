"""Twilio: send SMS/MMS with the official async client; verify and parse webhooks.

Webhook signatures are checked against SMSBRIDGE_PUBLIC_URL, not the URL the server saw,
so validation survives proxies and load balancers."""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
from typing import Any

import aiohttp
from aiohttp import web
from twilio.base.exceptions import TwilioRestException
from twilio.http import AsyncHttpClient
from twilio.http.response import Response
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from bot import metrics
from bot.domain.phones import InvalidPhone, InvalidSender, normalize_phone, normalize_sender
from bot.facade import Facade
from bot.plugins import Context
from bot.ports import OutcomeUnknown, Rejected, RetryLater, SentSms
from bot.results import Unavailable
from bot.types import InboundSms, MediaRef, StatusUpdate
from bot.warn_once import WarnOncePerMinute
from bridges.sms import TWILIO_API, TwilioSettings
from bridges.sms.media import TwilioMedia

log = logging.getLogger(__name__)

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
STATUSES = {
    "accepted",
    "scheduled",
    "queued",
    "sending",
    "sent",
    "delivered",
    "undelivered",
    "failed",
    "canceled",
    "read",
    "receiving",
    "received",
}
MAX_MEDIA = 10


class _HttpClient(AsyncHttpClient):
    """aiohttp transport for the twilio client: honours TWILIO_API_URL, and tells apart a
    request that never left (safe to retry) from one whose answer was lost (unknown)."""

    def __init__(self, api_url: str | None, timeout: float = 15.0) -> None:
        super().__init__(logger=log, is_async=True, timeout=timeout)
        self.api_url = (api_url or TWILIO_API).rstrip("/")
        self.session: aiohttp.ClientSession | None = None

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
        if self.session is None:
            self.session = aiohttp.ClientSession()
        if url.startswith(TWILIO_API):
            url = self.api_url + url[len(TWILIO_API) :]
        try:
            async with self.session.request(
                method.upper(),
                url,
                params=params,
                data=data,
                headers={**(headers or {}), **_basic_auth(auth)},
                timeout=aiohttp.ClientTimeout(total=timeout or self.timeout),
                allow_redirects=allow_redirects,
            ) as response:
                text = await response.text()
        except aiohttp.ClientConnectorError as exc:
            raise RetryLater(f"cannot reach Twilio: {exc}") from exc
        except (TimeoutError, aiohttp.ServerDisconnectedError, aiohttp.ClientPayloadError) as exc:
            if method.upper() == "GET":
                raise RetryLater(f"Twilio did not answer: {exc!r}") from exc
            raise OutcomeUnknown(f"Twilio did not answer: {exc!r}") from exc
        except aiohttp.ClientError as exc:
            raise OutcomeUnknown(f"connection to Twilio failed: {exc!r}") from exc
        if response.status == 429 or response.status >= 500:
            raise RetryLater(f"Twilio answered {response.status}", _retry_after(response.headers))
        return Response(response.status, text, dict(response.headers))

    async def close(self) -> None:
        if self.session is not None:
            await self.session.close()
            self.session = None


def _basic_auth(auth: tuple[str, str] | None) -> dict[str, str]:
    if not auth:
        return {}
    token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def _retry_after(headers: Any) -> float | None:
    try:
        return float(headers.get("Retry-After"))
    except (TypeError, ValueError):
        return None


class TwilioGateway:
    """SmsGateway over the official twilio library."""

    def __init__(self, account_sid: str, auth_token: str, api_url: str | None = None) -> None:
        self.http = _HttpClient(api_url)
        self.client = Client(account_sid, auth_token, http_client=self.http)

    async def send(
        self,
        *,
        from_phone: str,
        to_phone: str,
        body: str,
        media_urls: list[str],
        status_callback: str,
    ) -> SentSms:
        kwargs: dict[str, Any] = {
            "to": to_phone,
            "from_": from_phone,
            "status_callback": status_callback,
        }
        if body:
            kwargs["body"] = body
        if media_urls:
            kwargs["media_url"] = media_urls
        try:
            message = await self.client.messages.create_async(**kwargs)
        except TwilioRestException as exc:
            raise Rejected(
                exc.msg or f"Twilio error {exc.code}", str(exc.code or exc.status)
            ) from None
        except (ValueError, KeyError, TypeError) as exc:
            # A 2xx whose body cannot be read (a proxy's page, a cut JSON): Twilio took
            # the request, so the SMS may be out. Never send it again blindly.
            raise OutcomeUnknown(f"Twilio's answer could not be read: {exc!r}") from exc
        if not message.sid:
            raise OutcomeUnknown("Twilio's answer carried no message sid")
        return SentSms(message.sid, str(message.status or "queued"))

    async def close(self) -> None:
        await self.http.close()


class TwilioPlugin:
    """The `twilio` bridge running: its webhooks on our server and its gateway."""

    def __init__(self, settings: TwilioSettings, context: Context) -> None:
        self.settings = settings
        self.gateway = TwilioGateway(settings.account_sid, settings.auth_token, settings.api_url)
        self.webhooks = TwilioWebhooks(context.facade, settings.auth_token)
        self.media = TwilioMedia(settings)

    def routes(self) -> list[web.RouteDef]:
        return self.webhooks.routes()

    async def fetch_media(self, url: str) -> bytes | None:
        return await self.media.fetch(url)

    async def start(self) -> None:
        pass

    async def stop(self) -> None:
        await self.gateway.close()
        await self.media.close()


class TwilioWebhooks:
    """`POST /twilio/sms` and `POST /twilio/status`."""

    def __init__(self, facade: Facade, auth_token: str) -> None:
        self.facade = facade
        self.auth_token = auth_token.encode()
        self.validator = RequestValidator(auth_token)
        self.warnings = WarnOncePerMinute(log)

    def routes(self) -> list[web.RouteDef]:
        return [web.post("/twilio/sms", self.inbound), web.post("/twilio/status", self.status)]

    async def _verified_form(self, request: web.Request, path: str) -> dict[str, str] | None:
        if request.content_type != "application/x-www-form-urlencoded":
            return None
        try:
            post = await request.post()
        except (ValueError, UnicodeDecodeError):
            return None
        form = {k: v for k, v in post.items() if isinstance(v, str)}
        if len(form) != len(post) or len(set(post.keys())) != len(post.keys()):
            return None
        url = self.facade.settings.public_url + path
        if request.query_string:
            url += "?" + request.query_string
        signature = request.headers.get("X-Twilio-Signature", "")
        if not signature or not self._signed(url, form, signature):
            self.warnings.warn(
                "twilio",
                "twilio: refused a webhook: %s signature checked against %s "
                "(check TWILIO_AUTH_TOKEN and SMSBRIDGE_PUBLIC_URL)",
                "a bad" if signature else "no",
                url,
            )
            return None
        return form

    def _signed(self, url: str, form: dict[str, str], signature: str) -> bool:
        """Twilio's algorithm (HMAC-SHA1 of the URL and the sorted form fields) computed
        once; on a mismatch, the twilio library's check, which also tries the URL with
        and without its port (Twilio signs either way) at twice the cost."""
        data = url + "".join(key + form[key] for key in sorted(form))
        digest = hmac.new(self.auth_token, data.encode(), hashlib.sha1).digest()
        if hmac.compare_digest(base64.b64encode(digest), signature.encode()):
            return True
        return bool(self.validator.validate(url, form, signature))

    async def inbound(self, request: web.Request) -> web.Response:
        form = await self._verified_form(request, "/twilio/sms")
        if form is None:
            metrics.WEBHOOKS.labels("twilio_sms", "forbidden").inc()
            return web.Response(status=403, text="invalid Twilio signature or body\n")
        try:
            sms = parse_inbound(form)
        except InvalidSender as exc:
            metrics.WEBHOOKS.labels("twilio_sms", "bad_sender").inc()
            self.warnings.warn(
                "twilio:sender", "twilio: refused an inbound SMS by its From: %s", exc
            )
            return web.Response(status=400, text=f"{exc}\n")
        except ValueError as exc:
            metrics.WEBHOOKS.labels("twilio_sms", "bad_request").inc()
            return web.Response(status=400, text=f"{exc}\n")
        try:
            accepted = await self.facade.sms_received(sms)
        except Unavailable:
            # Disk full, database locked or gone: nothing was committed; Twilio retries a 5xx.
            log.exception("could not store inbound sms %s", sms.provider_sid)
            metrics.WEBHOOKS.labels("twilio_sms", "error").inc()
            return web.Response(
                status=503, text="temporarily unavailable\n", headers={"Retry-After": "5"}
            )
        metrics.WEBHOOKS.labels("twilio_sms", accepted).inc()
        if accepted == "unknown_line":
            return web.Response(status=404, text=f"{sms.to_phone} is not a configured line\n")
        return web.Response(text=EMPTY_TWIML, content_type="text/xml")

    async def status(self, request: web.Request) -> web.Response:
        form = await self._verified_form(request, "/twilio/status")
        if form is None:
            metrics.WEBHOOKS.labels("twilio_status", "forbidden").inc()
            return web.Response(status=403, text="invalid Twilio signature or body\n")
        try:
            update = parse_status(form)
        except ValueError as exc:
            metrics.WEBHOOKS.labels("twilio_status", "bad_request").inc()
            return web.Response(status=400, text=f"{exc}\n")
        try:
            result = await self.facade.sms_status(update)
        except Unavailable:
            log.exception("could not apply status of %s", update.provider_sid)
            return web.Response(
                status=503, text="temporarily unavailable\n", headers={"Retry-After": "5"}
            )
        metrics.WEBHOOKS.labels("twilio_status", "ok" if result.ok else "ignored").inc()
        # An unknown sid is answered 200: Twilio cannot fix it by retrying.
        return web.Response(status=204)


def parse_inbound(form: dict[str, str]) -> InboundSms:
    sid = form.get("MessageSid") or form.get("SmsMessageSid") or form.get("SmsSid")
    if not sid or len(sid) > 64:
        raise ValueError("MessageSid is missing")
    to_raw, from_raw = form.get("To", ""), form.get("From", "")
    if not to_raw or not from_raw:
        raise ValueError("To and From are required")
    try:
        to_phone = normalize_phone(to_raw)
    except InvalidPhone as exc:
        raise ValueError(f"To: {exc}") from None
    from_phone = normalize_sender(from_raw)  # InvalidSender says why, never the value
    try:
        num_media = int(form.get("NumMedia", "0") or "0")
    except ValueError:
        raise ValueError("NumMedia must be a number") from None
    if not 0 <= num_media <= MAX_MEDIA:
        raise ValueError(f"NumMedia must be between 0 and {MAX_MEDIA}")
    media = []
    for i in range(num_media):
        url = form.get(f"MediaUrl{i}")
        if not url or not url.startswith(("https://", "http://")):
            raise ValueError(f"MediaUrl{i} is missing or not a URL")
        media.append(MediaRef(url, form.get(f"MediaContentType{i}") or "application/octet-stream"))
    return InboundSms(
        provider_sid=sid,
        from_phone=from_phone,
        to_phone=to_phone,
        body=form.get("Body", ""),
        media=tuple(media),
        opt_out_type=form.get("OptOutType") or None,
    )


def parse_status(form: dict[str, str]) -> StatusUpdate:
    sid = form.get("MessageSid") or form.get("SmsSid")
    status = (form.get("MessageStatus") or form.get("SmsStatus") or "").lower()
    if not sid:
        raise ValueError("MessageSid is missing")
    if status not in STATUSES:
        raise ValueError(f"unknown MessageStatus {status!r}")
    return StatusUpdate(
        provider_sid=sid,
        status=status,
        error_code=form.get("ErrorCode") or None,
        error_message=form.get("ErrorMessage") or None,
        to_phone=form.get("To") or None,
        from_phone=form.get("From") or None,
    )


async def post_signed_inbound(
    public_url: str, auth_token: str, params: dict[str, str], *, target: str | None = None
) -> tuple[int, str]:
    """Post an inbound SMS webhook signed as Twilio signs it (`smsbridge sms-in`)."""
    url = public_url.rstrip("/") + "/twilio/sms"
    signature = RequestValidator(auth_token).compute_signature(url, params)
    async with (
        aiohttp.ClientSession() as session,
        session.post(target or url, data=params, headers={"X-Twilio-Signature": signature}) as r,
    ):
        return r.status, await r.text()
