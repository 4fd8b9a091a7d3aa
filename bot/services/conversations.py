"""Changing a conversation's state: assign, close, reopen, opt out/in, tags, start."""

from __future__ import annotations

import re

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core import Core
from bot.domain.phones import InvalidPhone, normalize_phone
from bot.results import Done, Queued
from bot.services.access import Denied, check
from bot.services.inbound import opt_out_lead
from bot.services.portal import Portal, lead_of
from bot.services.replies import ReplyOptions, queue_sms
from bot.types import OutboundFile
from storage.models import Line, Member, MemberIdentity

MENTION = re.compile(r"^<?@?!?([A-Za-z0-9_.\-]+)(?:\|[^>]*)?>?$")


async def find_member(session: AsyncSession, organization_id: int, ref: str) -> Member:
    """A teammate by platform user id, member key or name (case-insensitive)."""
    match = MENTION.match(ref.strip())
    key = match.group(1) if match else ref.strip()
    account = select(MemberIdentity.member_id).where(
        MemberIdentity.organization_id == organization_id, MemberIdentity.user_id == key
    )
    active = (Member.organization_id == organization_id, Member.removed_at.is_(None))
    member = await session.scalar(
        select(Member)
        .where(*active, or_(Member.id.in_(account), Member.key == key.lower()))
        .limit(1)
    )
    if member is None:
        candidates = await session.scalars(select(Member).where(*active))
        for candidate in candidates:
            if candidate.name.lower() == key.lower():
                return candidate
        raise Denied(f"No teammate called {ref!r} in this team. Try `/sms assign @name`.")
    return member


async def assign(core: Core, portal: Portal, actor: Member, target: Member | None) -> Done:
    check(actor, "assign", None)
    conv = portal.conversation
    if target is not None and target.organization_id != conv.organization_id:
        raise Denied("That person is not on this team.")
    if conv.assignee_id == (target.id if target else None):
        who = target.name if target else "nobody"
        return Done(f"Already assigned to {who}.", conversation_id=conv.id)
    conv.assignee_id = target.id if target else None
    conv.assignee = target
    if target:
        await portal.event(
            f"{actor.name} assigned this conversation to {target.name}", "assigned", actor
        )
    else:
        await portal.event(f"{actor.name} unassigned this conversation", "unassigned", actor)
    portal.mark_read()
    await portal.refresh_header()
    text = f"Assigned to {target.name}." if target else "Unassigned."
    return Done(text, conversation_id=conv.id)


async def set_status(core: Core, portal: Portal, actor: Member, status: str) -> Done:
    check(actor, "close", portal.conversation)
    conv = portal.conversation
    if conv.status == status:
        return Done(f"Already {status}.", conversation_id=conv.id)
    conv.status = status
    if status == "closed":
        conv.needs_response = False
        conv.closed_at = core.now()
        await portal.event(f"{actor.name} closed this conversation", "closed", actor)
    else:
        await portal.event(f"{actor.name} reopened this conversation", "reopened", actor)
    portal.mark_read()
    await portal.refresh_header()
    return Done(f"Conversation {status}.", conversation_id=conv.id)


async def opt_out(core: Core, portal: Portal, actor: Member) -> Done:
    check(actor, "optout", portal.conversation)
    if portal.lead.opted_out:
        return Done(f"{portal.label} is already opted out.")
    await opt_out_lead(core, portal.session, portal.lead, f"{actor.name} opted this lead out")
    return Done(
        f"{portal.label} is opted out; nothing will be sent to them.",
        conversation_id=portal.conversation.id,
    )


async def opt_in(core: Core, portal: Portal, actor: Member) -> Done:
    check(actor, "optin", portal.conversation)
    lead = portal.lead
    if not lead.opted_out:
        return Done(f"{portal.label} is not opted out.")
    lead.opted_out = False
    lead.opted_out_at = None
    await portal.event(
        f"{actor.name} opted this lead back in (only with the lead's consent)", "opted_in", actor
    )
    await portal.refresh_header()
    return Done(f"{portal.label} is opted back in.", conversation_id=portal.conversation.id)


async def tag(core: Core, portal: Portal, actor: Member, action: str, name: str) -> Done:
    conv = portal.conversation
    tags = list(conv.tags or [])
    if action == "list":
        return Done("Tags: " + (", ".join(tags) or "none"), conversation_id=conv.id)
    check(actor, "tag", conv)
    if action == "add" and name not in tags:
        tags.append(name)
        await portal.event(f"{actor.name} tagged this {name}", "tagged", actor)
    elif action == "remove" and name in tags:
        tags.remove(name)
        await portal.event(f"{actor.name} removed the tag {name}", "untagged", actor)
    else:
        return Done("Tags unchanged: " + (", ".join(tags) or "none"))
    conv.tags = tags
    await portal.refresh_header()
    return Done("Tags: " + (", ".join(tags) or "none"), conversation_id=conv.id)


async def start_conversation(
    core: Core,
    session: AsyncSession,
    line: Line,
    raw_phone: str,
    text: str,
    *,
    author: Member | None,
    source: str,
    files: tuple[OutboundFile, ...] = (),
) -> Queued | Done:
    """`/sms new` and `smsbridge send`: the conversation shows in chat once Twilio accepts
    the first SMS."""
    if author is not None:
        check(author, "new")
    try:
        phone = normalize_phone(raw_phone, line.organization.region)
    except InvalidPhone as exc:
        raise Denied(str(exc)) from None
    lead = await lead_of(session, line, phone)
    portal, created = await Portal.open(core, session, line, lead)
    if not text.strip() and not files:
        if created:
            raise Denied("Write the first message too: `/sms new +15551234567 Hi, it's Dana`.")
        return Done(
            f"{portal.label} already has a conversation.",
            conversation_id=portal.conversation.id,
        )
    if author is not None and author.role == "limited" and created:
        portal.conversation.assignee_id = author.id
    options = ReplyOptions(source=source, undo=False)
    return await queue_sms(
        core, portal, text, author=author, options=options, files=files, mirror=not created
    )
