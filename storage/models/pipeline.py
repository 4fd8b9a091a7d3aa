"""What moves between the outside and the record: inbound SMS and chat events kept
until applied, deliveries (the durable outbox) and their attempts, chat posts, thread
openings in flight and the idempotency keys of outside events."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, Id, UTCDateTime, utcnow


class ThreadOpening(Base):
    """A header card being posted: written and committed before the post, deleted with the
    thread's record. A process that takes the work over finds it and looks for that card
    in chat (adopting it) before it posts another."""

    __tablename__ = "thread_openings"
    conversation_id: Mapped[int] = mapped_column(
        Id, ForeignKey("conversations.id"), primary_key=True
    )
    platform: Mapped[str] = mapped_column(String(16), primary_key=True)
    channel: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ChatPost(Base):
    """Links a message to its copy in a chat thread (ours or the teammate's own)."""

    __tablename__ = "chat_posts"
    __table_args__ = (UniqueConstraint("platform", "channel", "post_id"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id"), index=True)
    platform: Mapped[str] = mapped_column(String(16))
    channel: Mapped[str] = mapped_column(String(64))
    post_id: Mapped[str] = mapped_column(String(64))
    # True when a teammate wrote it (their message); False when we posted it.
    authored: Mapped[bool] = mapped_column(Boolean, default=False)


class Delivery(Base):
    """A durable job: post X to chat, or send Y as SMS. Ordered per (conversation, lane)."""

    __tablename__ = "deliveries"
    __table_args__ = (
        Index("ix_deliveries_due", "status", "run_at"),
        Index("ix_deliveries_lane", "conversation_id", "lane", "status", "id"),
    )
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    kind: Mapped[str] = mapped_column(String(24))
    lane: Mapped[str] = mapped_column(String(16))  # "sms" or a chat platform name
    conversation_id: Mapped[int | None] = mapped_column(
        ForeignKey("conversations.id"), nullable=True
    )
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"), nullable=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # pending | running | done | failed | unknown | canceled
    status: Mapped[str] = mapped_column(String(10), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    run_at: Mapped[datetime] = mapped_column(default=utcnow)
    lease_until: Mapped[datetime | None] = mapped_column(nullable=True)
    worker: Mapped[str | None] = mapped_column(String(64), nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(nullable=True)


class DeliveryAttempt(Base):
    __tablename__ = "delivery_attempts"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    delivery_id: Mapped[int] = mapped_column(ForeignKey("deliveries.id"), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    outcome: Mapped[str] = mapped_column(String(10))
    detail: Mapped[str | None] = mapped_column(Text, nullable=True)


class ReceivedSms(Base):
    """An inbound SMS webhook, verified and stored before Twilio gets its answer, waiting
    to be applied (lead, conversation, message, STOP/HELP, chat deliveries) by the
    intake. Applying it deletes it in the same transaction."""

    __tablename__ = "received_sms"
    __table_args__ = (Index("ix_received_sms_lane", "line_phone", "lead_phone", "id"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    provider_sid: Mapped[str] = mapped_column(String(64), unique=True)
    line_phone: Mapped[str] = mapped_column(String(32))
    lead_phone: Mapped[str] = mapped_column(String(64))
    # body, media [[url, content type]...], opt_out_type: as Twilio sent them
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    not_before: Mapped[datetime | None] = mapped_column(nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)


class ScreenedSms(Base):
    """An SMS from a blocked or spam number: kept, counted, shown in `/sms blocked`, but
    it opens no conversation, posts nothing and triggers no automation."""

    __tablename__ = "screened_sms"
    __table_args__ = (Index("ix_screened_sms_lead", "lead_id", "id"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id"))
    line_id: Mapped[int] = mapped_column(ForeignKey("lines.id"))
    provider_sid: Mapped[str] = mapped_column(String(64), unique=True)
    body: Mapped[str] = mapped_column(Text, default="")
    media: Mapped[list[str]] = mapped_column(JSON, default=list)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)


class ReceivedChatEvent(Base):
    """A teammate's chat message as the platform sent it, kept from before the platform is
    acknowledged until the message is handled: a process that dies in between handles it
    at its next start (the platform will not send an acknowledged event again)."""

    __tablename__ = "received_chat_events"
    platform: Mapped[str] = mapped_column(String(16), primary_key=True)
    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    payload: Mapped[dict[str, Any]] = mapped_column()
    received_at: Mapped[datetime] = mapped_column(default=utcnow)


class ProcessedEvent(Base):
    """Idempotency keys of outside events (Slack event_id, Discord ids, ...)."""

    __tablename__ = "processed_events"
    source: Mapped[str] = mapped_column(String(32), primary_key=True)
    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, server_default=text("CURRENT_TIMESTAMP"))
