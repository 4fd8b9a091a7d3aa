"""`smsbridge setup twilio`: points each configured line's "a message comes in" webhook
at this deployment's /twilio/sms through the IncomingPhoneNumbers API. Shows what it
would change first; changes it with --apply. Names the lines the account does not own."""

from __future__ import annotations

import argparse
import sys

from twilio.base.exceptions import TwilioRestException

from bot.config import Settings
from bridges.sms.online import owned_numbers, refusal
from bridges.sms.twilio import TwilioGateway


async def run(settings: Settings, args: argparse.Namespace) -> int:
    twilio = settings.bridges.get("twilio")
    if twilio is None:
        print(
            "configuration error: TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN are needed",
            file=sys.stderr,
        )
        return 2
    target = settings.public_url.rstrip("/") + "/twilio/sms"
    gateway = TwilioGateway(twilio.account_sid, twilio.auth_token, twilio.api_url)
    try:
        owned = await owned_numbers(gateway)
        changes = []
        for line in settings.directory.lines:
            number = owned.get(line.phone)
            if number is None:
                print(f"not on this Twilio account: {line.phone} (buy or port it, or fix the TOML)")
            elif number.sms_url == target and (number.sms_method or "POST") == "POST":
                print(f"already set: {line.phone} -> {target}")
            else:
                print(f"{'change' if args.apply else 'would change'}: {line.phone} "
                      f"{number.sms_url or '(none)'} -> POST {target}")  # fmt: skip
                changes.append(number)
        if args.apply:
            for number in changes:
                await gateway.client.incoming_phone_numbers(number.sid).update_async(
                    sms_url=target, sms_method="POST"
                )
            print(f"{len(changes)} number(s) updated")
        elif changes:
            print("run again with --apply to make these changes")
    except TwilioRestException as exc:
        print(f"error: {refusal(exc)}", file=sys.stderr)
        return 1
    finally:
        await gateway.close()
    return 0
