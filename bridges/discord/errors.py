"""Discord's REST errors turned into the core's (RetryLater, Rejected, ThreadGone) where
discord.py is called, so the chat worker decides by type: retry, give up or open a
fresh thread."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiohttp
import discord

from bot.ports import Rejected, RetryLater, ThreadGone

UNKNOWN_CHANNEL, UNKNOWN_MESSAGE, UNKNOWN_WEBHOOK = 10003, 10008, 10015
THREAD_ARCHIVED = 50083


@asynccontextmanager
async def rest_errors(
    gone: tuple[int, ...] = (UNKNOWN_CHANNEL, UNKNOWN_MESSAGE),
) -> AsyncIterator[None]:
    """Translate discord.py's errors into the core's: the worker retries, gives up, or
    opens a fresh thread. discord.py itself already waits out 429s and retries 5xx a few
    times; what reaches us here has outlasted that."""
    try:
        yield
    except discord.NotFound as exc:
        if exc.code in gone:
            raise ThreadGone(f"Discord {exc.code}: {exc.text}") from exc
        raise Rejected(f"Discord 404: {exc.text}", code=str(exc.code)) from exc
    except discord.Forbidden as exc:
        raise Rejected(f"Discord refused (403, {exc.code}): {exc.text}", str(exc.code)) from exc
    except discord.RateLimited as exc:
        raise RetryLater("Discord rate limit", after=exc.retry_after) from exc
    except discord.DiscordServerError as exc:
        raise RetryLater(f"Discord {exc.status}: {exc.text}") from exc
    except discord.HTTPException as exc:
        if exc.status == 429:
            raise RetryLater("Discord rate limit") from exc
        raise Rejected(f"Discord {exc.status} ({exc.code}): {exc.text}", str(exc.code)) from exc
    except (aiohttp.ClientError, OSError, TimeoutError) as exc:
        raise RetryLater(f"Discord unreachable: {exc!r}") from exc


@asynccontextmanager
async def unless_deleted() -> AsyncIterator[None]:
    """A change to one of our posts that someone deleted meanwhile: nothing left to do."""
    try:
        yield
    except discord.NotFound as exc:
        if exc.code != UNKNOWN_MESSAGE:
            raise
