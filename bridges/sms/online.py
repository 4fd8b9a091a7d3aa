"""Twilio's part of `smsbridge check --online` and `smsbridge setup twilio`: the account
answers with these credentials, and every configured line is one of its numbers."""

from __future__ import annotations

from typing import Any

from twilio.base.exceptions import TwilioRestException

from bot.config import Settings
from bot.ops.online import Check
from bridges.sms.twilio import TwilioGateway


async def owned_numbers(gateway: TwilioGateway) -> dict[str, Any]:
    """The account's IncomingPhoneNumbers by E.164 number."""
    numbers = await gateway.client.incoming_phone_numbers.list_async()
    return {str(n.phone_number): n for n in numbers}


def refusal(exc: TwilioRestException) -> str:
    if exc.status == 401:
        return "TWILIO_ACCOUNT_SID / TWILIO_AUTH_TOKEN refused by Twilio (HTTP 401)"
    return f"Twilio answered HTTP {exc.status}: {exc.msg}"


async def check(settings: Settings) -> list[Check]:
    twilio = settings.bridges.get("twilio")
    if twilio is None:
        return []
    gateway = TwilioGateway(twilio.account_sid, twilio.auth_token, twilio.api_url)
    try:
        account = await gateway.client.api.v2010.accounts(twilio.account_sid).fetch_async()
        owned = await owned_numbers(gateway)
    except TwilioRestException as exc:
        return [Check("twilio", False, refusal(exc))]
    except OSError as exc:
        return [Check("twilio", False, f"cannot reach Twilio (TWILIO_API_URL): {exc}")]
    finally:
        await gateway.close()
    results = [Check("twilio", True, f"account {account.friendly_name!r} ({account.status})")]
    missing = [line.phone for line in settings.directory.lines if line.phone not in owned]
    if missing:
        results.append(
            Check("twilio lines", False, f"not numbers of this account: {', '.join(missing)}")
        )
    elif settings.directory.lines:
        results.append(Check("twilio lines", True, f"{len(owned)} number(s), every line owned"))
    return results
