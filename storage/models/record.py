"""The record: organizations, their lines, routes and members, leads, conversations,
messages and media, the chat threads that mirror them, snippets and the admin audit."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.models.base import Base, Id, utcnow


class Organization(Base):
    __tablename__ = "organizations"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    quiet_hours: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)
    # "hold": a send inside quiet hours waits until they end; "refuse": it is refused.
    quiet_mode: Mapped[str] = mapped_column(String(10), default="hold")
    help_text: Mapped[str] = mapped_column(Text, default="")
    voice: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Remind the thread when a lead has waited this long for a reply; 0: never.
    remind_after_minutes: Mapped[int] = mapped_column(Integer, default=0)
    # Region numbers typed without "+" are read in (ISO 3166 code, e.g. "GB").
    region: Mapped[str] = mapped_column(String(2), default="US", server_default="US")
    # "organization": quiet hours on the organization's clock; "lead": on the lead's.
    quiet_hours_zone: Mapped[str] = mapped_column(
        String(12), default="organization", server_default="organization"
    )
    # Curly quotes, long dashes... go out in their GSM-7 forms (cheaper segments).
    gsm_smart_quotes: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=text("false")
    )
    # Automations and report settings as the TOML (bot/directory_file.py) or chat sets them:
    # business_hours, away_message, ack_message, auto_close_after_days,
    # escalate_after_minutes, escalate_to, block_keywords, response_target_minutes,
    # reports_channel.
    automations: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Where admin changes are posted as they happen: channel by chat platform.
    admin_channel: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # The local Monday whose weekly digest went out (claimed once across processes).
    digest_week: Mapped[datetime | None] = mapped_column(nullable=True)


class Line(Base):
    __tablename__ = "lines"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    phone: Mapped[str] = mapped_column(String(20), unique=True)
    label: Mapped[str] = mapped_column(String(100), default="")
    default_assignee_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"), nullable=True)
    organization: Mapped[Organization] = relationship(lazy="joined")
    routes: Mapped[list[Route]] = relationship(lazy="selectin", back_populates="line")


class Route(Base):
    """Where a line's conversations are mirrored on one chat platform."""

    __tablename__ = "routes"
    __table_args__ = (UniqueConstraint("line_id", "platform"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    line_id: Mapped[int] = mapped_column(ForeignKey("lines.id"))
    platform: Mapped[str] = mapped_column(String(16))
    channel: Mapped[str] = mapped_column(String(64), index=True)
    # "direct": plain thread messages are replies; "explicit": only ">"-prefixed ones are.
    reply_mode: Mapped[str] = mapped_column(String(10), default="direct")
    # The TOML declares it: changed only by editing the file, removed when the file drops it.
    from_file: Mapped[bool] = mapped_column(Boolean, default=False)
    line: Mapped[Line] = relationship(back_populates="routes")


class Member(Base):
    __tablename__ = "members"
    __table_args__ = (UniqueConstraint("organization_id", "key"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    key: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(10), default="agent")
    # When a new SMS in their assigned conversation mentions them: mentions | all | none.
    notify: Mapped[str] = mapped_column(String(10), default="mentions")
    # The TOML declares it: a start whose file no longer lists it revokes it.
    from_file: Mapped[bool] = mapped_column(Boolean, default=False)
    # Set when access was revoked; the row stays, as messages and assignments point at it.
    removed_at: Mapped[datetime | None] = mapped_column(nullable=True)
    identities: Mapped[list[MemberIdentity]] = relationship(
        lazy="selectin", back_populates="member", order_by="MemberIdentity.platform"
    )

    def accounts(self) -> dict[str, str]:
        """The member's user id by platform name."""
        return {i.platform: i.user_id for i in self.identities}


class MemberIdentity(Base):
    """One chat account of a member: a user id on one platform. Within an organization
    an account is one member's, and a member has one account per platform."""

    __tablename__ = "member_identities"
    __table_args__ = (
        UniqueConstraint("organization_id", "platform", "user_id"),
        UniqueConstraint("member_id", "platform"),
        # Which organizations a chat user belongs to (App Home), across organizations.
        Index("ix_member_identities_user", "platform", "user_id"),
    )
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    platform: Mapped[str] = mapped_column(String(16))
    user_id: Mapped[str] = mapped_column(String(32))
    # The name the platform shows for the account, when known.
    display_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    member: Mapped[Member] = relationship(back_populates="identities")


class Lead(Base):
    __tablename__ = "leads"
    __table_args__ = (UniqueConstraint("organization_id", "phone"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    phone: Mapped[str] = mapped_column(String(20))
    name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    email: Mapped[str | None] = mapped_column(String(200), nullable=True)
    address: Mapped[str | None] = mapped_column(Text, nullable=True)
    company: Mapped[str | None] = mapped_column(String(200), nullable=True)
    notes: Mapped[str | None] = mapped_column(Text, nullable=True)
    # Custom fields (a CSV import's other columns): name -> text.
    fields: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    opted_out: Mapped[bool] = mapped_column(Boolean, default=False)
    opted_out_at: Mapped[datetime | None] = mapped_column(nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # "blocked" (a member blocked the number) or "spam" (its first text matched a block
    # keyword): its SMS are screened (kept in screened_sms), never mirrored or answered.
    blocked: Mapped[str | None] = mapped_column(String(8), nullable=True)
    blocked_at: Mapped[datetime | None] = mapped_column(nullable=True)
    # When the lead last got an automatic text (away message, acknowledgement).
    auto_texted_at: Mapped[datetime | None] = mapped_column(nullable=True)


class Conversation(Base):
    __tablename__ = "conversations"
    __table_args__ = (
        UniqueConstraint("line_id", "lead_id"),
        Index("ix_conversations_inbox", "organization_id", "status", "last_message_at"),
        Index("ix_conversations_assignee", "assignee_id", "status", "last_message_at"),
        # The `all` inbox and search order an organization's conversations by recency.
        Index("ix_conversations_recent", "organization_id", "last_message_at"),
        # A lead's conversations: opting out (STOP) and search by phone.
        Index("ix_conversations_lead", "lead_id"),
        # Inbox counts (App Home, `/sms inbox`) read only this index, never the table.
        Index(
            "ix_conversations_counts",
            "organization_id",
            "status",
            "assignee_id",
            "unread_count",
            "needs_response",
        ),
        # Reports: an organization's conversations by when they started / closed.
        Index("ix_conversations_created", "organization_id", "created_at"),
        Index("ix_conversations_closed", "organization_id", "closed_at"),
    )
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    line_id: Mapped[int] = mapped_column(ForeignKey("lines.id"))
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id"))
    status: Mapped[str] = mapped_column(String(10), default="open")
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"), nullable=True)
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    unread_count: Mapped[int] = mapped_column(Integer, default=0)
    needs_response: Mapped[bool] = mapped_column(Boolean, default=False)
    has_inbound: Mapped[bool] = mapped_column(Boolean, default=False)
    last_message_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # When the thread was last reminded that the lead waits (bot/services/reminders.py).
    reminded_at: Mapped[datetime | None] = mapped_column(nullable=True)
    # When the escalation members were mentioned for the current wait.
    escalated_at: Mapped[datetime | None] = mapped_column(nullable=True)
    # Report figures, kept as they happen so reports read one indexed row per
    # conversation: the lead's first SMS, the first reply by a member after it (and who),
    # the last close.
    first_inbound_at: Mapped[datetime | None] = mapped_column(nullable=True)
    first_response_at: Mapped[datetime | None] = mapped_column(nullable=True)
    first_responder_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"), nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(nullable=True)
    line: Mapped[Line] = relationship(lazy="joined")
    lead: Mapped[Lead] = relationship(lazy="joined")
    assignee: Mapped[Member | None] = relationship(lazy="joined", foreign_keys=[assignee_id])


class Message(Base):
    __tablename__ = "messages"
    __table_args__ = (Index("ix_messages_conversation", "conversation_id", "id"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id"))
    kind: Mapped[str] = mapped_column(String(8))  # sms | note | event
    direction: Mapped[str | None] = mapped_column(String(3), nullable=True)  # in | out
    body: Mapped[str] = mapped_column(Text, default="")
    # sms out: pending -> queued -> sent -> delivered | undelivered | failed | canceled | unknown
    status: Mapped[str | None] = mapped_column(String(12), nullable=True)
    provider_sid: Mapped[str | None] = mapped_column(String(64), unique=True, nullable=True)
    error_code: Mapped[str | None] = mapped_column(String(16), nullable=True)
    error_message: Mapped[str | None] = mapped_column(Text, nullable=True)
    event: Mapped[str | None] = mapped_column(String(32), nullable=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"), nullable=True)
    source: Mapped[str] = mapped_column(String(16), default="sms")
    segments: Mapped[int | None] = mapped_column(Integer, nullable=True)
    encoding: Mapped[str | None] = mapped_column(String(8), nullable=True)
    ai_assisted: Mapped[bool] = mapped_column(Boolean, default=False)
    send_after: Mapped[datetime | None] = mapped_column(nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    author: Mapped[Member | None] = relationship(lazy="joined")
    media: Mapped[list[Media]] = relationship(lazy="selectin", order_by="Media.id")


class Media(Base):
    """A file of an MMS: inbound media keeps Twilio's URL; outbound media is re-hosted
    here under an unguessable token for Twilio to fetch."""

    __tablename__ = "media"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id"), index=True)
    url: Mapped[str | None] = mapped_column(Text, nullable=True)
    content_type: Mapped[str] = mapped_column(String(100))
    filename: Mapped[str | None] = mapped_column(String(255), nullable=True)
    token: Mapped[str | None] = mapped_column(String(64), unique=True, nullable=True)
    data: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True, deferred=True)
    expires_at: Mapped[datetime | None] = mapped_column(nullable=True)


class Thread(Base):
    """The chat mirror of one conversation on one platform. A re-created thread gets a
    new row; the old one stays (active=False) so history links are kept."""

    __tablename__ = "threads"
    __table_args__ = (
        Index("ix_threads_lookup", "platform", "channel", "thread_id"),
        Index("ix_threads_conversation", "conversation_id", "platform", "active"),
    )
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id"))
    platform: Mapped[str] = mapped_column(String(16))
    workspace: Mapped[str | None] = mapped_column(String(64), nullable=True)
    channel: Mapped[str] = mapped_column(String(64))
    thread_id: Mapped[str] = mapped_column(String(64))
    header_message_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Snippet(Base):
    __tablename__ = "snippets"
    __table_args__ = (UniqueConstraint("organization_id", "name"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    name: Mapped[str] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text)


class AuditEntry(Base):
    """An admin's change (a member, a route, a setting), who made it and when: `/sms audit`
    shows the newest."""

    __tablename__ = "audit_entries"
    __table_args__ = (Index("ix_audit_entries_recent", "organization_id", "id"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    # Who: the member's name as it was (the member may be removed or renamed later).
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"), nullable=True)
    actor_name: Mapped[str] = mapped_column(String(200))
    # What, in words: "added Pat as agent".
    change: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(default=utcnow)
