"""The door of `POST /slack/events`: the signature is checked on the raw bytes before
anything reads the body, so an unsigned request is a 401 whatever it holds, and a
signed body Bolt could not parse is a 400, never a 500 from inside Bolt."""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
from collections.abc import Mapping
from typing import Any

from slack_bolt.request.internals import parse_body

from bot.warn_once import WarnOncePerMinute
from bridges.slack.shape import well_formed

log = logging.getLogger(__name__)

MAX_AGE = 5 * 60  # Slack's rule: refuse timestamps older than five minutes (replays)


class Refused(Exception):
    """A request that is not from Slack, or not something Slack sends; `status` is the
    answer (401 unsigned, 400 malformed)."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status


class Gate:
    def __init__(self, signing_secret: str, url: str) -> None:
        self.secret = signing_secret.encode()
        self.url = url
        self.warnings = WarnOncePerMinute(log)

    def check(self, body: bytes, headers: Mapping[str, str], content_type: str) -> str:
        """The body as text once it is signed by Slack and parses as Bolt parses it."""
        reason = self._unsigned(body, headers)
        if reason:
            self.warnings.warn(
                "slack",
                "slack: refused a request to %s: %s (check SLACK_SIGNING_SECRET)",
                self.url,
                reason,
            )
            raise Refused(401, "invalid Slack signature")
        try:
            text = body.decode()
            parsed: Any = parse_body(text, content_type)
        except ValueError:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
            raise Refused(400, "the body is not what Slack sends") from None
        if not isinstance(parsed, dict) or not well_formed(parsed):
            raise Refused(400, "the body is not what Slack sends")
        return text

    def _unsigned(self, body: bytes, headers: Mapping[str, str]) -> str | None:
        """Why the request is not signed by Slack, or None when it is."""
        timestamp = headers.get("X-Slack-Request-Timestamp", "")
        signature = headers.get("X-Slack-Signature", "")
        if not timestamp or not signature:
            return "no signature"
        if not timestamp.isdigit() or len(timestamp) > 12:
            return "a timestamp that is not a number"
        if abs(time.time() - int(timestamp)) > MAX_AGE:
            return "a timestamp older than five minutes (or a clock off)"
        base = b"v0:" + timestamp.encode() + b":" + body
        expected = "v0=" + hmac.new(self.secret, base, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected.encode(), signature.encode(errors="replace")):
            return "a signature that does not match"
        return None
