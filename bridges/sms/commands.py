"""`smsbridge sms-in`: post an inbound SMS webhook signed as Twilio signs it, to try a
running server (or a deployment behind a proxy) without a phone.

Contributed to the `smsbridge` command by the `sms-in` entry point; the twilio library
is imported only when it runs."""

from __future__ import annotations

import argparse
import asyncio
import secrets
import sys

from bot.config import ConfigError, load_settings
from bot.domain.phones import InvalidPhone, normalize_phone
from bot.plugins import EXIT_REFUSED, Command
from bridges.sms import TwilioSettings


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--from", dest="phone", required=True, help="the lead's phone number")
    parser.add_argument("--to", dest="line", required=True, help="the line, E.164")
    parser.add_argument("--url", help="where to post (default: SMSBRIDGE_PUBLIC_URL)")
    parser.add_argument("text")


def run(args: argparse.Namespace) -> int:
    settings = load_settings()
    twilio = settings.bridges.get("twilio")
    if not isinstance(twilio, TwilioSettings):
        raise ConfigError("TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN are needed to sign the webhook")
    try:
        from_phone, to_phone = normalize_phone(args.phone), normalize_phone(args.line)
    except InvalidPhone as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_REFUSED
    sid = "SM" + secrets.token_hex(16)
    params = {
        "MessageSid": sid,
        "SmsMessageSid": sid,
        "SmsSid": sid,
        "AccountSid": twilio.account_sid,
        "From": from_phone,
        "To": to_phone,
        "Body": args.text,
        "NumMedia": "0",
        "NumSegments": "1",
        "SmsStatus": "received",
        "ApiVersion": "2010-04-01",
    }
    target = args.url.rstrip("/") + "/twilio/sms" if args.url else None
    from bridges.sms.twilio import post_signed_inbound  # here: `smsbridge --help` stays light

    status, body = asyncio.run(
        post_signed_inbound(settings.public_url, twilio.auth_token, params, target=target)
    )
    print(f"{status} {body.strip()[:200]}")
    return 0 if status == 200 else EXIT_REFUSED


sms_in = Command(
    help="post a signed inbound SMS webhook to a server (as Twilio would)",
    configure=configure,
    run=run,
)
