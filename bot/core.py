"""The core context every service and worker shares: database, settings, clock, the
signal that wakes the delivery workers after a commit, and this process's worker for
deliveries claimed in the transaction that queued them."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Protocol, TypeVar

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.ports import Drafter
from storage.db import Database
from storage.models import Delivery, utcnow

T = TypeVar("T")

# session.info keys. AFTER_COMMIT: callables to run once the transaction committed.
# HANDED: what it queued went to this process's worker (Runner.adopt), so unless it
# also queued something else (bot.delivery.queue.QUEUED) no worker needs waking.
AFTER_COMMIT = "smsbridge.after_commit"
HANDED = "smsbridge.handed"
QUEUED = "smsbridge.queued"


class Runner(Protocol):
    """This process's delivery worker, as a transaction that queues deliveries sees it:
    rows it writes already claimed (`claimed_values`) are run by `adopt` after the
    commit, with no claim statement and no wake-up of their own."""

    def room(self, lane: str) -> int:
        """How many more batches of `lane` it would start now (0: not a lane it runs)."""
        ...

    def claimed_values(self, now: datetime) -> dict[str, object]:
        """Columns of a delivery row claimed by this worker at `now`."""
        ...

    def adopt(self, batches: list[list[Delivery]]) -> None: ...


class Core:
    def __init__(
        self,
        db: Database,
        settings: Settings,
        *,
        chat_platforms: set[str] | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.db = db
        self.settings = settings
        # Only platforms that are on get chat deliveries; an off platform would pile them up.
        self.chat_platforms = set(chat_platforms or ())
        self.clock = clock
        # The AI model behind drafts; None when OPENAI_API_KEY is not set.
        self.drafter: Drafter | None = None
        # Set after a commit that queued work; the delivery worker's loop waits on it.
        self.work = asyncio.Event()
        # This process's delivery worker, while it runs.
        self.runner: Runner | None = None

    def now(self) -> datetime:
        return self.clock()

    def wake(self) -> None:
        """Tell the workers there is new work. Call after the commit, never before."""
        self.work.set()

    @property
    def status_callback_url(self) -> str:
        return f"{self.settings.public_url}/twilio/status"

    def media_url(self, token: str) -> str:
        return f"{self.settings.public_url}/media/{token}"

    async def run(self, work: Callable[[AsyncSession], Awaitable[T]], *, retries: int = 3) -> T:
        """Run `work` in one transaction; after the commit, run its AFTER_COMMIT callbacks
        and wake the workers (unless all it queued was handed to this process's worker).
        A unique-key race with a concurrent twin (same webhook twice, same new lead) is
        retried: the second run sees the twin's rows and takes the duplicate path."""
        for attempt in range(retries):
            try:
                async with self.db.session() as session, session.begin():
                    result = await work(session)
                for callback in session.info.get(AFTER_COMMIT, ()):
                    callback()
                if not session.info.get(HANDED) or session.info.get(QUEUED):
                    self.wake()
                return result
            except IntegrityError:
                if attempt == retries - 1:
                    raise
        raise AssertionError("unreachable")
