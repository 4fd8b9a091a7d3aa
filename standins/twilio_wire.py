"""What Twilio's side of the wire looks like, for the Twilio stand-in and the tests: sids,
dates, segment counts, request signatures, inbound webhook parameters, error bodies."""

from __future__ import annotations

import math
import re
import secrets
import struct
import zlib
from collections.abc import Sequence
from datetime import UTC, datetime
from email.utils import format_datetime

from aiohttp import web
from twilio.request_validator import RequestValidator

API_VERSION = "2010-04-01"
DEFAULT_ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
DEFAULT_AUTH_TOKEN = "standin-twilio-auth-token"
E164 = re.compile(r"^(whatsapp:)?\+[1-9]\d{1,14}$")
MAX_MEDIA = 10
MAX_BODY = 1600
STOP_WORDS = {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"}
START_WORDS = {"START", "YES", "UNSTOP"}
FAILED = {"failed", "undelivered"}
RESOURCE_FIELDS = (
    "account_sid", "api_version", "body", "date_created", "date_sent", "date_updated",
    "direction", "error_code", "error_message", "from", "messaging_service_sid", "num_media",
    "num_segments", "price", "price_unit", "sid", "status", "subresource_uris", "to", "uri",
)  # fmt: skip
ERROR_MESSAGES = {30003: "Unreachable destination handset", 30005: "Unknown destination handset",
                  30006: "Landline or unreachable carrier", 30007: "Carrier violation",
                  30008: "Unknown error"}  # fmt: skip
_GSM7 = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    "ÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM7_EXT = set("^{}\\[~]|€\f")


def _png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)  # 1x1, 8-bit RGB
    pixels = zlib.compress(b"\x00\x1e\x90\xff")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


PNG = _png()


def new_sid(prefix: str) -> str:
    return prefix + secrets.token_hex(16)


def rfc2822(when: datetime | None = None) -> str:
    """Twilio's date format: 'Thu, 24 Aug 2023 05:01:45 +0000'."""
    return format_datetime((when or datetime.now(UTC)).replace(microsecond=0))


def count_segments(body: str) -> int:
    """SMS segments as Twilio counts them: GSM-7 160/153, else UCS-2 70/67 (UTF-16 units)."""
    if all(c in _GSM7 or c in _GSM7_EXT for c in body):
        units, single, multi = sum(2 if c in _GSM7_EXT else 1 for c in body), 160, 153
    else:
        units, single, multi = len(body.encode("utf-16-le")) // 2, 70, 67
    return 1 if units <= single else math.ceil(units / multi)


def sign_twilio_request(auth_token: str, url: str, params: dict[str, str]) -> str:
    """X-Twilio-Signature for a form POST to `url` (the exact public URL Twilio calls)."""
    return RequestValidator(auth_token).compute_signature(url, params)


def _country(phone: str) -> str:
    number = phone.removeprefix("whatsapp:")
    prefixes = {"+1": "US", "+44": "GB", "+61": "AU", "+49": "DE", "+33": "FR", "+34": "ES"}
    return next((c for p, c in prefixes.items() if number.startswith(p)), "")


def inbound_sms_params(
    *,
    account_sid: str,
    from_: str,
    to: str,
    body: str,
    media: Sequence[tuple[str, str]] = (),
    message_sid: str | None = None,
    messaging_service_sid: str | None = None,
    opt_out_type: str | None = None,
    extra: dict[str, str] | None = None,
) -> dict[str, str]:
    """The form fields Twilio POSTs to a number's messaging webhook for one inbound SMS/MMS.
    `media` is a list of (url, content type)."""
    sid = message_sid or new_sid("MM" if media else "SM")
    params = {
        "ToCountry": _country(to), "ToState": "", "SmsMessageSid": sid,
        "NumMedia": str(len(media)), "ToCity": "", "FromZip": "", "SmsSid": sid,
        "FromState": "", "SmsStatus": "received", "FromCity": "", "Body": body,
        "FromCountry": _country(from_), "To": to, "ToZip": "",
        "NumSegments": str(count_segments(body)), "ReferralNumMedia": "0",
        "MessageSid": sid, "AccountSid": account_sid, "From": from_, "ApiVersion": API_VERSION,
    }  # fmt: skip
    if messaging_service_sid:
        params["MessagingServiceSid"] = messaging_service_sid
    for i, (url, content_type) in enumerate(media):
        params[f"MediaContentType{i}"] = content_type
        params[f"MediaUrl{i}"] = url
    if opt_out_type:
        params["OptOutType"] = opt_out_type
    params.update(extra or {})
    return params


def twilio_error(status: int, code: int, message: str, **headers: str) -> web.Response:
    """Twilio's REST error body: code, message, more_info, status."""
    payload = {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }
    return web.json_response(payload, status=status, headers=headers)
