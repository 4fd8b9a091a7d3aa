"""`/sms …` commands and buttons, shared by every chat bridge (through bot/facade.py).

In a mirrored thread a command acts on that conversation; in a channel it acts on the
phone number it is given."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core import Core
from bot.domain.commands import HELP_TEXT, Command, CommandError
from bot.domain.phones import InvalidPhone, normalize_phone
from bot.results import Done, FileReady, Listed, Queued, Refused, Result
from bot.services import audit, blocklist, queries
from bot.services import conversations as conv_ops
from bot.services.access import (
    Denied,
    check,
    member_for,
    member_here,
    routes_for_channel,
)
from bot.services.contacts import contacts_file
from bot.services.drafts import snippet_draft
from bot.services.leads import edit_lead
from bot.services.members import member_command
from bot.services.org_settings import settings_command
from bot.services.portal import Portal
from bot.services.replies import add_note, retry_unknown
from bot.services.routing import route_command
from bot.types import Actor, ChatRef, LeadChange
from storage.models import Conversation, Lead, Line, Member, Message, Organization, Snippet

NEEDS_CONVERSATION = {
    "assign",
    "unassign",
    "close",
    "reopen",
    "optout",
    "optin",
    "note",
    "tag",
    "cancel",
    "draft",
    "name",
}


@dataclass(frozen=True)
class ReportAsked:
    """`/sms report`: the member may see it; the façade reads the figures and draws the
    chart next, outside this transaction."""

    organization_id: int
    period: str


@dataclass(frozen=True)
class DraftAsked:
    """`/sms draft`: the member may ask for one here; the façade asks the AI next."""

    conversation_id: int
    instructions: str


async def execute(
    core: Core, session: AsyncSession, actor: Actor, where: ChatRef, command: Command
) -> Result | DraftAsked | ReportAsked:
    if command.name == "help":
        return Done(HELP_TEXT)
    try:
        return await _execute(core, session, actor, where, command)
    except (Denied, CommandError) as exc:
        return Refused(str(exc))


async def _execute(
    core: Core, session: AsyncSession, actor: Actor, where: ChatRef, command: Command
) -> Result | DraftAsked | ReportAsked:
    if command.name == "route":  # may be run where no line is routed yet
        return await route_command(core, session, actor, where, command.args)
    member, conversation = await member_here(session, actor, where)
    org_id = member.organization_id
    name, args = command.name, command.args
    if name == "member":
        return await member_command(core, session, org_id, member, actor.platform, args)
    if name == "settings":
        return await settings_command(core, session, member, args["key"], args["value"])
    if name == "audit":
        check(member, "audit")
        return await audit.recent(session, org_id)

    if name in NEEDS_CONVERSATION and conversation is None:
        conversation = await _conversation_by_phone(session, where, org_id, args.get("phone"))
        if conversation is None:
            return Refused(
                f"`/sms {name}` acts on a conversation: use it inside the conversation's "
                f"thread, or give a phone number: `/sms {name} +15551234567`."
            )
    portal = Portal(core, session, conversation) if conversation is not None else None

    if portal is not None:
        if name == "assign":
            target = await conv_ops.find_member(session, org_id, args["member"])
            return await conv_ops.assign(core, portal, member, target)
        if name == "unassign":
            return await conv_ops.assign(core, portal, member, None)
        if name in ("close", "reopen"):
            return await conv_ops.set_status(
                core, portal, member, "closed" if name == "close" else "open"
            )
        if name == "optout":
            return await conv_ops.opt_out(core, portal, member)
        if name == "optin":
            return await conv_ops.opt_in(core, portal, member)
        if name == "note":
            return await add_note(core, portal, member, args["text"])
        if name == "tag":
            return await conv_ops.tag(core, portal, member, args["action"], args.get("tag", ""))
        if name == "cancel":
            return await _cancel_latest(portal, member)
        if name == "draft":
            check(member, "draft", portal.conversation)
            return DraftAsked(portal.conversation.id, args.get("instructions", ""))
        if name == "name":
            said = await edit_lead(core, session, portal, member, LeadChange(name=args["name"]))
            return Done(said, conversation_id=portal.conversation.id)

    if name == "new":
        return await _new(core, session, where, member, args["phone"], args.get("text", ""))
    if name == "search":
        items = await queries.search(session, org_id, args["query"])
        text = f"{len(items)} conversation(s) match {args['query']!r}."
        return Listed(text, tuple(items), len(items))
    if name == "inbox":
        total, items = await queries.inbox(session, org_id, args["filter"], member)
        text = f"{total} {args['filter']} conversation(s)."
        return Listed(text, tuple(items), total)
    if name == "contacts":
        exported = await contacts_file(session, member, core.now())
        return FileReady(
            f"{exported.leads} lead(s) of your organization, as CSV.",
            exported.filename,
            exported.data,
        )
    if name == "snippet":
        return await _snippet(session, org_id, member, args, conversation, where)
    if name in ("block", "unblock", "blocked"):
        return await _blocklist(core, session, member, name, args, conversation)
    if name == "report":
        check(member, "report")
        return ReportAsked(org_id, args["period"])
    return Refused(f"`/sms {name}` is not something smsbridge knows. Try `/sms help`.")


async def _blocklist(
    core: Core,
    session: AsyncSession,
    member: Member,
    name: str,
    args: dict[str, str],
    conversation: Conversation | None,
) -> Result:
    if name == "blocked":
        return Done(blocklist.describe_blocked(await blocklist.blocked_numbers(session, member)))
    phone = args.get("phone") or (conversation.lead.phone if conversation else None)
    if phone is None:
        return Refused(
            f"`/sms {name}` acts on a number: use it inside the conversation's thread, or "
            f"give the number: `/sms {name} +15551234567`."
        )
    act = blocklist.block if name == "block" else blocklist.unblock
    return Done(await act(core, session, member, phone))


async def _conversation_by_phone(
    session: AsyncSession, where: ChatRef, org_id: int, raw: str | None
) -> Conversation | None:
    if not raw:
        return None
    org = await session.get(Organization, org_id)
    try:
        phone = normalize_phone(raw, org.region if org else "US")
    except InvalidPhone as exc:
        raise Denied(str(exc)) from None
    line_ids = [r.line_id for r in await routes_for_channel(session, where)]
    return await session.scalar(
        select(Conversation)
        .join(Lead, Lead.id == Conversation.lead_id)
        .where(
            Conversation.organization_id == org_id,
            Conversation.line_id.in_(line_ids),
            Lead.phone == phone,
        )
        .order_by(Conversation.last_message_at.desc())
        .limit(1)
    )


async def _cancel_latest(portal: Portal, member: Member) -> Result:
    # Cancelling a reply is replying: a limited member only where assigned.
    check(member, "reply", portal.conversation)
    message = await portal.session.scalar(
        select(Message)
        .where(
            Message.conversation_id == portal.conversation.id,
            Message.kind == "sms",
            Message.direction == "out",
            Message.status == "pending",
        )
        .order_by(Message.id.desc())
        .limit(1)
    )
    if message is None:
        return Refused("No SMS is waiting to go out in this conversation.")
    if member.role != "admin" and message.author_id not in (None, member.id):
        return Refused("Only its author or an admin can cancel that SMS.")
    return await portal.cancel(message, f"canceled by {member.name}")


async def _new(
    core: Core, session: AsyncSession, where: ChatRef, member: Member, phone: str, text: str
) -> Result:
    routes = await routes_for_channel(session, where)
    if not routes:
        return Refused("This channel is not connected to an SMS line.")
    line = await session.get(Line, routes[0].line_id)
    assert line is not None
    return await conv_ops.start_conversation(
        core, session, line, phone, text, author=member, source="chat"
    )


async def _snippet(
    session: AsyncSession,
    org_id: int,
    member: Member,
    args: dict[str, str],
    conversation: Conversation | None,
    where: ChatRef,
) -> Result:
    action, name = args["action"], args.get("name", "")
    if action == "list":
        rows = list(
            await session.scalars(
                select(Snippet).where(Snippet.organization_id == org_id).order_by(Snippet.name)
            )
        )
        if not rows:
            return Done("No snippets yet. Add one: `/sms snippet add hours We open at 8.`")
        return Done("\n".join(f"• `{s.name}`: {s.text}" for s in rows))
    snippet = await session.scalar(
        select(Snippet).where(Snippet.organization_id == org_id, Snippet.name == name)
    )
    if action == "add":
        if member.role == "limited":
            raise Denied("Your role (limited) may not change snippets.")
        if snippet is None:
            session.add(Snippet(organization_id=org_id, name=name, text=args["text"]))
        else:
            snippet.text = args["text"]
        return Done(f"Snippet `{name}` saved.")
    if snippet is None:
        return Refused(f"No snippet called `{name}`. See `/sms snippet list`.")
    if action == "remove":
        if member.role == "limited":
            raise Denied("Your role (limited) may not change snippets.")
        await session.delete(snippet)
        return Done(f"Snippet `{name}` removed.")
    # Shown like a draft: the member sends, edits or discards it (drafts.send_draft).
    return await snippet_draft(session, org_id, conversation, member, where, name, snippet.text)


async def retry(core: Core, session: AsyncSession, actor: Actor, message_id: int) -> Result:
    """The Retry button under a failed or unknown-outcome SMS: queue it again, once."""
    message = await session.get(Message, message_id)
    if message is None:
        return Refused("That message no longer exists.")
    if (message.error_message or "").startswith("retried by"):
        return Refused(f"Already {message.error_message}.")
    try:
        portal = await Portal.of(core, session, message)
        member = await member_for(session, portal.conversation.organization_id, actor)
        result = await retry_unknown(core, portal, member, message)
    except Denied as exc:
        return Refused(str(exc))
    if isinstance(result, Queued):
        # The old copy is settled: a second click must not send a third time.
        message.status = "failed" if message.status == "unknown" else message.status
        message.error_message = f"retried by {member.name}"
    return result
