"""The demo's automations part: the team turns on business hours and an away message, a
new lead texts at night (on the server's clock) and gets it once, then the week's report
is printed as `/sms report` and `smsbridge report` show it, with its chart."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import update

from bot.app import SmsBridge
from bot.domain.reports import as_text
from bot.services.chart import first_response_chart
from bot.services.reports import figures
from storage.models import Organization

AWAY = "Thanks! We're closed now and will text you back at 8am."
NIGHT_LEAD = "+14155550188"


async def show_automations(
    app: SmsBridge, twilio: Any, webhook: str, line: str, say: Callable[[str, str], None]
) -> bool:
    core = app.core
    assert core is not None
    async with app.db.session() as s, s.begin():
        await s.execute(
            update(Organization).values(
                automations={
                    "business_hours": ["Mon-Fri 08:00-18:00", "Sat 09:00-13:00"],
                    "away_message": AWAY,
                    "response_target_minutes": 15,
                }
            )
        )
    zone = ZoneInfo("America/Chicago")
    now = datetime.now(UTC)
    night = datetime.combine(now.astimezone(zone).date(), time(22, 0), tzinfo=zone)
    if night <= now:  # the server's clock only moves forward
        night += timedelta(days=1)
    night = night.astimezone(UTC)
    core.clock = lambda: night
    say("smsbridge", 'the team sets business_hours = ["Mon-Fri 08:00-18:00", "Sat 09:00-13:00"]')
    say("smsbridge", f"  and an away message; the server's clock now reads {night:%a %H:%M} UTC")
    for text in ("Hi, my gutter fell off. Can someone come?", "Hello?"):
        say("lead", f"{NIGHT_LEAD} texts at night: “{text}”")
        await twilio.send_inbound(webhook, from_=NIGHT_LEAD, to=line, body=text)
    deadline = asyncio.get_running_loop().time() + 10
    while not [m for m in twilio.messages if m["to"] == NIGHT_LEAD]:
        if asyncio.get_running_loop().time() > deadline:
            say("error", "no away message was sent")
            return False
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.5)  # the second text must not bring a second away message
    away = [m["body"] for m in twilio.messages if m["to"] == NIGHT_LEAD]
    say("twilio", f"the night lead got {len(away)} automatic text: “{away[0]}”")
    async with app.db.session() as s:
        org = await s.get(Organization, 1)
        assert org is not None
        report = await figures(s, org, night - timedelta(days=7), night + timedelta(hours=1))
    say("smsbridge", "`/sms report week` / `smsbridge report --since 7d` answer:")
    for line_text in as_text(report, f"Report · {org.name}").splitlines():
        say("report", f"  {line_text}")
    chart = first_response_chart(report)
    say("report", f"  + chart: first response by day, a {len(chart):,}-byte PNG")
    return len(away) == 1
