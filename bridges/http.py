"""HTTP helpers bridges share; nothing in here knows an outside system."""

from __future__ import annotations

import logging

import aiohttp

log = logging.getLogger(__name__)

MEDIA_LIMIT = 10 * 1024 * 1024  # more than any carrier delivers as MMS


async def read_capped(resp: aiohttp.ClientResponse) -> bytes | None:
    """A 200 answer's body up to MEDIA_LIMIT; None otherwise (logged)."""
    if resp.status != 200:
        log.warning("file fetch answered %s", resp.status)
        return None
    if (resp.content_length or 0) > MEDIA_LIMIT:
        log.warning("file fetch refused: over %s bytes", MEDIA_LIMIT)
        return None
    data = bytearray()
    async for chunk in resp.content.iter_chunked(65536):
        data += chunk
        if len(data) > MEDIA_LIMIT:
            log.warning("file fetch stopped: over %s bytes", MEDIA_LIMIT)
            return None
    return bytes(data)
