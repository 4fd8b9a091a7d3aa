"""Twilio: SMS and MMS both ways (bridges/sms/twilio.py).

This module is what the `twilio` entry point names: it reads the TWILIO_* variables and
imports the twilio library only when Twilio is on."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.config import ConfigError
from bot.plugins import Context, Env, Kind

if TYPE_CHECKING:
    from bridges.sms.twilio import TwilioPlugin


TWILIO_API = "https://api.twilio.com"


@dataclass(frozen=True)
class TwilioSettings:
    account_sid: str
    auth_token: str
    api_url: str | None = None  # overrides TWILIO_API


class TwilioBridge:
    kind = Kind.SMS

    def read_settings(self, env: Env) -> TwilioSettings | None:
        sid, token = env.get("TWILIO_ACCOUNT_SID"), env.get("TWILIO_AUTH_TOKEN")
        if not sid and not token:
            return None
        if not token:
            raise ConfigError("TWILIO_AUTH_TOKEN is required when TWILIO_ACCOUNT_SID is set")
        if not sid:
            raise ConfigError("TWILIO_ACCOUNT_SID is required when TWILIO_AUTH_TOKEN is set")
        return TwilioSettings(sid, token, env.get("TWILIO_API_URL"))

    def describe(self, settings: TwilioSettings) -> str:
        return "on"

    def create(self, settings: TwilioSettings, context: Context) -> TwilioPlugin:
        from bridges.sms.twilio import TwilioPlugin

        return TwilioPlugin(settings, context)


bridge = TwilioBridge()
