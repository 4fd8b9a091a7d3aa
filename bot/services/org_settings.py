"""`/sms settings`: an organization's quiet hours, time zone, help text, reminder delay, AI
voice and automations (business hours, away and acknowledgement texts, auto-close,
escalation, blocked words), shown to its members and changed by its admins from chat —
one at a time by command, or all at once in a form — audited. A setting the TOML
declares is the file's: chat shows it as such and refuses to change it."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core import Core
from bot.domain import automation_text
from bot.domain.compliance import parse_quiet_hours
from bot.results import Done, Invalid, Refused, Result, SettingsForm
from bot.services import audit
from bot.services.access import Denied, check, member_here
from bot.types import Actor, ChatRef
from storage.models import Member, Organization

# In the order they are applied: quiet hours and business hours are read in the time zone.
KEYS = (
    *("timezone", "quiet_hours", "help_text", "remind_after_minutes", "voice"),
    *automation_text.KEYS,
)


async def settings_command(
    core: Core, session: AsyncSession, member: Member, key: str, value: str
) -> Result:
    org = await session.get(Organization, member.organization_id)
    assert org is not None
    declared = _declared(core, org)
    if not key:
        return Done(_shown(org, declared))
    check(member, "settings")
    if key in declared:
        table = "automations." if key in automation_text.FILE_TABLE else ""
        raise Denied(
            f"{key} is managed by the file: edit `organizations.{org.key}.{table}{key}` in "
            "smsbridge.toml (it applies at the next start)."
        )
    parsed, shown = _parse(key, value.strip(), org.timezone)
    await _hold_together(session, org, {key: parsed})
    _set(org, key, parsed)
    done = Done(f"{key} is now {shown}.")
    await audit.record(core, session, member, done.text)
    return done


async def settings_form(
    core: Core, session: AsyncSession, actor: Actor, where: ChatRef
) -> SettingsForm | Done | Refused:
    """The form for an admin; the settings as text for any other member."""
    try:
        member, _ = await member_here(session, actor, where)
    except Denied as exc:
        return Refused(str(exc))
    org = await session.get(Organization, member.organization_id)
    assert org is not None
    try:
        check(member, "settings")
    except Denied:
        return Done(_shown(org, _declared(core, org)))
    return SettingsForm(org.name, _typed(org), _declared(core, org))


async def save_settings(
    core: Core, session: AsyncSession, actor: Actor, where: ChatRef, values: dict[str, str]
) -> Done | Invalid | Refused:
    """Apply a sent form: every changed setting the file does not declare, or none when
    one of them is invalid (each error under its field)."""
    try:
        member, _ = await member_here(session, actor, where)
        check(member, "settings")
    except Denied as exc:
        return Refused(str(exc))
    org = await session.get(Organization, member.organization_id)
    assert org is not None
    before, declared = _typed(org), _declared(core, org)
    changed = [
        k for k in KEYS if k not in declared and k in values and values[k].strip() != before[k]
    ]
    # Every value is checked before any is set (quiet hours in the new time zone).
    timezone, parsed, errors = org.timezone, {}, {}
    for key in changed:
        try:
            parsed[key] = _parse(key, _from_form(key, values[key]), timezone)
        except Denied as exc:
            errors[key] = str(exc)
        else:
            timezone = parsed[key][0] if key == "timezone" else timezone
    if not errors:
        try:
            await _hold_together(session, org, {k: v for k, (v, _) in parsed.items()})
        except _Apart as exc:
            errors[exc.key] = str(exc)
    if errors:
        return Invalid(errors)
    said = []
    for key, (value, shown) in parsed.items():
        _set(org, key, value)
        said.append(f"{key} is now {shown}.")
        await audit.record(core, session, member, said[-1])
    return Done(" ".join(said) if said else "Nothing changed.")


class _Apart(Denied):
    """Settings that do not hold together; `key` is the one to fix."""

    def __init__(self, key: str, text: str) -> None:
        super().__init__(text)
        self.key = key


async def _hold_together(session: AsyncSession, org: Organization, values: dict[str, Any]) -> None:
    """Raises _Apart when the automations would not hold together with `values` set."""
    if not any(key in automation_text.KEYS for key in values):
        return
    after = {**(org.automations or {}), **values}
    members: set[str] = set()
    if after.get("escalate_to"):  # the only setting that names members
        members = set(await session.scalars(select(Member.key).where(
            Member.organization_id == org.id, Member.removed_at.is_(None))))  # fmt: skip
    if found := automation_text.problem(after, members):
        raise _Apart(*found)


def _declared(core: Core, org: Organization) -> frozenset[str]:
    declared = next(
        (o.declared for o in core.settings.directory.organizations if o.key == org.key),
        frozenset(),
    )
    # `[organizations.KEY.automations]` declares the whole table.
    if "automations" in declared:
        declared |= frozenset(automation_text.FILE_TABLE)
    return declared


def _typed(org: Organization) -> dict[str, str]:
    """Each setting as a member would type it in the form."""
    return {
        "timezone": org.timezone,
        "quiet_hours": " ".join(org.quiet_hours or []),
        "help_text": org.help_text or "",
        "remind_after_minutes": str(org.remind_after_minutes or 0),
        "voice": (org.voice or {}).get("tone") or "",
        **{k: automation_text.typed(org.automations or {}, k) for k in automation_text.KEYS},
    }


def _from_form(key: str, value: str) -> str:
    """A form's empty field means off (quiet hours) or none (the reminder)."""
    value = value.strip()
    if not value and key == "quiet_hours":
        return "off"
    if not value and key == "remind_after_minutes":
        return "0"
    if not value and key in automation_text.KEYS:
        return "off"
    return value


def _parse(key: str, value: str, timezone: str) -> tuple[Any, str]:
    """One setting from its chat text (quiet hours read in `timezone`): the value to
    store and how it is shown. Denied when invalid."""
    if key == "timezone":
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise Denied(f"{value!r} is not a time zone; use one like America/Chicago.") from None
        return value, value
    if key == "quiet_hours":
        hours = None if value.lower() == "off" else value.split()
        try:
            parse_quiet_hours(hours, timezone)
        except ValueError as exc:
            raise Denied(
                f"{exc}. Example: `/sms settings quiet_hours 21:00 08:00` or `off`."
            ) from None
        return hours, " to ".join(hours) if hours else "off"
    if key == "remind_after_minutes":
        if not value.isdigit() or int(value) > 10080:
            raise Denied("remind_after_minutes is a whole number of minutes, 0 (off) to 10080.")
        return int(value), value
    if key == "voice":
        return value, f"“{value}” (the tone of AI drafts)"
    if key in automation_text.KEYS:
        try:
            return automation_text.parse(key, value, timezone)
        except ValueError as exc:
            raise Denied(str(exc)) from None
    return value, f"“{value}”"


def _set(org: Organization, key: str, value: Any) -> None:
    if key == "voice":
        org.voice = {**(org.voice or {}), "tone": value}
    elif key in automation_text.KEYS:
        # A new dict: the JSON column is saved only when it is replaced. Off is stored as
        # the file's table leaves it (no business hours or texts at all), so an export
        # of it reads back.
        automations = {**(org.automations or {}), key: value}
        if not value and key in automation_text.ABSENT_WHEN_OFF:
            del automations[key]
        org.automations = automations
    else:
        setattr(org, key, value)


def _shown(org: Organization, declared: frozenset[str]) -> str:
    values = {
        "timezone": org.timezone,
        "quiet_hours": " to ".join(org.quiet_hours) if org.quiet_hours else "off",
        "help_text": org.help_text or "(none)",
        "remind_after_minutes": str(org.remind_after_minutes or 0),
        "voice": (org.voice or {}).get("tone") or "(default)",
        **{k: automation_text.shown(org.automations or {}, k) for k in automation_text.KEYS},
    }
    lines = [
        f"• {key}: {value}" + (" · managed by the file" if key in declared else "")
        for key, value in values.items()
    ]
    return "\n".join([f"Settings of {org.name}:", *lines])
