"""Members from chat: admins add, re-role, remove, list and link teammates by mentioning
them, without editing the TOML or restarting. Every lookup reads the database, so a
change holds at once in every process; what the file declares stays the file's."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core import Core
from bot.directory_file import USER_SUFFIX
from bot.results import Done, Result
from bot.services import audit
from bot.services.access import Denied, check
from bot.services.conversations import find_member
from bot.services.portal import Portal
from storage.models import Conversation, Member, MemberIdentity, Message


def managed(member: Member, key: str = "") -> Denied:
    """The refusal for a change to what the TOML declares, naming the key to edit."""
    where = f"members.{member.key}" + (f".{key}" if key else "")
    return Denied(
        f"{member.name} is managed by the file: edit `{where}` in smsbridge.toml "
        "(it applies at the next start)."
    )


async def member_command(
    core: Core, session: AsyncSession, org_id: int, admin: Member, platform: str, args: dict
) -> Result:
    check(admin, "members")
    if args["action"] == "list":
        return await _list(session, org_id)
    result = await _change(core, session, org_id, admin, platform, args)
    await audit.record(core, session, admin, result.text)
    return result


async def _change(
    core: Core, session: AsyncSession, org_id: int, admin: Member, platform: str, args: dict
) -> Result:
    action = args["action"]
    if action == "add":
        return await _add(session, org_id, platform, args)
    if action == "link":
        return await _link(session, org_id, platform, args)
    target = await _target(session, org_id, platform, args["user"])
    if target.id == admin.id:
        raise Denied("You cannot change or remove yourself; ask another admin.")
    if target.from_file:
        raise managed(target, "role" if action == "role" else "")
    if action == "role":
        target.role = args["role"]
        return Done(f"{target.name} is now {target.role}.")
    return await _remove(core, session, admin, target)


async def _target(session: AsyncSession, org_id: int, platform: str, user: str) -> Member:
    member = await session.scalar(
        _by_account(org_id, platform, user).where(Member.removed_at.is_(None))
    )
    return member if member is not None else await find_member(session, org_id, user)


def _by_account(org_id: int, platform: str, user: str):  # type: ignore[no-untyped-def]
    return (
        select(Member)
        .join(MemberIdentity, MemberIdentity.member_id == Member.id)
        .where(
            MemberIdentity.organization_id == org_id,
            MemberIdentity.platform == platform,
            MemberIdentity.user_id == user,
        )
    )


async def _list(session: AsyncSession, org_id: int) -> Result:
    members = await session.scalars(
        select(Member)
        .where(Member.organization_id == org_id, Member.removed_at.is_(None))
        .order_by(Member.name)
    )
    lines = []
    for m in members:
        accounts = ", ".join(sorted(m.accounts())) or "no chat account"
        owner = " · managed by the file" if m.from_file else ""
        lines.append(f"• {m.name} (`{m.key}`) — {m.role} · {accounts}{owner}")
    return Done("\n".join([f"{len(lines)} member(s):", *lines]))


async def _add(session: AsyncSession, org_id: int, platform: str, args: dict) -> Result:
    role, user = args["role"], args["user"]
    known = await session.scalar(_by_account(org_id, platform, user))
    if known is not None and known.removed_at is None:
        raise Denied(
            f"{known.name} is already a member ({known.role}). "
            f"To change their role: `/sms member role @{known.key} {role}`."
        )
    if known is not None:  # removed before: access again, now the chat's to manage
        known.removed_at, known.role, known.from_file = None, role, False
        return Done(f"{known.name} is a member again, as {role}.")
    name = args.get("user_name") or user
    member = Member(
        organization_id=org_id,
        key=await _free_key(session, org_id, name),
        name=name,
        role=role,
        from_file=False,
    )
    session.add(member)
    await session.flush()
    _give_account(session, member, platform, args)
    return Done(f"Added {name} as {role}: they can use smsbridge now.")


async def _link(session: AsyncSession, org_id: int, platform: str, args: dict) -> Result:
    """Give an existing member (known on another platform) this platform's account."""
    user = args["user"]
    ref = args.get("member") or args.get("user_name") or ""
    if not ref:
        raise Denied("Say which member to link: `/sms member link @dana dana`.")
    member = await find_member(session, org_id, ref)
    holder = await session.scalar(_by_account(org_id, platform, user))
    if holder is not None and holder.id == member.id:
        raise Denied(f"{member.name} is already linked to that account.")
    if holder is not None:
        raise Denied(f"That account is already {holder.name}'s.")
    if member.from_file:
        raise managed(member, f"{platform}{USER_SUFFIX}")
    if member.accounts().get(platform):
        raise Denied(f"{member.name} is already linked to another {platform} account.")
    _give_account(session, member, platform, args)
    return Done(f"Linked: {member.name} is now known on {platform} too.")


def _give_account(session: AsyncSession, member: Member, platform: str, args: dict) -> None:
    """The mentioned account (`user`, named `user_name`) becomes the member's."""
    session.add(
        MemberIdentity(
            member_id=member.id,
            organization_id=member.organization_id,
            platform=platform,
            user_id=args["user"],
            display_name=args.get("user_name"),
        )
    )


async def _remove(core: Core, session: AsyncSession, admin: Member, target: Member) -> Result:
    """Revoke at once: replies still in their undo window are canceled, and their
    threads say why."""
    target.removed_at = core.now()
    waiting = await session.scalars(
        select(Message).where(Message.author_id == target.id, Message.status == "pending")
    )
    canceled = 0
    for message in list(waiting):
        conversation = await session.get(Conversation, message.conversation_id)
        assert conversation is not None
        portal = Portal(core, session, conversation)
        reason = f"{admin.name} removed {target.name} from smsbridge"
        if (await portal.cancel(message, reason)).ok:
            canceled += 1
            portal.notice(f"🚫 {target.name}'s reply was canceled, not sent: {reason}.")
    also = (
        f" ({canceled} waiting repl{'y' if canceled == 1 else 'ies'} canceled)" if canceled else ""
    )
    return Done(f"Removed {target.name}: they can no longer use smsbridge{also}.")


async def _free_key(session: AsyncSession, org_id: int, name: str) -> str:
    """A member key (as the TOML would name them) from a display name, unused so far."""
    base = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:48] or "member"
    taken = set(
        await session.scalars(
            select(Member.key).where(Member.organization_id == org_id, Member.key.like(f"{base}%"))
        )
    )
    key, n = base, 2
    while key in taken:
        key, n = f"{base}-{n}", n + 1
    return key
