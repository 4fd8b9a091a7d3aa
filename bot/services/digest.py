"""The weekly digest: on Monday morning in the organization's time zone, last week's
report and chart go to its `reports_channel` on each chat platform. The week is claimed
on the organization row with a conditional update, so with several processes running
it is posted once."""

from __future__ import annotations

import asyncio
import base64
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core import Core
from bot.delivery import queue
from bot.domain.automations import digest_week
from bot.domain.reports import Figures, as_text
from bot.services.claim import claim
from bot.services.reports import figures
from storage.models import Organization


@dataclass(frozen=True)
class _Due:
    organization_id: int
    week: datetime
    channels: dict[str, str]  # platform -> channel
    text: str
    figures: Figures


async def send_digests(core: Core, now: datetime | None = None) -> int:
    """Queue the digest of every organization whose week is due; returns how many.

    The figures are read and the chart drawn outside any write transaction (drawing takes
    a moment; SQLite would hold every writer meanwhile); the week is then claimed and the
    posts queued together. A process that lost the race drew a chart for nothing, once."""
    now = now or core.now()
    due: list[_Due] = []
    async with core.db.session() as session:
        for org in await session.scalars(select(Organization)):
            channels = {
                platform: channel
                for platform, channel in (org.automations or {}).get("reports_channel", {}).items()
                if platform in core.chat_platforms
            }
            week = digest_week(now, org.timezone)
            if channels and week is not None and not _sent(org, week):
                report = await figures(session, org, week - timedelta(days=7), week)
                text = as_text(report, f"Weekly report · {org.name}")
                due.append(_Due(org.id, week, channels, text, report))
    sent = 0
    for digest in due:
        from bot.services.chart import first_response_chart  # matplotlib: when needed

        png = await asyncio.to_thread(first_response_chart, digest.figures)
        chart = base64.b64encode(png).decode()
        sent += await core.run(partial(_queue_posts, digest=digest, chart=chart, now=now))
    return sent


async def _queue_posts(session: AsyncSession, *, digest: _Due, chart: str, now: datetime) -> int:
    week = digest.week
    unsent = or_(Organization.digest_week.is_(None), Organization.digest_week < week)
    if not await claim(session, Organization, digest.organization_id, unsent, digest_week=week):
        return 0
    for platform, channel in sorted(digest.channels.items()):
        post_report(session, platform, channel, digest.text, chart, now=now)
    return 1


def _sent(org: Organization, week: datetime) -> bool:
    return org.digest_week is not None and org.digest_week >= week


def post_report(
    session: AsyncSession, platform: str, channel: str, text: str, chart_b64: str, *, now: datetime
) -> None:
    """A report with its chart, posted in a channel (not a thread) by the chat worker."""
    queue.enqueue(
        session,
        queue.CHAT_REPORT,
        platform,
        now=now,
        payload={"channel": channel, "text": text, "png": chart_b64, "filename": "report.png"},
    )
