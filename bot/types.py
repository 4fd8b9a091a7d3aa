"""The core's own types. Bridges translate outside payloads into these and back."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from bot.domain.localtime import local_time_label


@dataclass(frozen=True)
class MediaRef:
    url: str
    content_type: str


@dataclass(frozen=True)
class InboundSms:
    provider_sid: str
    from_phone: str
    to_phone: str
    body: str
    media: tuple[MediaRef, ...] = ()
    opt_out_type: str | None = None


@dataclass(frozen=True)
class StatusUpdate:
    provider_sid: str
    status: str
    error_code: str | None = None
    error_message: str | None = None
    to_phone: str | None = None
    from_phone: str | None = None


@dataclass(frozen=True)
class Actor:
    """Somebody acting from a chat platform (or the CLI, platform "cli")."""

    platform: str
    user_id: str
    display_name: str | None = None


@dataclass(frozen=True)
class ChatRef:
    """A place in chat: a channel, optionally a thread in it and a post in that."""

    platform: str
    channel: str
    thread_id: str | None = None
    post_id: str | None = None
    workspace: str | None = None


@dataclass(frozen=True)
class OutboundFile:
    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class ChatReply:
    """A teammate's message in a mirrored thread."""

    actor: Actor
    where: ChatRef
    text: str
    event_key: str
    files: tuple[OutboundFile, ...] = ()
    # When it was typed, for a message read back from chat after downtime (None: now).
    typed_at: datetime | None = None


@dataclass(frozen=True)
class MemberView:
    id: int
    key: str
    name: str
    role: str
    # The member's chat accounts: user id by platform name.
    identities: dict[str, str] = field(default_factory=dict)

    def identity(self, platform: str) -> str | None:
        """The member's user id on `platform` (to mention them), if known there."""
        return self.identities.get(platform)


@dataclass(frozen=True)
class ConversationView:
    """Everything a header card shows."""

    id: int
    organization: str
    lead_id: int
    lead_phone: str
    lead_name: str | None
    line_phone: str
    line_label: str
    status: str  # open | closed
    state: str  # Open | Closed | Outbound only | Needs response
    assignee: MemberView | None
    tags: tuple[str, ...]
    opted_out: bool
    unread_count: int
    last_message_at: datetime
    # The last message's text, for lists (filled by the inbox and search queries).
    preview: str = ""
    lead_email: str | None = None
    lead_company: str | None = None
    # The lead's IANA time zone from their number; None when it cannot be told.
    lead_zone: str | None = None

    @property
    def lead_display(self) -> str:
        return self.lead_name or self.lead_phone

    def lead_time(self, now: datetime | None = None) -> str | None:
        """ "9:41 PM for them" (the lead's wall clock at `now`, default the present);
        None when their number does not tell their time zone."""
        label = local_time_label(self.lead_zone, now or datetime.now(UTC))
        return f"{label} for them" if label else None

    @property
    def initials(self) -> str:
        if self.lead_name:
            parts = [p for p in self.lead_name.split() if p[:1].isalnum()]
            return "".join(p[0] for p in parts[:2]).upper() or "#"
        return self.lead_phone[-2:]


@dataclass(frozen=True)
class MediaView:
    url: str
    content_type: str
    filename: str | None = None


@dataclass(frozen=True)
class MessageView:
    """One message as chat shows it."""

    id: int
    conversation_id: int
    kind: str  # sms | note | event
    direction: str | None
    body: str
    status: str | None
    error: str | None
    author: MemberView | None
    lead_display: str
    media: tuple[MediaView, ...]
    segments: int | None
    encoding: str | None
    ai_assisted: bool
    event: str | None
    source: str
    created_at: datetime


@dataclass(frozen=True)
class ThreadRef:
    platform: str
    channel: str
    thread_id: str
    header_post_id: str | None = None
    workspace: str | None = None


@dataclass(frozen=True)
class LeadChange:
    """New values for a lead's profile; None leaves a field as it is, "" clears it.
    `fields` are merged into the custom fields (a "" value removes that field)."""

    name: str | None = None
    email: str | None = None
    company: str | None = None
    notes: str | None = None
    fields: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class LeadProfile:
    """What the "Edit lead" form shows and edits."""

    conversation_id: int
    phone: str
    name: str | None
    email: str | None
    company: str | None
    notes: str | None
    fields: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ContactsFile:
    """The organization's contacts as a CSV file, for the member who asked."""

    filename: str
    data: bytes
    leads: int
