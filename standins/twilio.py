"""Loopback stand-in for Twilio Programmable Messaging (API 2010-04-01) and its webhooks.

Answers the official `twilio` library like api.twilio.com does for the Message resource
(create, fetch, list, update/cancel/redact, delete) with the field names, status codes
and error shape of twilio_api_v2010.fixed.json, and plays Twilio's side of the webhooks:
inbound SMS/MMS and status callbacks, signed with X-Twilio-Signature exactly as Twilio
signs them. `GET /media/{name}` serves a small PNG so inbound MediaUrls can be fetched.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import json
import secrets
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

import aiohttp
from aiohttp import web

from standins.base import StandIn
from standins.twilio_wire import (
    API_VERSION,
    DEFAULT_ACCOUNT_SID,
    DEFAULT_AUTH_TOKEN,
    E164,
    ERROR_MESSAGES,
    FAILED,
    MAX_BODY,
    MAX_MEDIA,
    PNG,
    RESOURCE_FIELDS,
    START_WORDS,
    STOP_WORDS,
    count_segments,
    inbound_sms_params,
    new_sid,
    rfc2822,
    sign_twilio_request,
    twilio_error,
)


class TwilioStandIn(StandIn):
    """Twilio Messages API on loopback. Knobs: `opted_out` (numbers answered with 21610),
        `numbers` (when set, the only valid From numbers: 21606 otherwise; also the account's
    IncomingPhoneNumbers, whose webhook URLs are in `sms_urls`), `cancelable`
        (statuses a cancel may act on; Twilio: only `scheduled`, else 30409), `auto_callbacks`.
        Created messages are kept in `messages`: the resource fields plus `status_callback`,
        `media_urls`, `send_at`, `requested_from`; callbacks fired are kept in `callbacks`."""

    def __init__(
        self,
        account_sid: str = DEFAULT_ACCOUNT_SID,
        auth_token: str = DEFAULT_AUTH_TOKEN,
        *,
        auto_callbacks: bool = False,
        callback_delay: float = 0.02,
    ) -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.auto_callbacks = auto_callbacks
        self.callback_delay = callback_delay
        self.messages: list[dict[str, Any]] = []
        self.opted_out: set[str] = set()
        self.numbers: set[str] | None = None
        self.sms_urls: dict[str, str] = {}  # IncomingPhoneNumbers' "a message comes in"
        self.cancelable: set[str] = {"scheduled"}
        self.callbacks: list[tuple[str, dict[str, str], int]] = []
        self.inbound: list[dict[str, str]] = []
        # Twilio answers a media URL with a redirect to its storage (another origin):
        # set this to redirect there.
        self.media_redirect: str | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        super().__init__()

    def setup_routes(self, router: web.UrlDispatcher) -> None:
        base = f"/{API_VERSION}/Accounts/{{account}}/Messages"
        router.add_post(base + ".json", self.create)
        router.add_get(base + "/{sid}.json", self.fetch)
        router.add_post(base + "/{sid}.json", self.update)
        router.add_get("/media/{name}", self.media)
        account = f"/{API_VERSION}/Accounts/{{account}}"
        router.add_get(account + ".json", self.fetch_account)
        router.add_get(account + "/IncomingPhoneNumbers.json", self.list_numbers)
        router.add_post(account + "/IncomingPhoneNumbers/{sid}.json", self.update_number)

    def fault_body(self, status: int) -> str:
        text = {429: "Too Many Requests", 503: "Service Unavailable"}.get(status, "Error")
        code = 20000 + status if status in (429, 500, 503) else status
        more_info = f"https://www.twilio.com/docs/errors/{code}"
        return json.dumps({"code": code, "message": text, "more_info": more_info, "status": status})

    def media_url(self, name: str = "photo.png") -> str:
        return f"{self.url}/media/{name}"

    def message(self, sid: str) -> dict[str, Any]:
        return next(m for m in self.messages if m["sid"] == sid)

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await super().stop()

    # --- REST API ---------------------------------------------------------------------

    def _number_resource(self, phone: str) -> dict[str, Any]:
        sid = "PN" + hashlib.sha1(phone.encode()).hexdigest()
        return {
            "sid": sid,
            "account_sid": self.account_sid,
            "phone_number": phone,
            "friendly_name": phone,
            "sms_url": self.sms_urls.get(phone, ""),
            "sms_method": "POST",
            "uri": f"/{API_VERSION}/Accounts/{self.account_sid}/IncomingPhoneNumbers/{sid}.json",
        }

    async def fetch_account(self, request: web.Request) -> web.Response:
        if (refused := self._authorize(request)) is not None:
            return refused
        return web.json_response({
            "sid": self.account_sid, "friendly_name": "Stand-in account", "status": "active",
            "type": "Full", "uri": f"/{API_VERSION}/Accounts/{self.account_sid}.json",
        })  # fmt: skip

    async def list_numbers(self, request: web.Request) -> web.Response:
        if (refused := self._authorize(request)) is not None:
            return refused
        numbers = [self._number_resource(p) for p in sorted(self.numbers or ())]
        uri = f"/{API_VERSION}/Accounts/{self.account_sid}/IncomingPhoneNumbers.json"
        return web.json_response({
            "incoming_phone_numbers": numbers, "page": 0, "page_size": 50,
            "first_page_uri": uri, "next_page_uri": None, "previous_page_uri": None, "uri": uri,
        })  # fmt: skip

    async def update_number(self, request: web.Request) -> web.Response:
        if (refused := self._authorize(request)) is not None:
            return refused
        by_sid = {self._number_resource(p)["sid"]: p for p in self.numbers or ()}
        phone = by_sid.get(request.match_info["sid"])
        if phone is None:
            return self._not_found(request)
        form = await request.post()
        if "SmsUrl" in form:
            self.sms_urls[phone] = str(form["SmsUrl"])
        return web.json_response(self._number_resource(phone))

    def _authorize(self, request: web.Request) -> web.Response | None:
        header = request.headers.get("Authorization", "")
        try:
            credentials = base64.b64decode(header.removeprefix("Basic ")).decode()
        except (binascii.Error, UnicodeDecodeError):
            credentials = ""
        if (
            not header.startswith("Basic ")
            or credentials != f"{self.account_sid}:{self.auth_token}"
        ):
            return twilio_error(
                401, 20003, "Authenticate", **{"WWW-Authenticate": 'Basic realm="Twilio API"'}
            )
        if request.match_info["account"] != self.account_sid:
            return self._not_found(request)
        return None

    @staticmethod
    def _not_found(request: web.Request) -> web.Response:
        return twilio_error(404, 20404, f"The requested resource {request.path} was not found")

    def _public(self, message: dict[str, Any]) -> dict[str, Any]:
        return {k: message[k] for k in RESOURCE_FIELDS}

    def _rejection(self, form: Any) -> tuple[int, str] | None:
        """The first validation error Twilio would answer for a create, as (code, message)."""
        to, from_ = str(form.get("To", "")).strip(), str(form.get("From", "")).strip()
        service, body = form.get("MessagingServiceSid"), str(form.get("Body", ""))
        media = [str(u) for u in form.getall("MediaUrl", [])]
        not_ours = bool(from_) and self.numbers is not None and from_ not in self.numbers
        checks = [
            (not to, 21604, "A 'To' phone number is required."),
            (not E164.match(to), 21211, f"Invalid 'To' Phone Number: {to}"),
            (not from_ and not service, 21603, "A 'From' phone number is required."),
            (not_ours, 21606, f"The From phone number {from_} is not a valid, SMS-capable "
             "inbound phone number or short code for your account."),
            (not body and not media and not form.get("ContentSid"), 21602,
             "Message body is required."),
            (len(body) > MAX_BODY, 21617,
             "The concatenated message body exceeds the 1600 character limit."),
            (len(media) > MAX_MEDIA, 21623, "Number of media files exceeds allowed limit."),
            (any(not u.startswith(("http://", "https://")) for u in media), 21620,
             "Invalid media URL(s)"),
            (to.removeprefix("whatsapp:") in self.opted_out, 21610,
             "Attempt to send to unsubscribed recipient"),
        ]  # fmt: skip
        if "ScheduleType" in form:
            try:
                send_at = datetime.fromisoformat(str(form.get("SendAt")).replace("Z", "+00:00"))
                lead = (send_at - datetime.now(UTC)).total_seconds()
            except (ValueError, TypeError):
                lead = -1.0
            checks += [
                (form["ScheduleType"] != "fixed", 35126, "ScheduleType value is not supported"),
                (not service, 35118, "MessagingServiceSid is required to schedule a message"),
                ("SendAt" not in form, 35111, "SendAt timestamp is missing"),
                (not 300 <= lead <= 35 * 86400, 35114, "Scheduling does not support this time"),
            ]  # fmt: skip
        return next(((code, text) for bad, code, text in checks if bad), None)

    async def create(self, request: web.Request) -> web.Response:
        if denied := self._authorize(request):
            return denied
        form = await request.post()
        if rejection := self._rejection(form):
            return twilio_error(400, *rejection)
        to, from_ = str(form["To"]).strip(), str(form.get("From", "")).strip() or None
        service = str(form.get("MessagingServiceSid", "")) or None
        body = str(form.get("Body", ""))
        media = [str(u) for u in form.getall("MediaUrl", [])]
        status = "scheduled" if "ScheduleType" in form else "queued"
        sid = new_sid("MM" if media else "SM")
        now = rfc2822()
        uri = f"/{API_VERSION}/Accounts/{self.account_sid}/Messages/{sid}"
        message: dict[str, Any] = {
            "account_sid": self.account_sid, "api_version": API_VERSION, "body": body,
            "date_created": now, "date_sent": None, "date_updated": now,
            "direction": "outbound-api", "error_code": None, "error_message": None,
            "from": None if status == "scheduled" else from_,
            "messaging_service_sid": service, "num_media": str(len(media)),
            "num_segments": "0" if service and not from_ else str(count_segments(body)),
            "price": None, "price_unit": "USD", "sid": sid, "status": status,
            "subresource_uris": {"media": f"{uri}/Media.json", "feedback": f"{uri}/Feedback.json"},
            "to": to, "uri": f"{uri}.json",
            "status_callback": str(form.get("StatusCallback", "")) or None,
            "media_urls": media, "send_at": form.get("SendAt"), "requested_from": from_,
        }  # fmt: skip
        self.messages.append(message)
        if self.auto_callbacks and message["status_callback"] and status == "queued":
            task = asyncio.create_task(self._auto_callbacks(sid))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return web.json_response(self._public(message), status=201)

    def _find(self, request: web.Request) -> dict[str, Any] | None:
        return next((m for m in self.messages if m["sid"] == request.match_info["sid"]), None)

    async def fetch(self, request: web.Request) -> web.Response:
        if denied := self._authorize(request):
            return denied
        message = self._find(request)
        return web.json_response(self._public(message)) if message else self._not_found(request)

    async def update(self, request: web.Request) -> web.Response:
        if denied := self._authorize(request):
            return denied
        message = self._find(request)
        if message is None:
            return self._not_found(request)
        form = await request.post()
        if "Status" in form:
            if form["Status"] != "canceled":
                return twilio_error(400, 20001, f"Invalid Status: {form['Status']}")
            if message["status"] not in self.cancelable:
                return twilio_error(400, 30409, "This message cannot be canceled")
            message["status"] = "canceled"
        if "Body" in form:
            if form["Body"] != "" or message["status"] in ("queued", "sending", "scheduled"):
                return twilio_error(400, 20001, "Body can only be redacted to '' once sent")
            message["body"] = ""
        message["date_updated"] = rfc2822()
        return web.json_response(self._public(message))

    async def media(self, request: web.Request) -> web.Response:
        if self.media_redirect:
            raise web.HTTPTemporaryRedirect(self.media_redirect)
        return web.Response(body=PNG, content_type="image/png")

    # --- Twilio's side of the webhooks --------------------------------------------------

    async def _auto_callbacks(self, sid: str) -> None:
        for status in ("sent", "delivered"):
            await asyncio.sleep(self.callback_delay)
            if self.message(sid)["status"] == "canceled":
                return
            try:
                await self.send_status_callbacks(sid, (status,))
            except (aiohttp.ClientError, TimeoutError):
                self.callbacks.append((self.message(sid)["status_callback"], {}, 0))

    async def send_status_callbacks(
        self,
        message_sid: str,
        statuses: Iterable[str] = ("sent", "delivered"),
        error_code: str | None = None,
        auth_token: str | None = None,
    ) -> list[int]:
        """POST signed status callbacks for `message_sid` to its StatusCallback, one per
        status, updating the stored message as Twilio would. Returns the HTTP statuses."""
        message = self.message(message_sid)
        url = message["status_callback"]
        if not url:
            raise ValueError(f"message {message_sid} has no StatusCallback")
        results = []
        async with aiohttp.ClientSession() as session:
            for status in statuses:
                self._apply_status(message, status, error_code)
                params = {
                    "ApiVersion": API_VERSION, "AccountSid": message["account_sid"],
                    "SmsSid": message_sid, "SmsStatus": status, "MessageStatus": status,
                    "To": message["to"], "MessageSid": message_sid,
                    "From": message["from"] or message["requested_from"] or "",
                }  # fmt: skip
                if message["messaging_service_sid"]:
                    params["MessagingServiceSid"] = message["messaging_service_sid"]
                if status in FAILED:
                    params["ErrorCode"] = str(message["error_code"] or error_code or 30008)
                if status == "delivered":
                    params["RawDlrDoneDate"] = datetime.now(UTC).strftime("%y%m%d%H%M")
                status_code, _ = await self._post_signed(
                    session, url, params, auth_token or self.auth_token, url
                )
                self.callbacks.append((url, params, status_code))
                results.append(status_code)
        return results

    def _apply_status(self, message: dict[str, Any], status: str, error_code: str | None) -> None:
        message["status"] = status
        message["date_updated"] = rfc2822()
        if status in ("sent", "delivered") and message["date_sent"] is None:
            message["date_sent"] = message["date_updated"]
            message["from"] = message["from"] or message["requested_from"]
            message["price"] = f"-{0.0079 * int(message['num_segments'] or 1):.5f}"
        if status in FAILED:
            code = int(error_code or 30008)
            message["error_code"] = code
            message["error_message"] = ERROR_MESSAGES.get(code, "Unknown error")

    async def _post_signed(
        self, session: aiohttp.ClientSession, url: str, params: dict[str, str], token: str, sig: str
    ) -> tuple[int, str]:  # fmt: skip
        headers = {
            "X-Twilio-Signature": sign_twilio_request(token, sig, params),
            "I-Twilio-Idempotency-Token": secrets.token_hex(16),
            "User-Agent": "TwilioProxy/1.1",
        }
        async with session.post(url, data=params, headers=headers) as response:
            return response.status, await response.text()

    async def send_inbound(
        self,
        webhook_url: str,
        *,
        from_: str,
        to: str,
        body: str,
        media: Sequence[tuple[str, str]] = (),
        message_sid: str | None = None,
        opt_out_type: str | None = None,
        extra: dict[str, str] | None = None,
        signature_url: str | None = None,
    ) -> tuple[int, str]:
        """POST an inbound SMS/MMS webhook as Twilio does, signed over `signature_url or
        webhook_url`. Like Twilio's default opt-out handling, STOP words add the sender to
        `opted_out` and START words remove it. Returns (HTTP status, response text)."""
        params = inbound_sms_params(
            account_sid=self.account_sid,
            from_=from_,
            to=to,
            body=body,
            media=media,
            message_sid=message_sid,
            opt_out_type=opt_out_type,
            extra=extra,
        )
        keyword = body.strip().upper()
        if keyword in STOP_WORDS:
            self.opted_out.add(from_)
        elif keyword in START_WORDS:
            self.opted_out.discard(from_)
        self.inbound.append(params)
        async with aiohttp.ClientSession() as session:
            return await self._post_signed(
                session, webhook_url, params, self.auth_token, signature_url or webhook_url
            )
