"""Prune deletes only what is past retention: old delivery attempts, old finished
deliveries (never a failed or unknown one, whose thread offers a Retry), old event keys,
expired media bytes (the file row stays) and, only in an organization that asks for it,
messages older than its `message_retention_days`."""

from __future__ import annotations

import copy
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select, update

from bot.app import Options, SmsBridge
from bot.config import Settings
from bot.directory_file import parse_directory
from bot.ops.retention import message_retention, prune
from bridges.sms import TwilioSettings
from standins.twilio import TwilioStandIn
from storage.models import (
    Conversation,
    Delivery,
    DeliveryAttempt,
    Media,
    Message,
    Organization,
    ProcessedEvent,
)
from tests.conftest import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    DIRECTORY,
    LEAD,
    LINE,
    applied,
    make_settings,
    queue_reply,
    wait_for,
)

GLOBEX_LINE = "+15005550001"


def retention_settings(tmp_path: Path, twilio: TwilioStandIn) -> Settings:
    directory = copy.deepcopy(DIRECTORY)
    directory["organizations"]["acme"]["message_retention_days"] = 60
    return make_settings(
        tmp_path,
        parse_directory(directory),
        twilio=TwilioSettings(ACCOUNT_SID, AUTH_TOKEN, twilio.url),
    )


async def count(bridge: SmsBridge, model: object, *where: object) -> int:
    async with bridge.db.session() as s:
        return int(await s.scalar(select(func.count()).select_from(model).where(*where)) or 0)


async def traffic(bridge: SmsBridge, twilio: TwilioStandIn, text: str) -> None:
    """An SMS in on each line and a reply sent at the second try (Twilio asks to wait):
    messages, deliveries, attempts."""
    url = bridge.settings.public_url + "/twilio/sms"
    for line in (LINE, GLOBEX_LINE):
        status, _ = await twilio.send_inbound(url, from_=LEAD, to=line, body=text)
        assert status == 200
    await applied(bridge)
    assert bridge.core is not None
    twilio.fail_next(429, retry_after=0.05, path_contains="Messages.json")
    outcome = await queue_reply(bridge.core, f"re: {text}", phone=LEAD)
    assert outcome.ok, outcome.text


async def age(bridge: SmsBridge, days: int) -> None:
    """Everything in the database so far happened `days` ago."""
    assert bridge.core is not None
    then = bridge.core.now() - timedelta(days=days)
    async with bridge.db.session() as s, s.begin():
        await s.execute(update(Message).values(created_at=then))
        await s.execute(update(DeliveryAttempt).values(at=then))
        await s.execute(update(Delivery).where(Delivery.finished_at.is_not(None)).values(
            finished_at=then))  # fmt: skip
        await s.execute(update(ProcessedEvent).values(at=then))


async def test_prune_deletes_only_what_is_past_retention(
    tmp_path: Path, twilio: TwilioStandIn
) -> None:
    settings = retention_settings(tmp_path, twilio)
    async with SmsBridge(settings, Options(worker_kwargs={"poll": 0.05})) as bridge:
        assert bridge.core is not None
        now = bridge.core.now()

        async def settled() -> bool:
            return await count(bridge, Delivery, Delivery.status.in_(("pending", "running"))) == 0

        # 90 days ago: SMS on both lines, a failed delivery, an event key, expired media.
        await traffic(bridge, twilio, "ninety days ago")
        await wait_for(settled)
        async with bridge.db.session() as s, s.begin():
            # On the Globex line, whose messages are kept: only the bytes may go.
            first = await s.scalar(
                select(Message.id).join(Conversation).join(Organization)
                .where(Organization.key == "globex").order_by(Message.id)
            )  # fmt: skip
            s.add(Media(message_id=first, content_type="image/png", token="old", data=b"x" * 10,
                        expires_at=now - timedelta(days=1)))  # fmt: skip
            s.add(Media(message_id=first, content_type="image/png", token="new", data=b"y" * 10,
                        expires_at=now + timedelta(days=1)))  # fmt: skip
            s.add(ProcessedEvent(source="slack", key="Ev-old"))
            failed = Delivery(kind="sms.send", lane="sms", status="failed", finished_at=now)
            s.add(failed)
        await age(bridge, 90)
        # 40 days ago, then today.
        await traffic(bridge, twilio, "forty days ago")
        await wait_for(settled)
        await age_only_newer(bridge, days=40, since=now)
        await traffic(bridge, twilio, "today")
        await wait_for(settled)
        async with bridge.db.session() as s, s.begin():
            s.add(ProcessedEvent(source="slack", key="Ev-new"))

        bodies_before = await bodies(bridge)
        attempts_before = await count(bridge, DeliveryAttempt)
        recent_attempts = await count(
            bridge, DeliveryAttempt, DeliveryAttempt.at > now - timedelta(days=30)
        )
        pruned = await prune(
            bridge.db,
            bridge.core.now(),
            retention_days=30,
            message_retention=message_retention(settings),
        )

        assert await count(bridge, DeliveryAttempt) == recent_attempts < attempts_before
        assert pruned.delivery_attempts == attempts_before - recent_attempts
        assert await count(bridge, Delivery, Delivery.status == "failed") == 1
        month_ago = now - timedelta(days=30)
        assert await count(bridge, Delivery, Delivery.finished_at < month_ago) == 1  # failed
        assert await count(bridge, Delivery, Delivery.status == "done") > 0  # today's
        assert pruned.deliveries > 0
        keys = set(await scalars(bridge, select(ProcessedEvent.key)))
        assert "Ev-new" in keys and "Ev-old" not in keys
        media = dict(await rows(bridge, select(Media.token, Media.data)))
        assert media == {"old": None, "new": b"y" * 10}
        assert pruned.media_bytes == 1
        # Acme keeps 60 days of messages; Globex set no limit and keeps all.
        after = await bodies(bridge)
        assert ("acme", "ninety days ago") in bodies_before
        assert ("acme", "ninety days ago") not in after
        assert ("acme", "forty days ago") in after and ("acme", "today") in after
        assert {b for b in bodies_before if b[0] == "globex"} <= after


async def age_only_newer(bridge: SmsBridge, *, days: int, since: object) -> None:
    then = bridge.core.now() - timedelta(days=days)  # type: ignore[union-attr]
    async with bridge.db.session() as s, s.begin():
        await s.execute(update(Message).where(Message.created_at >= since).values(created_at=then))
        await s.execute(update(DeliveryAttempt).where(DeliveryAttempt.at >= since).values(at=then))


async def scalars(bridge: SmsBridge, query: object) -> list[object]:
    async with bridge.db.session() as s:
        return list(await s.scalars(query))  # type: ignore[call-overload]


async def rows(bridge: SmsBridge, query: object) -> list[tuple[object, ...]]:
    async with bridge.db.session() as s:
        return [tuple(r) for r in await s.execute(query)]  # type: ignore[call-overload]


async def bodies(bridge: SmsBridge) -> set[tuple[str, str]]:
    query = (
        select(Organization.key, Message.body)
        .join(Conversation, Conversation.id == Message.conversation_id)
        .join(Organization, Organization.id == Conversation.organization_id)
        .where(Message.kind == "sms")
    )
    return {(str(k), str(b)) for k, b in await rows(bridge, query)}


async def test_smsbridge_prune_reports_what_it_deleted(tmp_path: Path) -> None:
    import asyncio
    import os
    import sys

    env = {**os.environ, "SMSBRIDGE_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'p.db'}"}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "prune", "--days", "7", cwd=tmp_path, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    out, _ = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 0, out
    assert out.decode().strip().splitlines()[-1] == (
        "pruned: delivery attempts 0, deliveries 0, processed events 0, media bytes 0, messages 0"
    )
