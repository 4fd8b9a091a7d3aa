"""What a chat run reads: the conversation as its header card shows it, where its thread
is, and the messages to post with the posts they already have.

On Core with statements built once: through the ORM (objects, identity map, eager
loads) these reads were seven statements and most of the CPU of mirroring an SMS
(bench/RESULTS.md, e2e); here they are two, bound per run."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Any

from sqlalchemy import Label, Row, Table, and_, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.views import media_view, message_view, view_of
from bot.types import ConversationView, MediaView, MemberView, MessageView, ThreadRef
from storage.models import (
    ChatPost,
    Conversation,
    Lead,
    Line,
    Media,
    Member,
    MemberIdentity,
    Message,
    Organization,
    Route,
    Thread,
)

_PLATFORM = bindparam("platform")
CONVERSATIONS, LEADS, LINES = Conversation.__table__, Lead.__table__, Line.__table__
ORGS, MEMBERS, IDENTITIES = Organization.__table__, Member.__table__, MemberIdentity.__table__
ROUTES, THREADS = Route.__table__, Thread.__table__
MESSAGES, POSTS, MEDIA = Message.__table__, ChatPost.__table__, Media.__table__


def _prefixed(table: Table, prefix: str, *names: str) -> list[Label[Any]]:
    """Columns of a joined table labelled `prefix + name`, read back through Prefixed."""
    return [table.c[name].label(prefix + name) for name in names]


# The conversation with its lead, line, organization and assignee (a row per chat
# account of the assignee), the line's route here and the active thread here.
_CONVERSATION = (
    select(
        CONVERSATIONS,
        *_prefixed(LEADS, "lead_", "phone", "name", "email", "company", "opted_out"),
        *_prefixed(LINES, "line_", "phone", "label"),
        *_prefixed(ORGS, "org_", "name", "timezone"),
        *_prefixed(MEMBERS, "assignee_", "key", "name", "role"),
        *_prefixed(IDENTITIES, "identity_", "platform", "user_id"),
        *_prefixed(ROUTES, "route_", "channel"),
        *_prefixed(
            THREADS, "thread_", "id", "workspace", "channel", "thread_id", "header_message_id"
        ),
    )
    .join(LEADS, LEADS.c.id == CONVERSATIONS.c.lead_id)
    .join(LINES, LINES.c.id == CONVERSATIONS.c.line_id)
    .join(ORGS, ORGS.c.id == CONVERSATIONS.c.organization_id)
    .outerjoin(MEMBERS, MEMBERS.c.id == CONVERSATIONS.c.assignee_id)
    .outerjoin(IDENTITIES, IDENTITIES.c.member_id == MEMBERS.c.id)
    .outerjoin(ROUTES, and_(ROUTES.c.line_id == LINES.c.id, ROUTES.c.platform == _PLATFORM))
    .outerjoin(
        THREADS,
        and_(
            THREADS.c.conversation_id == CONVERSATIONS.c.id,
            THREADS.c.platform == _PLATFORM,
            THREADS.c.active.is_(True),
        ),
    )
    .where(CONVERSATIONS.c.id == bindparam("cid"))
)

# Each message with its post here and its media: a row per (post, media) pair.
_MESSAGES = (
    select(
        MESSAGES,
        POSTS.c.post_id,
        *_prefixed(MEDIA, "media_", "id", "url", "token", "content_type", "filename"),
    )
    .outerjoin(POSTS, and_(POSTS.c.message_id == MESSAGES.c.id, POSTS.c.platform == _PLATFORM))
    .outerjoin(MEDIA, MEDIA.c.message_id == MESSAGES.c.id)
    .where(MESSAGES.c.id.in_(bindparam("ids", expanding=True)))
    .order_by(MEDIA.c.id)
)


class Prefixed:
    """The columns of one part of a joined Core row, read as attributes: `lead.phone`
    is `row.lead_phone` for Prefixed(row, "lead_")."""

    __slots__ = ("_prefix", "_row")

    def __init__(self, row: Any, prefix: str) -> None:
        self._row, self._prefix = row, prefix

    def __getattr__(self, name: str) -> Any:
        return getattr(self._row, self._prefix + name)


async def conversation(
    session: AsyncSession, platform: str, conversation_id: int | None
) -> tuple[ConversationView, str | None, ThreadRef | None] | None:
    """(the view, the route's channel here, the active thread here); None when the
    conversation is gone."""
    rows = list(
        await session.execute(_CONVERSATION, {"cid": conversation_id, "platform": platform})
    )
    if not rows:
        return None
    row = rows[0]
    view = view_of(
        row,
        Prefixed(row, "lead_"),
        Prefixed(row, "line_"),
        _assignee(rows),
        row.org_name,
        row.org_timezone,
    )
    return view, row.route_channel, _thread(platform, rows)


async def messages(
    session: AsyncSession,
    platform: str,
    ids: list[int],
    lead_display: str,
    media_url: Callable[[str], str],
) -> tuple[dict[int, MessageView], dict[int, str]]:
    """The messages by id, and the post each already has here."""
    if not ids:
        return {}, {}
    found: dict[int, Row[Any]] = {}
    media: dict[int, dict[int, MediaView]] = defaultdict(dict)
    posted: dict[int, str] = {}
    for row in await session.execute(_MESSAGES, {"ids": ids, "platform": platform}):
        found.setdefault(row.id, row)
        if row.post_id is not None:
            posted[row.id] = row.post_id
        if row.media_id is not None:
            m = Prefixed(row, "media_")
            media[row.id][m.id] = media_view(m.url, m.token, m.content_type, m.filename, media_url)
    author_ids = {row.author_id for row in found.values() if row.author_id}
    authors: dict[int | None, Member] = {}
    if author_ids:  # replies typed in chat; an inbound SMS has none
        members = await session.scalars(select(Member).where(Member.id.in_(author_ids)))
        authors = {m.id: m for m in members}
    views = {
        mid: message_view(
            row, lead_display, media=tuple(media[mid].values()), author=authors.get(row.author_id)
        )
        for mid, row in found.items()
    }
    return views, posted


def _assignee(rows: list[Row[Any]]) -> MemberView | None:
    first = rows[0]
    if first.assignee_id is None:
        return None
    accounts = {r.identity_platform: r.identity_user_id for r in rows if r.identity_platform}
    return MemberView(
        first.assignee_id,
        first.assignee_key,
        first.assignee_name,
        first.assignee_role,
        dict(sorted(accounts.items())),
    )


def _thread(platform: str, rows: list[Row[Any]]) -> ThreadRef | None:
    """The active thread here (the latest, were there ever two)."""
    row = max(rows, key=lambda r: r.thread_id or 0)
    if row.thread_id is None:
        return None
    t = Prefixed(row, "thread_")
    return ThreadRef(platform, t.channel, t.thread_id, t.header_message_id, t.workspace)
