"""SQLAlchemy 2 models: the database is the record of every conversation.

Words follow DESIGN.md: organization, line, route, member, lead, conversation,
message (+ media), thread, delivery, processed event. `record` holds what a team sees,
`pipeline` what is on its way in or out; importing this package registers both on
`Base.metadata`.
"""

from storage.models.base import Base, UTCDateTime, utcnow
from storage.models.pipeline import (
    ChatPost,
    Delivery,
    DeliveryAttempt,
    ProcessedEvent,
    ReceivedChatEvent,
    ReceivedSms,
    ScreenedSms,
    ThreadOpening,
)
from storage.models.record import (
    AuditEntry,
    Conversation,
    Lead,
    Line,
    Media,
    Member,
    MemberIdentity,
    Message,
    Organization,
    Route,
    Snippet,
    Thread,
)

__all__ = [
    "AuditEntry",
    "Base",
    "ChatPost",
    "Conversation",
    "Delivery",
    "DeliveryAttempt",
    "Lead",
    "Line",
    "Media",
    "Member",
    "MemberIdentity",
    "Message",
    "Organization",
    "ProcessedEvent",
    "ReceivedChatEvent",
    "ReceivedSms",
    "Route",
    "ScreenedSms",
    "Snippet",
    "Thread",
    "ThreadOpening",
    "UTCDateTime",
    "utcnow",
]
