"""Slack's part of `smsbridge check --online`: the bot token passes auth.test and the bot
is a member of every routed channel (so it can post there and read its replies)."""

from __future__ import annotations

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.config import Settings
from bot.ops.online import Check

SLACK_API = "https://slack.com/api/"


async def check(settings: Settings) -> list[Check]:
    slack = settings.bridges.get("slack")
    if slack is None:
        return []
    client = AsyncWebClient(token=slack.bot_token, base_url=slack.api_url or SLACK_API)
    try:
        auth = await client.auth_test()
    except SlackApiError as exc:
        error = exc.response.get("error")
        return [Check("slack", False, f"SLACK_BOT_TOKEN refused by Slack: {error}")]
    except (aiohttp.ClientError, OSError) as exc:
        return [Check("slack", False, f"cannot reach Slack (SLACK_API_URL): {exc}")]
    results = [Check("slack", True, f"bot {auth.get('user')} in workspace {auth.get('team')}")]
    channels = settings.directory.channels("slack")
    for channel in channels:
        # conversations.history needs only the scope replies already need, and answers
        # not_in_channel where the bot could not post either.
        try:
            await client.conversations_history(channel=channel, limit=1)
        except SlackApiError as exc:
            error = exc.response.get("error")
            detail = (
                "the bot is not in it: /invite @smsbridge there"
                if error == "not_in_channel"
                else f"cannot read it: {error}"
            )
            results.append(Check(f"slack {channel}", False, detail))
        else:
            results.append(Check(f"slack {channel}", True, "the bot is a member"))
    return results
