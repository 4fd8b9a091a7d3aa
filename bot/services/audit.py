"""Every admin change made from chat is recorded (who, what, when) in the same transaction
as the change, and posted to the organization's `admin_channel` on each chat platform
that has one; `/sms audit` shows the newest."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core import Core
from bot.delivery import queue
from bot.results import Done
from storage.models import AuditEntry, Member, Organization

SHOWN = 20


async def record(core: Core, session: AsyncSession, admin: Member, change: str) -> None:
    """`change` in words, as the admin was told it: "Added Pat as agent." """
    now = core.now()
    org_id = admin.organization_id
    session.add(
        AuditEntry(
            organization_id=org_id,
            actor_id=admin.id,
            actor_name=admin.name,
            change=change,
            at=now,
        )
    )
    org = await session.get(Organization, org_id)
    for platform, channel in sorted(((org.admin_channel or {}) if org else {}).items()):
        if platform in core.chat_platforms:
            payload = {"channel": channel, "text": f"🛠 {admin.name}: {change}"}
            queue.enqueue(session, queue.CHAT_POST, platform, now=now, payload=payload)


async def recent(session: AsyncSession, org_id: int) -> Done:
    entries = list(
        await session.scalars(
            select(AuditEntry)
            .where(AuditEntry.organization_id == org_id)
            .order_by(AuditEntry.id.desc())
            .limit(SHOWN)
        )
    )
    if not entries:
        return Done("No admin changes yet.")
    lines = [f"• {e.at:%Y-%m-%d %H:%M} UTC · {e.actor_name}: {e.change}" for e in entries]
    return Done("\n".join([f"The last {len(entries)} admin change(s), newest first:", *lines]))
