"""The lead's local time, read from their phone number, so a team sees "9:41 PM for
them" before texting and quiet hours can follow the lead's night instead of the team's.

Pure. phonenumbers knows the time zones of a number's area (one for +1 415, dozens for a
toll-free or non-geographic number). One zone is the lead's; several are ambiguous, and
then only the organization's own zone is taken, when it is one of them (a UK team texting
a UK mobile); otherwise the lead's time is unknown rather than guessed.
"""

from __future__ import annotations

import functools
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from phonenumbers import NumberParseException
from phonenumbers import timezone as number_zones

__all__ = ["QUIET_HOURS_ZONES", "lead_time_zone", "local_time_label", "quiet_hours_zone"]

QUIET_HOURS_ZONES = ("organization", "lead")
_UNKNOWN = "Etc/Unknown"


@functools.lru_cache(maxsize=4096)
def _candidates(e164: str) -> tuple[str, ...]:
    try:
        number = phonenumbers.parse(e164, None)
    except NumberParseException:
        return ()
    zones = number_zones.time_zones_for_number(number)
    if zones == (_UNKNOWN,):
        # Mobiles often have no area: the country's zones (one for most countries).
        zones = number_zones.time_zones_for_geographical_number(number)
    return tuple(z for z in zones if z != _UNKNOWN and _known(z))


def _known(zone: str) -> bool:
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def lead_time_zone(phone: str, organization_zone: str | None = None) -> str | None:
    """The IANA zone of the lead with this E.164 number, or None when it cannot be told.

    A number whose area spans several zones gets ``organization_zone`` if that is one of
    them, else None."""
    zones = _candidates(phone)
    if len(zones) == 1:
        return zones[0]
    if organization_zone in zones:
        return organization_zone
    return None


def quiet_hours_zone(mode: str, lead_phone: str, organization_zone: str) -> str:
    """The zone an organization's quiet hours are read in for this lead.

    ``mode`` "lead" uses the lead's zone when the number tells it, and falls back to the
    organization's zone otherwise (never to "no quiet hours")."""
    if mode == "lead":
        return lead_time_zone(lead_phone, organization_zone) or organization_zone
    return organization_zone


def local_time_label(zone: str | None, now: datetime) -> str | None:
    """ "9:41 PM" on the lead's wall clock at the aware instant ``now``; None without a
    zone."""
    if zone is None:
        return None
    local = now.astimezone(ZoneInfo(zone))
    return f"{local.hour % 12 or 12}:{local.minute:02d} {'AM' if local.hour < 12 else 'PM'}"
