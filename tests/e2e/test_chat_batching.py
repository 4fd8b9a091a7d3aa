"""The chat worker's batches: the header refresh every inbound SMS queues runs with the
message that queued it (one claim, one load, one close), does not take a message's place
in a batch, and when it fails after the post is in, it is queued again without posting
the messages twice (bench/RESULTS.md, e2e and burst)."""

from __future__ import annotations

from sqlalchemy import select

from storage.models import Delivery
from tests.conftest import wait_for
from tests.slack_fixtures import SlackEnv, sx_fixture  # noqa: F401


async def deliveries(sx: SlackEnv) -> list[Delivery]:
    async with sx.app.db.session() as s:
        return list(await s.scalars(select(Delivery).order_by(Delivery.id)))


async def settled(sx: SlackEnv) -> bool:
    return all(d.status == "done" for d in await deliveries(sx))


async def test_header_refresh_runs_with_the_message_that_queued_it(sx: SlackEnv) -> None:
    await sx.sms_in("sms 00")
    header = await sx.header()
    await wait_for(lambda: settled(sx))
    before = len(await deliveries(sx))
    await sx.sms_in("sms 01")
    await wait_for(lambda: sx.texts(header) == ["sms 00", "sms 01"])
    await wait_for(lambda: settled(sx))
    message, refresh = (await deliveries(sx))[before:]
    assert (message.kind, refresh.kind) == ("chat.message", "chat.header")
    assert message.finished_at == refresh.finished_at  # closed together, in one run
    assert len(sx.slack.calls("chat.update")) == 1  # the card shows the second SMS


async def test_header_taken_along_leaves_the_batch_to_messages(sx: SlackEnv) -> None:
    await sx.sms_in("sms 00")
    header = await sx.header()
    await wait_for(lambda: sx.thread(header))
    # Slack is slow to take the next post: a backlog of 11 SMS builds up behind it.
    sx.slack.fail_next(200, delay=1.5, path_contains="chat.postMessage")
    await sx.sms_in("sms 01")
    await wait_for(lambda: len(sx.slack.calls("chat.postMessage")) == 3)
    for i in range(2, 13):
        await sx.sms_in(f"sms {i:02d}")
    await wait_for(lambda: sum(len(t.split("\n")) for t in sx.texts(header)) == 13)
    posts = [t.split("\n") for t in sx.texts(header)]
    assert posts == [
        ["sms 00"],
        ["sms 01"],
        [f"sms {i:02d}" for i in range(2, 12)],  # a full batch of 10, the header besides
        ["sms 12"],
    ]


async def test_failed_header_refresh_is_queued_again_and_posts_nothing_twice(
    sx: SlackEnv,
) -> None:
    await sx.sms_in("sms 00")
    header = await sx.header()
    await wait_for(lambda: settled(sx))
    sx.slack.fail_next(500, path_contains="chat.update")
    await sx.sms_in("sms 01")
    await wait_for(lambda: len(sx.slack.calls("chat.update")) == 2, timeout=15)
    await wait_for(lambda: settled(sx))
    assert sx.texts(header) == ["sms 00", "sms 01"]
    kinds = [d.kind for d in await deliveries(sx)]
    assert kinds.count("chat.header") == 3  # the first SMS's, the second's, and the retry
