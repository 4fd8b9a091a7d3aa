"""Discord's gateway belongs on one process; the others serve webhooks. An SMS that lands
on a web process (no DISCORD_BOT_TOKEN, SMSBRIDGE_CHAT_PLATFORMS=discord) is queued for
Discord there and posted by the gateway process. Two bridges on one SQLite file here;
the same holds for processes on PostgreSQL (tests/e2e/test_scale_postgres.py)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from bot.app import Options, SmsBridge
from standins.discord import DiscordStandIn
from standins.twilio import TwilioStandIn
from storage.models import Delivery
from tests.conftest import free_port, wait_for, with_settings
from tests.discord_fixtures import (  # noqa: F401
    discord_api_fixture,
    discord_settings,
    posts,
    text_in,
    the_thread,
)


async def test_a_web_process_queues_discord_posts_the_gateway_process_sends_them(
    tmp_path: Path, discord_api: DiscordStandIn, twilio: TwilioStandIn
) -> None:
    gateway_settings = discord_settings(tmp_path, discord_api, twilio)
    port = free_port()
    web_settings = with_settings(
        gateway_settings,
        discord=None,
        remote_chat=frozenset({"discord"}),
        port=port,
        public_url=f"http://127.0.0.1:{port}",
    )
    web = SmsBridge(web_settings, Options(worker_kwargs={"poll": 0.05}))
    gateway = SmsBridge(gateway_settings, Options(worker_kwargs={"poll": 0.05}))
    await web.start()
    await gateway.start()
    try:
        assert web.plugins == {} and set(gateway.plugins) == {"discord"}
        await text_in(web, twilio, "Hi, is Friday free?")
        thread = await the_thread(discord_api, web)
        await wait_for(lambda: any(
            p.get("content") == "Hi, is Friday free?" for p in posts(discord_api, thread["id"])
        ))  # fmt: skip
        async with web.db.session() as s:
            ran_by = set(await s.scalars(select(Delivery.worker).where(Delivery.lane == "discord")))
        assert ran_by == {gateway.worker.name}  # type: ignore[union-attr]
    finally:
        await gateway.stop()
        await web.stop()
