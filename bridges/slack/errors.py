"""Slack's Web API answers turned into the core's errors (RetryLater, Rejected,
ThreadGone), so the chat worker decides by type: retry after Slack's Retry-After, give
up, or open a fresh thread."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from bot.delivery.pacing import Pacer
from bot.ports import Rejected, RetryLater, ThreadGone

# Errors that mean the thread (or its channel) is no longer there to post into.
THREAD_GONE = frozenset(
    {"thread_not_found", "message_not_found", "channel_not_found", "is_archived"}
)
CHANNEL_GONE = frozenset({"channel_not_found", "is_archived"})


async def web_call(
    pacer: Pacer,
    method: Callable[..., Awaitable[AsyncSlackResponse]],
    gone: frozenset[str],
    **kwargs: Any,
) -> AsyncSlackResponse:
    """One Web API call with Slack's answers turned into the core's exceptions."""
    try:
        return await method(**kwargs)
    except SlackApiError as exc:
        status = exc.response.status_code
        error = str(exc.response.get("error") or f"http_{status}")
        if status == 429:
            after = retry_after(exc.response.headers)
            if kwargs.get("channel"):
                pacer.hold(str(kwargs["channel"]), after)
            raise RetryLater(f"Slack rate limit ({error})", after=after) from None
        if status >= 500 or error in ("fatal_error", "internal_error", "service_unavailable"):
            raise RetryLater(f"Slack is having trouble ({error})") from None
        if error in gone:
            raise ThreadGone(error) from None
        raise Rejected(f"Slack refused: {error}", code=error) from None
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise RetryLater(f"Slack unreachable: {type(exc).__name__}") from None


def retry_after(headers: Any) -> float:
    value = (headers or {}).get("Retry-After") or (headers or {}).get("retry-after")
    if isinstance(value, list):
        value = value[0] if value else None
    try:
        return max(float(value), 0.0)
    except (TypeError, ValueError):
        return 1.0
