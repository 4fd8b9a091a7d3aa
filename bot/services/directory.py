"""Bring the database in line with the TOML directory at start-up: organizations, lines
with their routes, members. Rows the file no longer names are kept (history points at
them) but routes the file drops are removed."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Directory
from bot.core import Core
from storage.models import Line, Member, Organization, Route


async def sync_directory(core: Core, directory: Directory) -> None:
    async def work(session: AsyncSession) -> None:
        orgs: dict[str, Organization] = {}
        for cfg in directory.organizations:
            org = await session.scalar(select(Organization).where(Organization.key == cfg.key))
            if org is None:
                org = Organization(key=cfg.key)
                session.add(org)
            org.name, org.timezone, org.help_text = cfg.name, cfg.timezone, cfg.help_text
            org.quiet_hours, org.quiet_mode, org.voice = cfg.quiet_hours, cfg.quiet_mode, cfg.voice
            org.remind_after_minutes = cfg.remind_after_minutes
            org.region, org.quiet_hours_zone = cfg.region, cfg.quiet_hours_zone
            org.gsm_smart_quotes = cfg.gsm_smart_quotes
            org.automations = cfg.automations
            orgs[cfg.key] = org
        await session.flush()

        members: dict[tuple[str, str], Member] = {}
        for m in directory.members:
            org = orgs[m.organization]
            member = await session.scalar(
                select(Member).where(Member.organization_id == org.id, Member.key == m.key)
            )
            if member is None:
                member = Member(organization_id=org.id, key=m.key)
                session.add(member)
            member.name, member.role = m.name, m.role
            member.slack_user, member.discord_user = m.slack_user, m.discord_user
            member.notify = m.notify
            members[(m.organization, m.key)] = member
        await session.flush()

        for cfg in directory.lines:
            org = orgs[cfg.organization]
            line = await session.scalar(select(Line).where(Line.phone == cfg.phone))
            if line is None:
                line = Line(phone=cfg.phone, organization_id=org.id)
                session.add(line)
            line.organization_id, line.label = org.id, cfg.label
            assignee = members.get((cfg.organization, cfg.default_assignee or ""))
            line.default_assignee_id = assignee.id if assignee else None
            await session.flush()
            wanted = {"slack": cfg.slack_channel, "discord": cfg.discord_channel}
            for platform, channel in wanted.items():
                route = await session.scalar(
                    select(Route).where(Route.line_id == line.id, Route.platform == platform)
                )
                if channel is None:
                    if route is not None:
                        await session.execute(delete(Route).where(Route.id == route.id))
                    continue
                if route is None:
                    route = Route(line_id=line.id, platform=platform)
                    session.add(route)
                route.channel, route.reply_mode = channel, cfg.reply_mode

    await core.run(work)
