"""`/sms settings`: an organization's quiet hours, time zone, help text, reminder delay and
AI voice, shown to its members and changed by its admins from chat, audited. A setting
the TOML declares is the file's: chat shows it as such and refuses to change it."""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core import Core
from bot.domain.compliance import parse_quiet_hours
from bot.results import Done, Result
from bot.services import audit
from bot.services.access import Denied, check
from storage.models import Member, Organization


async def settings_command(
    core: Core, session: AsyncSession, member: Member, key: str, value: str
) -> Result:
    org = await session.get(Organization, member.organization_id)
    assert org is not None
    declared = next(
        (o.declared for o in core.settings.directory.organizations if o.key == org.key),
        frozenset(),
    )
    if not key:
        return Done(_shown(org, declared))
    check(member, "settings")
    if key in declared:
        raise Denied(
            f"{key} is managed by the file: edit `organizations.{org.key}.{key}` in "
            "smsbridge.toml (it applies at the next start)."
        )
    shown = _apply(org, key, value.strip())
    done = Done(f"{key} is now {shown}.")
    await audit.record(core, session, member, done.text)
    return done


def _apply(org: Organization, key: str, value: str) -> str:
    """Set one setting from its chat text; returns it as shown. Denied when invalid."""
    if key == "timezone":
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise Denied(f"{value!r} is not a time zone; use one like America/Chicago.") from None
        org.timezone = value
        return value
    if key == "quiet_hours":
        hours = None if value.lower() == "off" else value.split()
        try:
            parse_quiet_hours(hours, org.timezone)
        except ValueError as exc:
            raise Denied(
                f"{exc}. Example: `/sms settings quiet_hours 21:00 08:00` or `off`."
            ) from None
        org.quiet_hours = hours
        return " to ".join(hours) if hours else "off"
    if key == "remind_after_minutes":
        if not value.isdigit() or int(value) > 10080:
            raise Denied("remind_after_minutes is a whole number of minutes, 0 (off) to 10080.")
        org.remind_after_minutes = int(value)
        return value
    if key == "voice":
        org.voice = {**(org.voice or {}), "tone": value}
        return f"“{value}” (the tone of AI drafts)"
    org.help_text = value
    return f"“{value}”"


def _shown(org: Organization, declared: frozenset[str]) -> str:
    values = {
        "timezone": org.timezone,
        "quiet_hours": " to ".join(org.quiet_hours) if org.quiet_hours else "off",
        "help_text": org.help_text or "(none)",
        "remind_after_minutes": str(org.remind_after_minutes or 0),
        "voice": (org.voice or {}).get("tone") or "(default)",
    }
    lines = [
        f"• {key}: {value}" + (" · managed by the file" if key in declared else "")
        for key, value in values.items()
    ]
    return "\n".join([f"Settings of {org.name}:", *lines])
