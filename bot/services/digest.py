"""The weekly digest: on Monday morning in the organization's time zone, last week's
report and chart go to its `reports_channel` on each chat platform. The week is claimed
on the organization row with a conditional update, so with several processes running
it is posted once."""

from __future__ import annotations

import base64
from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core import Core
from bot.delivery import queue
from bot.domain.automations import digest_week
from bot.domain.reports import as_text
from bot.services.claim import claim
from bot.services.reports import figures
from storage.models import Organization


async def send_digests(core: Core, now: datetime | None = None) -> int:
    """Queue the digest of every organization whose week is due; returns how many."""
    now = now or core.now()

    async def work(session: AsyncSession) -> int:
        sent = 0
        orgs = await session.scalars(select(Organization))
        for org in list(orgs):
            channels = {
                platform: channel
                for platform, channel in (org.automations or {}).get("reports_channel", {}).items()
                if platform in core.chat_platforms
            }
            week = digest_week(now, org.timezone)
            if not channels or week is None:
                continue
            unsent = or_(Organization.digest_week.is_(None), Organization.digest_week < week)
            if not await claim(session, Organization, org.id, unsent, digest_week=week):
                continue
            report = await figures(session, org, week - timedelta(days=7), week)
            from bot.services.chart import first_response_chart  # matplotlib: when needed

            text = as_text(report, f"Weekly report · {org.name}")
            chart = base64.b64encode(first_response_chart(report)).decode()
            for platform, channel in sorted(channels.items()):
                post_report(session, platform, channel, text, chart, now=now)
            sent += 1
        return sent

    return await core.run(work)


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
