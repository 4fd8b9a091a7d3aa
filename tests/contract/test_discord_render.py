"""How conversations look in Discord: coalescing, marks, tags, names (no network)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from bot.types import ConversationView, MediaView, MemberView, MessageView
from bridges.discord import render

SAM = MemberView(2, "sam", "Sam", "agent", {"discord": "1100000000000000002"})
NOW = datetime(2026, 1, 1, tzinfo=UTC)
CONVERSATION = ConversationView(
    id=7, organization="Acme", lead_id=1, lead_phone="+14155550100", lead_name="Discord Fan",
    line_phone="+15005550006", line_label="Sales", status="open", state="Needs response",
    assignee=SAM, tags=("roof",), opted_out=False, unread_count=2, last_message_at=NOW,
)  # fmt: skip


def message(mid: int, kind: str = "sms", direction: str | None = "in", **kw: object) -> MessageView:
    base = MessageView(
        id=mid, conversation_id=7, kind=kind, direction=direction, body=f"body {mid}",
        status=None, error=None, author=None, lead_display="Discord Fan", media=(),
        segments=1, encoding="GSM-7", ai_assisted=False, event=None, source="sms",
        created_at=NOW,
    )  # fmt: skip
    return replace(base, **kw)  # type: ignore[arg-type]


def test_a_backlog_of_lead_texts_and_events_coalesces_but_replies_and_notes_stand_alone() -> None:
    image = MediaView("https://media.example/1.jpg", "image/jpeg")
    backlog = [
        message(1),
        message(2, media=(image,)),
        message(3, "sms", "out", author=SAM, ai_assisted=True),
        message(4, "note", None, author=SAM),
        message(5, "event", None, event="assigned", body="Dana assigned this conversation to Sam"),
        message(6, "event", None, event="tagged", body="Dana tagged this roof"),
        message(7),
    ]
    posts = render.plan_posts(backlog, CONVERSATION)
    assert [[m.id for m in p.messages] for p in posts] == [[1, 2], [3], [4], [5, 6], [7]]
    assert [p.as_lead for p in posts] == [True, False, False, False, True]
    assert posts[0].content == "body 1\nbody 2" and len(posts[0].embeds) == 1
    assert "sent as SMS" in posts[1].content and "AI-assisted" in posts[1].content
    assert posts[2].content.startswith("🔒") and "not sent" in posts[2].content
    assert f"<@{SAM.identity('discord')}>" in posts[3].content
    assert posts[3].mentions == [int(SAM.identity("discord") or 0)]


def test_coalescing_stops_at_discord_limits() -> None:
    long = [message(i, body="x" * 900) for i in range(3)]
    assert [len(p.messages) for p in render.plan_posts(long, CONVERSATION)] == [2, 1]
    image = (MediaView("https://media.example/1.jpg", "image/jpeg"),)
    many = [message(i, media=image * 4) for i in range(3)]
    assert [len(p.messages) for p in render.plan_posts(many, CONVERSATION)] == [2, 1]


def test_tags_names_and_the_header() -> None:
    assert render.tag_names(CONVERSATION) == ["Needs response", "Assigned"]
    closed = replace(CONVERSATION, status="closed", state="Closed", opted_out=True, assignee=None)
    assert render.tag_names(closed) == ["Closed", "Opted out"]
    # Webhook names may not contain "discord": Discord would refuse the post.
    assert "discord" not in render.lead_username(CONVERSATION).lower()
    assert render.lead_username(CONVERSATION).endswith("(+14155550100)")
    assert len(render.thread_name(replace(CONVERSATION, lead_name="n" * 300))) == 100
    fields = {f.name: f.value for f in render.header_embed(CONVERSATION).fields}
    assert fields["Assignee"] == f"<@{SAM.identity('discord')}> (Sam)"
    assert fields["Status"] == "Needs response" and fields["Unread"] == "2"
