"""What the inbox automations decide, as pure functions of a few facts, so the rules
("away at most once per lead per 12 h", "ack only a lead's first SMS ever", "never to a
keyword, a blocked or an opted-out number") are tested without a database.

The services gather the facts, ask here, and claim the decision in the database so two
processes never act twice on it.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.domain.hours import BusinessHours, is_open

__all__ = [
    "AWAY_WINDOW",
    "DIGEST_AT",
    "AutoText",
    "Automations",
    "Inbound",
    "automatic_text",
    "digest_week",
    "mention_assignee",
    "spam_keyword",
]

AWAY_WINDOW = timedelta(hours=12)
# The weekly digest goes out on Monday from this local time on.
DIGEST_AT = time(8, 0)
NOTIFY_MODES = ("mentions", "all", "none")


class AutoText(enum.StrEnum):
    AWAY = "away"
    ACK = "ack"


@dataclass(frozen=True)
class Automations:
    """An organization's automation settings (TOML `[organizations.KEY.automations]`)."""

    business_hours: BusinessHours | None = None
    away_message: str = ""
    ack_message: str = ""
    auto_close_after_days: int = 0
    escalate_after_minutes: int = 0
    escalate_to: tuple[str, ...] = ()


@dataclass(frozen=True)
class Inbound:
    """The facts about one inbound SMS that the automatic texts depend on."""

    at: datetime
    keyword: bool  # STOP, START, HELP...: the carrier's business, never ours to answer
    blocked: bool
    opted_out: bool
    first_ever: bool  # the lead never texted this organization before
    last_auto_at: datetime | None  # when the lead last got an automatic text


def automatic_text(settings: Automations, sms: Inbound) -> AutoText | None:
    """Which automatic text answers this SMS, if any: the away message outside business
    hours (not again within AWAY_WINDOW of the last automatic text), else the
    acknowledgement for a lead's first SMS ever."""
    if sms.keyword or sms.blocked or sms.opted_out:
        return None
    if sms.last_auto_at is not None and sms.at - sms.last_auto_at < AWAY_WINDOW:
        return None
    if settings.away_message and not is_open(settings.business_hours, sms.at):
        return AutoText.AWAY
    if settings.ack_message and sms.first_ever:
        return AutoText.ACK
    return None


def spam_keyword(body: str, keywords: tuple[str, ...] | list[str]) -> str | None:
    """The first of `keywords` the text contains as whole words, any case and spacing
    ("Loan  APPROVED!" matches "loan approved"; "cryptography" does not match "crypto")."""
    text = " ".join(body.lower().split())
    for keyword in keywords:
        words = keyword.lower().split()
        if not words:
            continue
        pattern = r"\b" + r"\s+".join(re.escape(w) for w in words) + r"\b"
        if re.search(pattern, text):
            return keyword
    return None


def mention_assignee(notify: str, *, already_watching: bool) -> bool:
    """Whether a new SMS in a member's assigned conversation mentions them: `all` always,
    `none` never, `mentions` only when the thread is not already theirs to watch (they
    have not written in it, so their chat app would not tell them)."""
    if notify == "all":
        return True
    if notify == "none":
        return False
    return not already_watching


def digest_week(now: datetime, timezone: str) -> datetime | None:
    """The local Monday (midnight, aware) whose weekly digest is due at `now`, or None
    before Monday DIGEST_AT of the current week. A digest is sent once per such Monday."""
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware (UTC)")
    local = now.astimezone(ZoneInfo(timezone))
    monday = (local - timedelta(days=local.weekday())).date()
    if local.weekday() == 0 and local.time() < DIGEST_AT:
        return None
    return datetime.combine(monday, time(0), tzinfo=ZoneInfo(timezone))
