"""Inbound MMS media, fetched from Twilio for a chat bridge to upload into a thread,
without lending the server to anyone else: a MediaUrl is fetched only when it is on
Twilio's media origin (the exact scheme, host and port of the configured Twilio API
URL), the account's credentials go only there, a redirect (Twilio sends one to its
storage) is followed only to a public host (HTTPS when Twilio's origin is), and no
loopback, private or link-local address is ever fetched but the configured origin; size
and time are bounded."""

from __future__ import annotations

import base64
import ipaddress
import logging
import socket
from typing import Literal
from urllib.parse import urljoin, urlsplit

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver

from bridges.http import read_capped
from bridges.sms import TWILIO_API, TwilioSettings

log = logging.getLogger(__name__)

TIMEOUT = aiohttp.ClientTimeout(total=30, sock_connect=10)
MAX_REDIRECTS = 3
Origin = tuple[str, str, int]
Kind = Literal["twilio", "public"]


def origin(url: str) -> Origin | None:
    """(scheme, host, port) of an http(s) URL without user info, else None."""
    try:
        parts = urlsplit(url)
        port = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname or port is None:
        return None
    if parts.username is not None or parts.password is not None:
        return None
    return parts.scheme, parts.hostname.lower(), port


def public_ip(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    return ip.is_global and not ip.is_multicast


def _ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


class MediaPolicy:
    """Which URLs may be fetched, and with which credentials."""

    def __init__(self, twilio_api_url: str) -> None:
        twilio = origin(twilio_api_url.rstrip("/"))
        if twilio is None:
            raise ValueError(f"TWILIO_API_URL is not an http(s) URL: {twilio_api_url!r}")
        self.twilio = twilio

    def classify(self, url: str) -> Kind | None:
        """The kind of URL: "twilio" for Twilio's own origin (credentials go there),
        "public" for another host fetched without them, None for anything else."""
        where = origin(url)
        if where is None:
            return None
        if where == self.twilio:
            return "twilio"
        scheme, host, _ = where
        if self.twilio[0] == "https" and scheme != "https":
            return None
        if host == "localhost" or host.endswith(".localhost"):
            return None
        if _ip_literal(host) and not public_ip(host):
            return None
        return "public"


class PublicResolver(AbstractResolver):
    """Resolves names to public addresses only (a name may point at 127.0.0.1 or at a
    cloud metadata address), checked when connecting, so a DNS answer cannot change
    between the check and the fetch. Twilio's configured host is exempt."""

    def __init__(self, trusted_host: str) -> None:
        self.trusted_host = trusted_host
        self.inner = DefaultResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        found = await self.inner.resolve(host, port, family)
        if host.lower() == self.trusted_host:
            return found
        public = [r for r in found if public_ip(r["host"])]
        if not public:
            raise OSError(f"{host} resolves to no public address")
        return public

    async def close(self) -> None:
        await self.inner.close()


class TwilioMedia:
    def __init__(self, twilio: TwilioSettings | None) -> None:
        self.twilio = twilio
        self.policy = MediaPolicy((twilio.api_url if twilio else None) or TWILIO_API)
        self._http: aiohttp.ClientSession | None = None

    @property
    def http(self) -> aiohttp.ClientSession:
        if self._http is None or self._http.closed:
            connector = aiohttp.TCPConnector(resolver=PublicResolver(self.policy.twilio[1]))
            self._http = aiohttp.ClientSession(timeout=TIMEOUT, connector=connector)
        return self._http

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()
            self._http = None

    async def fetch(self, url: str) -> bytes | None:
        """The media's bytes, or None (refused, failed, too big: shown as a link)."""
        if self.policy.classify(url) != "twilio":
            log.warning("mms media refused: not on Twilio's media origin (TWILIO_API_URL)")
            return None
        for _ in range(MAX_REDIRECTS + 1):
            kind = self.policy.classify(url)
            if kind is None:
                log.warning("mms media refused: redirected to a host that is not public")
                return None
            headers = self._credentials() if kind == "twilio" else {}
            try:
                async with self.http.get(url, headers=headers, allow_redirects=False) as resp:
                    if resp.status in (301, 302, 303, 307, 308) and "Location" in resp.headers:
                        url = urljoin(url, resp.headers["Location"])
                        continue
                    return await read_capped(resp)
            except (aiohttp.ClientError, TimeoutError, OSError, ValueError) as exc:
                log.warning("mms media fetch failed: %s", type(exc).__name__)
                return None
        log.warning("mms media refused: more than %s redirects", MAX_REDIRECTS)
        return None

    def _credentials(self) -> dict[str, str]:
        """Basic auth for accounts that protect their media URLs (harmless otherwise)."""
        if self.twilio is None:
            return {}
        pair = f"{self.twilio.account_sid}:{self.twilio.auth_token}".encode()
        return {"Authorization": "Basic " + base64.b64encode(pair).decode()}
