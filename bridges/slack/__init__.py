"""Slack, on slack-bolt's AsyncApp: each conversation a thread under a header card,
thread replies out as SMS, `/sms`, buttons, shortcuts, modals and the App Home tab.

This module is what the `slack` entry point names: it reads the SLACK_* variables and
imports slack_bolt only when Slack is on (bridges/slack/plugin.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.config import ConfigError
from bot.plugins import Context, Env, Kind

if TYPE_CHECKING:
    from bridges.slack.plugin import SlackPlugin


@dataclass(frozen=True)
class SlackSettings:
    bot_token: str
    signing_secret: str | None
    app_token: str | None = None  # turns on Socket Mode
    api_url: str | None = None


class SlackBridge:
    kind = Kind.CHAT

    def read_settings(self, env: Env) -> SlackSettings | None:
        token, secret, app_token = (
            env.get("SLACK_BOT_TOKEN"),
            env.get("SLACK_SIGNING_SECRET"),
            env.get("SLACK_APP_TOKEN"),
        )
        if not (token or secret or app_token):
            return None
        if not token:
            raise ConfigError(
                "SLACK_BOT_TOKEN is required when SLACK_SIGNING_SECRET or SLACK_APP_TOKEN is set"
            )
        if not app_token and not secret:
            raise ConfigError(
                "SLACK_SIGNING_SECRET is required when SLACK_BOT_TOKEN is set "
                "(or set SLACK_APP_TOKEN for Socket Mode)"
            )
        return SlackSettings(token, secret, app_token, env.get("SLACK_API_URL"))

    def describe(self, settings: SlackSettings) -> str:
        return "on (Socket Mode)" if settings.app_token else "on (HTTP events)"

    def create(self, settings: SlackSettings, context: Context) -> SlackPlugin:
        from bridges.slack.plugin import SlackPlugin

        return SlackPlugin(settings, context)


bridge = SlackBridge()
