"""The one door bridges use into the core. Each method is one thing a person (or an outside
system) did, runs in its own transaction, and answers with a typed result from
bot/results.py; a database that cannot take the request raises `Unavailable`. Bridges
import this, bot/results.py, bot/types.py, bot/ports.py and bot/domain/, never storage/.

A bridge parses its platform's payload into the core's types, calls a method here, and
renders the answer; it decides nothing."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.core import Core
from bot.domain.commands import Command, CommandError, parse_command
from bot.domain.reports import Figures
from bot.metrics import CATCHUP_MESSAGES, UNMAPPED_MESSAGES
from bot.results import (
    Done,
    Drafted,
    Home,
    Invalid,
    Noted,
    Queued,
    Refused,
    Reported,
    Result,
    SettingsForm,
    Unavailable,
)
from bot.services import (
    chat_events,
    commands,
    drafts,
    inbound,
    leads,
    org_settings,
    queries,
    recovery,
    reports,
)
from bot.services.access import (
    conversation_for_thread,
    first_time,
    mark_done,
    routed_channels,
    was_done,
)
from bot.services.intake import Accepted, Intake
from bot.services.recovery import ThreadToRead
from bot.services.views import active_thread
from bot.types import (
    Actor,
    ChatRef,
    ChatReply,
    InboundSms,
    LeadChange,
    LeadProfile,
    StatusUpdate,
    ThreadRef,
)

T = TypeVar("T")

DRAFTING = "✨ Drafting a reply… only you will see it."
DRAFT_DISCARDED = "Draft discarded; nothing was sent."
ALREADY_DONE = (
    "This was done already (a second click, or the same request again); nothing more was sent."
)

# Told what is happening while a slow step (the AI) runs.
Progress = Callable[[str], Awaitable[None]]


class Facade:
    def __init__(self, core: Core, intake: Intake | None = None) -> None:
        self.core = core
        self.intake = intake

    @property
    def settings(self) -> Settings:
        return self.core.settings

    async def _run(self, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
        try:
            return await self.core.run(work)
        except SQLAlchemyError as exc:
            raise Unavailable(f"the database could not take it: {exc}") from exc

    # ---- what teammates do in a mirrored thread ------------------------------------

    async def thread_message(self, reply: ChatReply) -> Result | None:
        """A human message in a thread: `Queued` (a reply, goes out as SMS), `Noted` (a
        note) or `Refused` (nothing sent). None: not a mirrored thread, or seen before."""
        return await self._run(lambda s: chat_events.thread_message(self.core, s, reply))

    async def message_edited(self, where: ChatRef, new_text: str) -> Result | None:
        """An edit of the teammate's own post (`where.post_id`): inside the undo window
        `Done` (the SMS will say the new text) or `Noted` (edited into a note)."""
        return await self._run(lambda s: chat_events.message_edited(self.core, s, where, new_text))

    async def message_deleted(self, where: ChatRef) -> Result | None:
        """A deleted post: inside the undo window its SMS is canceled (`Done`)."""
        return await self._run(lambda s: chat_events.message_deleted(self.core, s, where))

    async def lock_reaction(self, actor: Actor, where: ChatRef) -> Result | None:
        """🔒 on one's own reply inside the undo window: `Noted`, the SMS is not sent."""
        return await self._run(lambda s: chat_events.lock_reaction(self.core, s, actor, where))

    # ---- commands, buttons and drafts ----------------------------------------------

    async def command(
        self,
        actor: Actor,
        where: ChatRef,
        command: str | Command,
        *,
        progress: Progress | None = None,
        once: str | None = None,
    ) -> Result:
        """`/sms <text>` (or a button's Command). `draft` asks the AI and answers
        `Drafted`; `progress` is told DRAFTING first, as the AI may take seconds.
        `once`: the platform's id of this request (a slash command's trigger): a replay
        of it is refused and changes nothing."""
        if isinstance(command, str):
            try:
                command = parse_command(command)
            except CommandError as exc:
                return Refused(str(exc))
        parsed = command
        result = await self._run(
            self._once(actor, once, lambda s: commands.execute(self.core, s, actor, where, parsed))
        )
        if isinstance(result, commands.ReportAsked):
            return await self.report(result.organization_id, result.period)
        if isinstance(result, commands.DraftAsked):
            if progress is not None:
                await progress(DRAFTING)
            return await self.request_draft(
                actor, where, result.instructions, conversation_id=result.conversation_id
            )
        return result

    async def report(self, organization_id: int, period: str) -> Reported:
        """The figures of `today`, `week` or `month` and their chart (drawn off the event
        loop: matplotlib takes a moment)."""

        async def work(session: AsyncSession) -> tuple[str, Figures]:
            return await reports.period_report(session, organization_id, period, self.core.now())

        text, figures = await self._run(work)
        from bot.services.chart import first_response_chart  # matplotlib: when needed

        chart = await asyncio.to_thread(first_response_chart, figures)
        return Reported(text, chart)

    async def request_draft(
        self,
        actor: Actor,
        where: ChatRef,
        instructions: str = "",
        *,
        conversation_id: int | None = None,
    ) -> Drafted | Refused:
        """A draft of the next reply for `actor`'s eyes only (the conversation of the
        thread `where`, or `conversation_id`). Never sends anything."""
        try:
            return await drafts.request_draft(
                self.core, actor, where, instructions, conversation_id=conversation_id
            )
        except SQLAlchemyError as exc:
            raise Unavailable(f"the database could not take it: {exc}") from exc

    async def send_draft(
        self,
        actor: Actor,
        where: ChatRef,
        conversation_id: int,
        text: str,
        *,
        ai: bool,
        once: str | None = None,
    ) -> Queued | Refused:
        """Send (from the draft, or its edit box after Edit): the text, as it stands now,
        goes out like any reply (undo window, opt-out, quiet hours, permissions), with
        `actor` recorded as its author and approver. `once`: the draft's id, so a double
        click, a retry or a replay (or Send, then the edit box's Send) sends once."""
        return await self._run(
            self._once(
                actor,
                once,
                lambda s: drafts.send_draft(
                    self.core, s, actor, where, conversation_id, text, ai_assisted=ai
                ),
            )
        )

    @staticmethod
    def _once(
        actor: Actor, key: str | None, work: Callable[[AsyncSession], Awaitable[T]]
    ) -> Callable[[AsyncSession], Awaitable[T | Refused]]:
        """`work`, unless the request `key` names was done before. The key is recorded
        with what the work changed (same transaction); a refusal records nothing, so the
        member may fix the cause and try again."""

        async def guarded(session: AsyncSession) -> T | Refused:
            if key is None:
                return await work(session)
            if await was_done(session, actor.platform, key):
                return Refused(ALREADY_DONE)
            result = await work(session)
            if not isinstance(result, Refused):
                await mark_done(session, actor.platform, key)
            return result

        return guarded

    @staticmethod
    def discard_draft() -> Done:
        """Discard: nothing happens but the draft going away."""
        return Done(DRAFT_DISCARDED)

    async def retry(self, actor: Actor, message_id: int) -> Result:
        """The Retry button under a failed or unknown SMS: `Queued` once; later clicks
        are refused."""
        return await self._run(lambda s: commands.retry(self.core, s, actor, message_id))

    # ---- the lead's profile ------------------------------------------------------------

    async def settings_form(self, actor: Actor, where: ChatRef) -> SettingsForm | Done | Refused:
        """`/sms settings` with nothing after it: the form for an admin (`SettingsForm`),
        the settings as text (`Done`) for any other member."""
        return await self._run(lambda s: org_settings.settings_form(self.core, s, actor, where))

    async def save_settings(
        self, actor: Actor, where: ChatRef, values: dict[str, str]
    ) -> Done | Invalid | Refused:
        """A sent settings form: `Invalid` (errors by field) changes nothing."""
        return await self._run(
            lambda s: org_settings.save_settings(self.core, s, actor, where, values)
        )

    async def lead_form(self, actor: Actor, conversation_id: int) -> LeadProfile | Refused:
        """The "Edit lead" form's current values (or why `actor` may not edit them)."""
        return await self._run(lambda s: leads.lead_form(self.core, s, actor, conversation_id))

    async def edit_lead(
        self, actor: Actor, conversation_id: int, change: LeadChange
    ) -> Done | Refused:
        """The "Edit lead" form sent: `Done` (an event in the thread says what changed,
        the cards are refreshed) or `Refused` (a bad email, no permission)."""
        return await self._run(
            lambda s: leads.submit_lead_form(self.core, s, actor, conversation_id, change)
        )

    # ---- what bridges look up --------------------------------------------------------

    async def home(self, actor: Actor, *, limit: int = 3) -> list[Home]:
        """The inbox at a glance of every organization `actor` is a member of."""
        return await self._run(lambda s: queries.home(s, actor, limit=limit))

    async def may_share_files(self, actor: Actor, where: ChatRef) -> Done | Refused | None:
        """Before fetching the files of a thread message: None when the thread mirrors no
        conversation (not ours), `Refused` when the author may not write there."""
        return await self._run(lambda s: chat_events.may_share_files(s, actor, where))

    # ---- nothing lost between chat and the database (bot/services/recovery.py) -----

    async def hold_chat_event(self, platform: str, key: str, payload: Any) -> None:
        """Keep a teammate's message event before the platform is acknowledged."""
        await self._run(lambda s: recovery.hold(s, self.core, platform, key, payload))

    async def release_chat_event(self, platform: str, key: str) -> None:
        """The kept event is handled (whatever became of it)."""
        await self._run(lambda s: recovery.release(s, platform, key))

    async def held_chat_events(self, platform: str) -> list[tuple[str, Any]]:
        """Kept events a process died before handling: (key, payload), oldest first."""
        return await self._run(lambda s: recovery.held(s, platform))

    async def threads_to_read(self, platform: str) -> list[ThreadToRead]:
        """Threads to read back after downtime (active in SMSBRIDGE_CATCHUP_HOURS)."""
        hours = self.settings.catchup_hours
        return await self._run(lambda s: recovery.threads_to_read(s, self.core, platform, hours))

    async def caught_up(self, reply: ChatReply) -> Result | None:
        """A message read back after downtime (`reply.typed_at` set): the thread message
        path, where a reply older than the undo window comes back as a `Drafted` with
        `typed_while_down` (offer it to its author: Send now / Discard)."""
        result = await self.thread_message(reply)
        outcome = {Noted: "note", Queued: "reply", Drafted: "offered"}.get(type(result), "other")
        CATCHUP_MESSAGES.labels(reply.where.platform, outcome).inc()
        return result

    def unmapped_message(self, platform: str) -> None:
        """Count a teammate's message in a thread of ours that maps to no conversation."""
        UNMAPPED_MESSAGES.labels(platform).inc()

    async def mirrored(self, where: ChatRef) -> bool:
        """Whether a thread mirrors a conversation (its current thread or an older one)."""
        return await self._run(lambda s: conversation_for_thread(s, where)) is not None

    async def routed_channels(self, platform: str) -> frozenset[str]:
        """The channels lines are routed to on a platform now (admins change them from
        chat, in any process)."""
        return await self._run(lambda s: routed_channels(s, platform))

    async def live_thread(self, platform: str, conversation_id: int) -> ThreadRef | None:
        """The thread a conversation is mirrored to now on a platform, if any."""
        return await self._run(lambda s: active_thread(s, platform, conversation_id))

    async def first_time(self, platform: str, key: str) -> bool:
        """Record an outside event id; False when it was seen before (a platform retry)."""
        return await self._run(lambda s: first_time(s, platform, key))

    # ---- the SMS provider's webhooks ---------------------------------------------------

    async def sms_received(self, sms: InboundSms) -> Accepted:
        """An inbound SMS, verified: "stored" (committed; applied right after, in order
        per lead and line), "duplicate" or "unknown_line"."""
        if self.intake is None:
            raise RuntimeError("this process takes no inbound SMS (no intake)")
        return await self.intake.accept(sms)

    async def sms_status(self, update: StatusUpdate) -> Done | Refused:
        """A delivery status callback: `Done` (applied or unchanged) or `Refused` (an
        unknown message or status; retrying would not help)."""
        return await self._run(lambda s: inbound.apply_status(self.core, s, update))
