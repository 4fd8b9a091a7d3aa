"""Files both ways: pictures a teammate attaches to a thread reply (fetched from Slack with
the bot token, handed to the core to re-host for MMS) and inbound MMS media (fetched
by the SMS bridge, to upload into the thread)."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from bot.domain.mms import MMS_MAX_BYTES
from bot.plugins import FetchMedia
from bot.types import OutboundFile
from bridges.http import read_capped

log = logging.getLogger(__name__)

TIMEOUT = aiohttp.ClientTimeout(total=30)


class FileRefused(Exception):
    """A file that cannot go out; the message is for the member."""


class Files:
    def __init__(self, bot_token: str, api_url: str, fetch_media: FetchMedia) -> None:
        self.bot_token = bot_token
        # The bot token goes only to Slack's own hosts (or the API stand-in in tests).
        self.slack_hosts = {urlsplit(api_url).hostname or "slack.com"}
        self._fetch_media = fetch_media
        self._http: aiohttp.ClientSession | None = None

    @property
    def http(self) -> aiohttp.ClientSession:
        if self._http is None or self._http.closed:
            self._http = aiohttp.ClientSession(timeout=TIMEOUT)
        return self._http

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()
            self._http = None

    async def download(self, files: list[dict[str, Any]]) -> tuple[OutboundFile, ...]:
        """Files shared with a thread reply. The core enforces the MMS rules (types,
        count, total size); a file far too big is refused before we fetch it."""
        out = []
        for file in files:
            name = str(file.get("name") or file.get("title") or "file")
            size = int(file.get("size") or 0)
            if size > MMS_MAX_BYTES:
                raise FileRefused(
                    f"{name} is {size / 1048576:.1f} MB; an MMS carries at most "
                    f"{MMS_MAX_BYTES // 1048576} MB. Nothing was sent."
                )
            url = file.get("url_private_download") or file.get("url_private")
            if not url or not self._is_slack(url):
                raise FileRefused(f"{name} is not a file smsbridge can fetch from Slack.")
            data = await self._get(url, {"Authorization": f"Bearer {self.bot_token}"})
            if data is None:
                raise FileRefused(f"Could not fetch {name} from Slack. Nothing was sent.")
            mimetype = str(file.get("mimetype") or "application/octet-stream")
            out.append(OutboundFile(filename=name, content_type=mimetype, data=data))
        return tuple(out)

    async def fetch_media(self, url: str) -> bytes | None:
        """Inbound MMS media, as the SMS bridge fetches it (None: show a link)."""
        return await self._fetch_media(url)

    def _is_slack(self, url: str) -> bool:
        host = urlsplit(url).hostname or ""
        return host in self.slack_hosts or host == "slack.com" or host.endswith(".slack.com")

    async def _get(self, url: str, headers: dict[str, str]) -> bytes | None:
        try:
            async with self.http.get(url, headers=headers, allow_redirects=False) as resp:
                return await read_capped(resp)
        except (aiohttp.ClientError, TimeoutError) as exc:
            log.warning("file fetch failed: %s", type(exc).__name__)
            return None
