"""Routes from chat: an admin sends a line's conversations to the channel they are in
(`/sms route +1… here`), stops them (`off`) or lists them, without editing the TOML or
restarting. A route the file declares stays the file's."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core import Core
from bot.directory_file import CHANNEL_SUFFIX
from bot.domain.phones import InvalidPhone, normalize_phone
from bot.results import Done, Result
from bot.services import audit
from bot.services.access import Denied, check, member_for, members_of
from bot.types import Actor, ChatRef
from storage.models import Line, Route


async def route_command(
    core: Core, session: AsyncSession, actor: Actor, where: ChatRef, args: dict[str, str]
) -> Result:
    if args["action"] == "list":
        return await _list(session, actor)
    try:
        phone = normalize_phone(args["phone"])
    except InvalidPhone as exc:
        raise Denied(f"{exc}. Example: `/sms route +15551234567 here`.") from None
    line = await session.scalar(select(Line).where(Line.phone == phone))
    if line is None:
        raise Denied(f"smsbridge has no line {phone}: lines are declared in smsbridge.toml.")
    admin = await member_for(session, line.organization_id, actor)
    check(admin, "routes")
    route = next((r for r in line.routes if r.platform == where.platform), None)
    if route is not None and route.from_file:
        raise Denied(
            f"The {where.platform} route of {phone} is managed by the file: edit "
            f'`lines."{phone}".{where.platform}{CHANNEL_SUFFIX}` in smsbridge.toml '
            "(it applies at the next start)."
        )
    if args["action"] == "off":
        if route is None:
            raise Denied(f"{phone} has no {where.platform} route.")
        await session.delete(route)
        done = Done(f"{phone} is no longer routed on {where.platform}.")
        await audit.record(core, session, admin, done.text)
        return done
    if where.thread_id is not None:
        raise Denied("Route a line from the channel itself, not from inside a thread.")
    if route is None:
        route = Route(line_id=line.id, platform=where.platform, from_file=False)
        session.add(route)
    route.channel = where.channel
    done = Done(f"Conversations of {phone} ({line.label or 'no label'}) now come to this channel.")
    await audit.record(core, session, admin, f"{done.text[:-1]}: {where.platform} {where.channel}.")
    return done


async def _list(session: AsyncSession, actor: Actor) -> Result:
    orgs = [m.organization_id for m in await session.scalars(members_of(actor))]
    if not orgs:
        raise Denied("You are not a member of any team in smsbridge.")
    lines = await session.scalars(
        select(Line).where(Line.organization_id.in_(orgs)).order_by(Line.phone)
    )
    out = []
    for line in lines:
        routes = ", ".join(
            f"{r.platform} {r.channel}" + (" (file)" if r.from_file else "")
            for r in sorted(line.routes, key=lambda r: r.platform)
        )
        out.append(f"• {line.phone} {line.label}: {routes or 'not routed'}")
    return Done("\n".join([f"{len(out)} line(s):", *out]))
