"""Reports: the figures of bot/domain/reports.py read from the database with indexed
queries (an organization's conversations by start and by close), the chart of first
response by day, and the CSV export of messages for a spreadsheet."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Float, cast, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from bot.domain.reports import Figures, as_text, compute
from storage.models import Conversation, Lead, Line, Member, Message, Organization

PERIODS = {"today": None, "week": timedelta(days=7), "month": timedelta(days=30)}
_SINCE = re.compile(r"(\d{1,4})([hdw])")


def parse_since(text: str, now: datetime) -> datetime:
    """`7d`, `24h`, `2w` before now; ValueError saying how to write it."""
    m = _SINCE.fullmatch(text.strip().lower())
    if m is None:
        raise ValueError(f"{text!r} is not a period: write 24h, 7d or 4w.")
    unit = {"h": timedelta(hours=1), "d": timedelta(days=1), "w": timedelta(weeks=1)}[m[2]]
    return now - int(m[1]) * unit


def period(word: str, now: datetime, timezone: str) -> tuple[datetime, datetime]:
    """`today` (since local midnight), `week` (7 days), `month` (30 days) up to now."""
    if word not in PERIODS:
        raise ValueError(f"{word!r} is not a period: use today, week or month.")
    span = PERIODS[word]
    if span is not None:
        return now - span, now
    local = now.astimezone(ZoneInfo(timezone))
    return local.replace(hour=0, minute=0, second=0, microsecond=0).astimezone(UTC), now


async def period_report(
    session: AsyncSession, organization_id: int, period_word: str, now: datetime
) -> tuple[str, Figures]:
    """`/sms report [today|week|month]`: the organization's figures and their text."""
    org = await session.get(Organization, organization_id)
    assert org is not None
    since, until = period(period_word, now, org.timezone)
    report = await figures(session, org, since, until)
    return as_text(report, f"Report · {org.name} · {period_word}"), report


def _epoch(column: ColumnElement[Any], dialect: str) -> ColumnElement[Any]:
    """Seconds since 1970 of a timestamp column, computed by the database: numbers come
    back, not timestamps to parse (that parsing was most of a report's time)."""
    if dialect == "sqlite":
        # To whole seconds: julianday's float carries ~1 ms of noise.
        return func.round((func.julianday(column) - 2440587.5) * 86400.0)
    return cast(func.extract("epoch", column), Float)  # numeric (Decimal) otherwise


async def figures(
    session: AsyncSession, org: Organization, since: datetime, until: datetime
) -> Figures:
    """One range scan of ix_conversations_created (conversations started in the period)
    and one of ix_conversations_closed (closed in it); durations come out of SQL."""
    conn = await session.connection()  # Core rows: no ORM objects for 100,000 rows
    epoch = partial(_epoch, dialect=conn.dialect.name)
    responder = aliased(Member)
    started = await conn.execute(
        select(
            func.coalesce(func.nullif(Line.label, ""), Line.phone),
            epoch(Conversation.first_inbound_at),
            (epoch(Conversation.first_response_at) - epoch(Conversation.first_inbound_at)) / 60,
            responder.name,
        )
        .join(Line, Line.id == Conversation.line_id)
        .outerjoin(responder, responder.id == Conversation.first_responder_id)
        .where(
            Conversation.organization_id == org.id,
            Conversation.created_at >= since,
            Conversation.created_at < until,
        )
    )
    rows = started.all()
    closed = await conn.execute(
        select((epoch(Conversation.closed_at) - epoch(Conversation.created_at)) / 60).where(
            Conversation.organization_id == org.id,
            Conversation.closed_at >= since,
            Conversation.closed_at < until,
        )
    )
    target = int((org.automations or {}).get("response_target_minutes", 0))
    return compute(
        rows,  # type: ignore[arg-type]
        [float(m) for m in closed.scalars()],
        since=since,
        until=until,
        timezone=org.timezone,
        target_minutes=target,
    )


EXPORT_COLUMNS = [
    "time_utc",
    "organization",
    "line",
    "lead_phone",
    "lead_name",
    "conversation",
    "kind",
    "direction",
    "author",
    "source",
    "status",
    "body",
]


async def export_messages(
    session: AsyncSession, since: datetime, organization: str | None = None
) -> AsyncIterator[str]:
    """CSV lines (header first) of every message since `since`, oldest first per
    conversation. Conversations are found by recency (indexed), then their messages."""
    out = io.StringIO()
    writer = csv.writer(out)

    def line(values: list[object]) -> str:
        out.seek(0)
        out.truncate()
        writer.writerow(values)
        return out.getvalue()

    yield line(EXPORT_COLUMNS)
    author = aliased(Member)
    query = (
        select(
            Message.created_at,
            Organization.key,
            Line.phone,
            Lead.phone,
            Lead.name,
            Conversation.id,
            Message.kind,
            Message.direction,
            author.name,
            Message.source,
            Message.status,
            Message.body,
        )
        .select_from(Conversation)
        .join(Organization, Organization.id == Conversation.organization_id)
        .join(Line, Line.id == Conversation.line_id)
        .join(Lead, Lead.id == Conversation.lead_id)
        .join(Message, Message.conversation_id == Conversation.id)
        .outerjoin(author, author.id == Message.author_id)
        .where(Conversation.last_message_at >= since, Message.created_at >= since)
        .order_by(Conversation.id, Message.id)
    )
    if organization is not None:
        query = query.where(Organization.key == organization)
    result = await session.stream(query)
    async for row in result:
        values = list(row)
        values[0] = values[0].isoformat()
        yield line(["" if v is None else v for v in values])
