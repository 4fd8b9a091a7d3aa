"""One Portal per conversation (as in mautrix-python): it owns loading the conversation,
adding messages and events to it and queuing their chat mirrors, marking an outbound
SMS's status and canceling one that has not left, so every path does it the same way."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import lazyload

from bot.core import Core
from bot.delivery import queue
from bot.domain.segments import segment_info
from bot.results import Done, Refused
from bot.services.access import Denied
from storage.models import Conversation, Delivery, Lead, Line, Member, Message


async def lead_of(session: AsyncSession, line: Line, phone: str) -> Lead:
    """The lead with this (E.164) phone in the line's organization, added if new."""
    lead = await session.scalar(
        select(Lead).where(Lead.organization_id == line.organization_id, Lead.phone == phone)
    )
    if lead is None:
        lead = Lead(organization_id=line.organization_id, phone=phone, fields={})
        session.add(lead)
        await session.flush()
    return lead


@dataclass
class Portal:
    core: Core
    session: AsyncSession
    conversation: Conversation

    @classmethod
    async def open(
        cls, core: Core, session: AsyncSession, line: Line, lead: Lead
    ) -> tuple[Portal, bool]:
        """Find or create the conversation of this lead with this line."""
        conversation = await session.scalar(
            select(Conversation)
            .where(Conversation.line_id == line.id, Conversation.lead_id == lead.id)
            # Line and lead are in the session already: taken from it, not loaded again.
            .options(lazyload(Conversation.line), lazyload(Conversation.lead))
        )
        created = conversation is None
        if conversation is None:
            now = core.now()
            conversation = Conversation(
                organization_id=line.organization_id,
                line_id=line.id,
                lead_id=lead.id,
                status="open",
                assignee_id=line.default_assignee_id,
                tags=[],
                created_at=now,
                last_message_at=now,
            )
            session.add(conversation)
            await session.flush()
            await session.refresh(conversation)
        return cls(core, session, conversation), created

    @classmethod
    async def load(cls, core: Core, session: AsyncSession, conversation_id: int) -> Portal:
        """The conversation's portal; Denied when it no longer exists (an old button)."""
        conversation = await session.get(Conversation, conversation_id)
        if conversation is None:
            raise Denied("That conversation no longer exists: nothing was sent.")
        return cls(core, session, conversation)

    @classmethod
    async def of(cls, core: Core, session: AsyncSession, message: Message) -> Portal:
        """The portal of the conversation a message belongs to."""
        return await cls.load(core, session, message.conversation_id)

    @property
    def platforms(self) -> set[str]:
        return self.core.chat_platforms

    async def add(
        self,
        message: Message,
        *,
        authored_on: str | None = None,
        mirror: bool = True,
    ) -> Message:
        """Store a message; mirror it to chat unless told not to (a first outbound SMS
        mirrors only once Twilio accepts it)."""
        now = self.core.now()
        message.conversation_id = self.conversation.id
        message.created_at = now
        if message.kind == "sms" and message.direction == "out" and message.segments is None:
            info = segment_info(message.body)
            message.segments, message.encoding = info.segments, info.encoding
        self.session.add(message)
        if message.kind != "event":
            self.conversation.last_message_at = now
        if mirror:
            await queue.mirror_message(
                self.session,
                self.platforms,
                self.conversation,
                message,
                now=now,
                authored_on=authored_on,
            )
        else:
            await self.session.flush()
        return message

    async def changed(self, message: Message, authored_on: str, *, deleted: bool = False) -> None:
        """Its author edited, locked or deleted a reply on `authored_on`: rewrite (or take
        down) its copies on the other platforms."""
        await queue.mirror_change(
            self.session,
            self.platforms,
            self.conversation,
            message,
            now=self.core.now(),
            authored_on=authored_on,
            deleted=deleted,
        )

    async def event(self, text: str, event: str, actor: Member | None = None) -> Message:
        return await self.add(
            Message(
                kind="event",
                body=text,
                event=event,
                author_id=actor.id if actor else None,
                source="system",
            )
        )

    async def refresh_header(self) -> None:
        await queue.refresh_header(
            self.session, self.platforms, self.conversation, now=self.core.now()
        )

    async def mark(
        self,
        message: Message,
        status: str,
        *,
        error_code: str | None = None,
        error_message: str | None = None,
    ) -> None:
        """An outbound SMS's new status, shown on each chat copy of it."""
        message.status = status
        if error_code is not None:
            message.error_code = error_code
        if error_message is not None:
            message.error_message = error_message
        await queue.show_status(
            self.session, self.platforms, self.conversation, message, now=self.core.now()
        )

    async def pending_send(self, message: Message) -> Delivery | None:
        """The send of an SMS still waiting for its time (undo window, quiet hours)."""
        if message.status != "pending":
            return None
        return await self.session.scalar(
            select(Delivery).where(
                Delivery.message_id == message.id,
                Delivery.kind == queue.SMS_SEND,
                Delivery.status == "pending",
            )
        )

    async def cancel(
        self, message: Message, reason: str, *, error_message: str | None = None
    ) -> Done | Refused:
        """Stop an SMS that has not left yet; `reason` is recorded on its delivery,
        `error_message` on the message."""
        delivery = await self.pending_send(message)
        if delivery is None:
            return Refused("Too late to cancel: that SMS has already gone out.")
        delivery.status = "canceled"
        delivery.finished_at = self.core.now()
        delivery.last_error = reason
        await self.mark(message, "canceled", error_message=error_message)
        return Done(
            f"Canceled: the SMS to {self.label} was not sent.",
            conversation_id=self.conversation.id,
            message_id=message.id,
        )

    def notice(
        self,
        text: str,
        *,
        message_id: int | None = None,
        actions: list[str] | None = None,
        mention: Member | None = None,
    ) -> None:
        """A loud line in the thread; `mention`: the teammate it concerns (their phone
        buzzes), on every platform they are known on."""
        queue.notice(
            self.session,
            self.platforms,
            self.conversation,
            text,
            now=self.core.now(),
            message_id=message_id,
            actions=actions,
            mention=mention.accounts() if mention else None,
        )

    async def author_of(self, message: Message) -> Member | None:
        """The teammate who wrote an outbound message (None for the CLI, campaigns, auto
        replies)."""
        if message.author_id is None:
            return None
        return await self.session.get(Member, message.author_id)

    def mark_read(self) -> None:
        """A member acted on the conversation: it is no longer unread."""
        self.conversation.unread_count = 0

    @property
    def lead(self) -> Lead:
        return self.conversation.lead

    @property
    def label(self) -> str:
        lead = self.conversation.lead
        return f"{lead.name} ({lead.phone})" if lead.name else lead.phone
