"""What the TOML declares at each start: members with their chat accounts by platform
name, lines with their routes. The file owns what it lists and nothing else."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from sqlalchemy import select

from bot.app import Options, SmsBridge
from bot.directory_file import parse_directory
from bot.facade import Facade
from bot.results import Result
from bot.types import Actor, ChatRef
from storage.models import Member, MemberIdentity, Route
from tests.conftest import DIRECTORY, LINE, make_settings

SALES = ChatRef("slack", "C0SALES")
DANA, SAM, PAT = Actor("slack", "U0DANA"), Actor("slack", "U0SAM"), Actor("slack", "U0PAT")


async def start(tmp_path: Path, directory: dict[str, Any]) -> SmsBridge:
    settings = make_settings(tmp_path, directory=parse_directory(directory))
    app = SmsBridge(settings, Options(run_workers=False))
    await app.start()
    return app


async def inbox(app: SmsBridge, actor: Actor) -> Result:
    assert app.core is not None
    return await Facade(app.core).command(actor, SALES, "inbox")


async def test_a_member_the_file_no_longer_lists_loses_access_at_the_next_start(
    tmp_path: Path,
) -> None:
    app = await start(tmp_path, DIRECTORY)
    async with app.db.session() as s, s.begin():
        # A member the file never listed (added from chat, say): not the file's to remove.
        pat = Member(organization_id=1, key="pat", name="Pat", role="agent")
        s.add(pat)
        await s.flush()
        s.add(
            MemberIdentity(member_id=pat.id, organization_id=1, platform="slack", user_id="U0PAT")
        )
    assert (await inbox(app, SAM)).ok
    await app.stop()

    without_sam = copy.deepcopy(DIRECTORY)
    del without_sam["members"]["sam"]
    app = await start(tmp_path, without_sam)
    try:
        refused = await inbox(app, SAM)
        assert not refused.ok and "not a member" in refused.text
        assert (await inbox(app, PAT)).ok
        assert (await inbox(app, DANA)).ok
        async with app.db.session() as s:
            sam = await s.scalar(select(Member).where(Member.key == "sam"))
            assert sam is not None and sam.removed_at is not None  # history still names Sam
    finally:
        await app.stop()

    app = await start(tmp_path, DIRECTORY)  # listed again: access again
    try:
        assert (await inbox(app, SAM)).ok
    finally:
        await app.stop()


async def test_chat_accounts_follow_the_file_from_one_start_to_the_next(tmp_path: Path) -> None:
    app = await start(tmp_path, DIRECTORY)
    await app.stop()
    moved = copy.deepcopy(DIRECTORY)
    # Sam's Slack account now belongs to Lee; Sam is known on Discord only.
    del moved["members"]["sam"]["slack_user"]
    moved["members"]["lee"]["slack_user"] = "U0SAM"
    app = await start(tmp_path, moved)
    try:
        async with app.db.session() as s:
            rows = await s.execute(
                select(Member.key, MemberIdentity.platform, MemberIdentity.user_id)
                .join(MemberIdentity)
                .where(Member.key.in_(["sam", "lee"]))
                .order_by(Member.key, MemberIdentity.platform)
            )
            assert [tuple(r) for r in rows] == [
                ("lee", "discord", "1100000000000000003"),
                ("lee", "slack", "U0SAM"),
                ("sam", "discord", "1100000000000000002"),
            ]
        assert (await inbox(app, SAM)).ok  # U0SAM is Lee now, and Lee may see the inbox
    finally:
        await app.stop()


async def test_a_route_the_file_drops_is_removed_and_one_it_never_listed_stays(
    tmp_path: Path,
) -> None:
    app = await start(tmp_path, DIRECTORY)
    async with app.db.session() as s, s.begin():
        line_id = await s.scalar(select(Route.line_id).where(Route.channel == "C0GLOBEX"))
        s.add(Route(line_id=line_id, platform="discord", channel="1300"))  # not the file's
    await app.stop()
    no_discord = copy.deepcopy(DIRECTORY)
    del no_discord["lines"][LINE]["discord_channel"]
    app = await start(tmp_path, no_discord)
    try:
        async with app.db.session() as s:
            routes = await s.execute(select(Route.platform, Route.channel, Route.from_file))
            assert sorted(tuple(r) for r in routes) == [
                ("discord", "1300", False),
                ("slack", "C0GLOBEX", True),
                ("slack", "C0SALES", True),
            ]
    finally:
        await app.stop()
