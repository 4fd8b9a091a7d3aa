"""How the Slack stand-in refuses a call (Slack's `{"ok": false, "error": code}` and
429 with Retry-After) and reads the arguments that arrive as form strings."""

from __future__ import annotations

import json
from typing import Any


class SlackError(Exception):
    """An API error, answered as HTTP 200 `{"ok": false, "error": code}`."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


class RateLimited(Exception):
    """Answered as HTTP 429 with `Retry-After` (whole seconds, at least 1)."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(retry_after)
        self.retry_after = retry_after


def json_arg(value: Any, error: str = "invalid_arguments") -> Any:
    """Form bodies carry JSON arguments (blocks, view, files...) as strings."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            raise SlackError(error) from None
    return value


def truthy(value: Any) -> bool:
    return value in (True, 1, "1", "true", "True")
