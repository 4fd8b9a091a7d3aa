"""Bring the database in line with the TOML directory at start-up: organizations, lines
with their routes, members with their chat identities.

The file owns what it declares (`from_file`): a member it no longer lists loses access
and a route it no longer lists is removed. Rows are kept otherwise (history points at
them), and what was added another way is not the file's to remove. A directory that is
not the start-up file's (`smsbridge config import`) is applied alike but left to chat."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.core import Core
from bot.directory_file import Directory, OrganizationConfig
from bot.domain import automation_text
from bot.domain.commands import PLAIN_SETTINGS as CHAT_SETTINGS
from storage.db import Database
from storage.models import Line, Member, MemberIdentity, Organization, Route


async def sync_directory(core: Core, directory: Directory) -> None:
    async def work(session: AsyncSession) -> None:
        orgs: dict[str, Organization] = {}
        for cfg in directory.organizations:
            org = await session.scalar(select(Organization).where(Organization.key == cfg.key))
            fresh = org is None
            if org is None:
                org = Organization(key=cfg.key)
                session.add(org)
            org.name, org.quiet_mode = cfg.name, cfg.quiet_mode
            # A setting the file does not give is left to chat (`/sms settings`).
            for key in CHAT_SETTINGS:
                if fresh or key in cfg.declared or not directory.declared:
                    setattr(org, key, getattr(cfg, key))
            org.region, org.quiet_hours_zone = cfg.region, cfg.quiet_hours_zone
            org.gsm_smart_quotes = cfg.gsm_smart_quotes
            org.automations = _automations(org, cfg, fresh or not directory.declared)
            org.admin_channel = cfg.admin_channel
            orgs[cfg.key] = org
        await session.flush()

        members = await _sync_members(session, directory, orgs)
        if directory.declared:
            await session.execute(
                update(Member)
                .where(
                    Member.from_file.is_(True),
                    Member.removed_at.is_(None),
                    Member.id.not_in([m.id for m in members.values()]),
                )
                .values(removed_at=core.now())
            )

        routes: list[int] = []
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
            for platform, channel in cfg.routes.items():
                route = await session.scalar(
                    select(Route).where(Route.line_id == line.id, Route.platform == platform)
                )
                if route is None:
                    route = Route(line_id=line.id, platform=platform)
                    session.add(route)
                route.channel, route.reply_mode = channel, cfg.reply_mode
                route.from_file = directory.declared
                await session.flush()
                routes.append(route.id)
        if directory.declared:
            await session.execute(
                delete(Route).where(Route.from_file.is_(True), Route.id.not_in(routes))
            )

    await core.run(work)


async def _sync_members(
    session: AsyncSession, directory: Directory, orgs: dict[str, Organization]
) -> dict[tuple[str, str], Member]:
    """Upsert the file's members and give each exactly the chat identities it declares;
    an account the file gives one member is taken from any other of its organization."""
    members: dict[tuple[str, str], Member] = {}
    for m in directory.members:
        org = orgs[m.organization]
        member = await session.scalar(
            select(Member).where(Member.organization_id == org.id, Member.key == m.key)
        )
        if member is None:
            member = Member(organization_id=org.id, key=m.key)
            session.add(member)
        member.name, member.role, member.notify = m.name, m.role, m.notify
        member.from_file, member.removed_at = directory.declared, None
        members[(m.organization, m.key)] = member
    await session.flush()

    wanted = {}
    for m in directory.members:
        member = members[(m.organization, m.key)]
        for platform, user_id in m.identities.items():
            wanted[(member.organization_id, platform, user_id)] = member
    file_members = {member.id for member in members.values()}
    held = await session.scalars(
        select(MemberIdentity).where(
            MemberIdentity.organization_id.in_([o.id for o in orgs.values()])
        )
    )
    kept = set()
    for identity in held:
        key = (identity.organization_id, identity.platform, identity.user_id)
        owner = wanted.get(key)
        if owner is not None and owner.id == identity.member_id:
            kept.add(key)
        elif owner is not None or identity.member_id in file_members:
            await session.delete(identity)
    await session.flush()
    for key, member in wanted.items():
        if key not in kept:
            org_id, platform, user_id = key
            session.add(
                MemberIdentity(
                    member_id=member.id, organization_id=org_id, platform=platform, user_id=user_id
                )
            )
    await session.flush()
    return members


async def open_core(settings: Settings) -> Core:
    """For a one-off command: a Core on the migrated database, in line with the TOML.
    The caller disposes of `core.db`."""
    db = Database(settings.database_url)
    await db.upgrade()
    core = Core(db, settings, chat_platforms=settings.chat_platforms())
    await sync_directory(core, settings.directory)
    return core


def _automations(org: Organization, cfg: OrganizationConfig, from_file: bool) -> dict[str, Any]:
    """The file's automation settings where it declares them (all, for an organization
    it creates or without a file); the ones set from chat are kept otherwise."""
    declared = set(cfg.declared)
    if "automations" in declared:
        declared.update(automation_text.FILE_TABLE)
    before = {} if from_file else (org.automations or {})
    return {**cfg.automations, **{k: v for k, v in before.items() if k not in declared}}
