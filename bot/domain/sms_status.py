"""An outbound SMS's statuses: the order they move in, and the stage a teammate sees.

Twilio reports ten or so statuses; a teammate on a phone needs four answers: is it still
with us (the undo window, the outbox), has Twilio taken it, did it arrive, did it fail.
Every chat platform marks the same stage for the same status, so a team with Slack and
Discord never sees one copy "waiting" and the other "sent"."""

from __future__ import annotations

from typing import Literal

Stage = Literal["waiting", "sent", "delivered", "failed", "canceled", "unknown"]

# A status never moves backwards: a late "sent" must not undo "delivered".
RANK = {
    "pending": 0,
    "accepted": 1,
    "scheduled": 1,
    "queued": 2,
    "sending": 3,
    "sent": 4,
    "unknown": 4,
    "delivered": 5,
    "read": 6,
    "partially_delivered": 5,
    "undelivered": 5,
    "failed": 5,
    "canceled": 5,
}

_STAGE: dict[str, Stage] = {
    "pending": "waiting",  # ours still: undo window or outbox
    "accepted": "sent",  # Twilio has it from here on
    "scheduled": "sent",
    "queued": "sent",
    "sending": "sent",
    "sent": "sent",
    "delivered": "delivered",
    "read": "delivered",
    "partially_delivered": "unknown",  # the lead may not have the whole text
    "failed": "failed",
    "undelivered": "failed",
    "canceled": "canceled",
    "unknown": "unknown",
}


def stage(status: str | None) -> Stage | None:
    """What a chat copy shows for `status`; None for a status that is not an outbound
    SMS's (an inbound one's "received", a note's none)."""
    return _STAGE.get(status or "")
