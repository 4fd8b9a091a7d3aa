"""The in-memory Slack workspace behind the Slack stand-in, and the Web API methods over
it (no HTTP here: `SlackStandIn` in slack.py serves them). Answers use the field names
and shapes of Slack's OpenAPI spec; errors are raised as `SlackError(code)`."""

from __future__ import annotations

import base64
import math
import time
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from standins import slack_payloads as sp
from standins.slack_errors import RateLimited, SlackError, json_arg, truthy
from standins.slack_views import SlackViews

BOT_NAME = "smsbridge"


def ts_key(ts: str) -> tuple[int, ...]:
    return tuple(int(p) for p in ts.split("."))


def user_object(
    user_id: str,
    name: str,
    *,
    real_name: str | None = None,
    display_name: str = "",
    tz: str = "America/Chicago",
    team_id: str = sp.TEAM_ID,
    email: str | None = None,
    is_bot: bool = False,
) -> dict[str, Any]:
    """A `users.info` user object."""
    real = real_name or name
    offset = ZoneInfo(tz).utcoffset(datetime.now())
    # fmt: off
    profile = {
        "real_name": real, "real_name_normalized": real, "display_name": display_name,
        "display_name_normalized": display_name, "avatar_hash": "g0000000000", "fields": {},
        "title": "", "phone": "", "skype": "", "status_text": "", "status_emoji": "",
        "email": email, "team": team_id,
        "image_72": "https://a.slack-edge.com/80588/img/avatars/ava_0001-72.png",
    }
    return {
        "id": user_id, "team_id": team_id, "name": name, "real_name": real, "tz": tz,
        "tz_label": tz, "tz_offset": int(offset.total_seconds()) if offset else 0,
        "profile": profile, "is_bot": is_bot, "updated": int(time.time()), "deleted": False,
        "is_admin": False, "is_owner": False, "is_app_user": False,
    }
    # fmt: on


class SlackWorkspace(SlackViews):
    """Channels, messages, users, files, views. `messages[channel]` holds every message
    in ts order; a reply has `thread_ts` (its parent's ts, which the parent carries too);
    a bot post keeps the call's arguments under `_args` (not shown by the API)."""

    url: str  # the stand-in's base URL, for upload and file URLs

    def __init__(
        self,
        team_id: str,
        bot_user_id: str,
        bot_id: str,
        rate_limit_per_channel: float | None,
        burst: int,
    ) -> None:
        self.team_id, self.bot_user_id, self.bot_id = team_id, bot_user_id, bot_id
        self.enterprise_id: str | None = None  # set: the app is installed org-wide (Grid)
        self.rate_limit_per_channel, self.burst = rate_limit_per_channel, burst
        self.rate_limited_count = 0
        self.channels: dict[str, dict[str, Any]] = {}
        self.messages: dict[str, list[dict[str, Any]]] = {}
        self.users: dict[str, dict[str, Any]] = {}
        self.ephemerals: list[dict[str, Any]] = []
        self.files: dict[str, dict[str, Any]] = {}
        self.file_data: dict[str, bytes] = {}
        self.views: dict[str, dict[str, Any]] = {}
        self.home_views: dict[str, dict[str, Any]] = {}
        self._buckets: dict[str, tuple[float, float]] = {}

    # ---- reading the workspace ----------------------------------------------------------

    def thread(self, channel: str, thread_ts: str) -> list[dict[str, Any]]:
        """The replies of a thread, in order (without the parent)."""
        return [m for m in self.messages.get(channel, []) if self._is_reply(m, thread_ts)]

    def posts(self, channel: str | None = None) -> list[dict[str, Any]]:
        """Messages the bot posted that are still there, in order."""
        chans = [channel] if channel else list(self.messages)
        mine = [
            m for c in chans for m in self.messages.get(c, []) if m.get("bot_id") == self.bot_id
        ]
        return sorted(mine, key=lambda m: ts_key(m["ts"]))

    def _channel(self, ref: Any) -> dict[str, Any]:
        ref = str(ref or "").lstrip("#")
        if ref in self.channels:
            return self.channels[ref]
        for channel in self.channels.values():
            if channel["name"] == ref:
                return channel
        raise SlackError("channel_not_found")

    def _find(self, channel: str, ts: Any) -> dict[str, Any] | None:
        return next((m for m in self.messages.get(channel, []) if m["ts"] == ts), None)

    def _message(self, channel: Any, ts: Any) -> dict[str, Any]:
        msg = self._find(self._channel(channel)["id"], ts)
        if msg is None:
            raise SlackError("message_not_found")
        return msg

    @staticmethod
    def _is_reply(msg: dict[str, Any], thread_ts: str) -> bool:
        return msg.get("thread_ts") == thread_ts and msg["ts"] != thread_ts

    def _store(self, channel: str, msg: dict[str, Any]) -> None:
        msgs = self.messages.setdefault(channel, [])
        msgs.append(msg)
        if len(msgs) > 1 and ts_key(msgs[-2]["ts"]) > ts_key(msg["ts"]):
            msgs.sort(key=lambda m: ts_key(m["ts"]))
        parent = self._find(channel, msg.get("thread_ts"))
        if parent is not None:
            parent["thread_ts"] = parent["ts"]

    def _remove(self, channel: str, ts: str, *, tombstone: bool) -> None:
        """Delete a message; a thread parent leaves Slack's tombstone if `tombstone`
        (replies stay and can still be posted), else its replies go with it."""
        msg = self._message(channel, ts)
        replies = self.thread(channel, ts)
        if replies and tombstone:
            keep = {"ts": msg["ts"], "thread_ts": msg["ts"]}
            msg.clear()
            msg.update(type="message", subtype="tombstone", text="This message was deleted.")
            msg.update(user="USLACKBOT", hidden=True, **keep)
            return
        gone = {id(m) for m in [msg, *replies]}
        self.messages[channel] = [m for m in self.messages[channel] if id(m) not in gone]

    def _out(self, channel: str, msg: dict[str, Any]) -> dict[str, Any]:
        """A stored message as the API shows it (thread summary on parents)."""
        out = {k: v for k, v in msg.items() if not k.startswith("_")}
        replies = self.thread(channel, msg["ts"])
        if replies:
            users = list(dict.fromkeys(r.get("user", "") for r in replies))
            out.update(thread_ts=msg["ts"], reply_count=len(replies), reply_users=users)
            out.update(reply_users_count=len(users), latest_reply=replies[-1]["ts"])
        return out

    def _rate_limit(self, channel: str) -> None:
        """Token bucket per channel: `rate_limit_per_channel` per second, `burst` deep."""
        rate = self.rate_limit_per_channel
        if not rate:
            return
        now = time.monotonic()
        tokens, last = self._buckets.get(channel, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - last) * rate)
        if tokens >= 1:
            self._buckets[channel] = (tokens - 1, now)
            return
        self._buckets[channel] = (tokens, now)
        self.rate_limited_count += 1
        raise RateLimited(max(1, math.ceil((1 - tokens) / rate)))

    def _bot_message(self, a: dict[str, Any]) -> dict[str, Any]:
        text = a.get("text") or ""
        blocks = json_arg(a.get("blocks"), "invalid_blocks_format")
        attachments = json_arg(a.get("attachments"), "invalid_attachments")
        if blocks is not None and (
            not isinstance(blocks, list)
            or len(blocks) > 50
            or not all(isinstance(b, dict) and b.get("type") for b in blocks)
        ):
            raise SlackError("invalid_blocks")
        if not text and not blocks and not attachments:
            raise SlackError("no_text")
        if len(text) > 40000:
            raise SlackError("msg_too_long")
        icons = {"emoji": a["icon_emoji"]} if a.get("icon_emoji") else {}
        icons = {"image_48": a["icon_url"]} if a.get("icon_url") else icons
        profile_icons = {f"image_{n}": f"https://example.com/bot_{n}.png" for n in (36, 48, 72)}
        # fmt: off
        msg: dict[str, Any] = {
            "type": "message", "text": text, "user": self.bot_user_id, "bot_id": self.bot_id,
            "app_id": sp.API_APP_ID, "ts": sp.make_ts(), "team": self.team_id, "_args": a,
            "bot_profile": {"id": self.bot_id, "app_id": sp.API_APP_ID, "name": BOT_NAME,
                            "deleted": False, "updated": int(time.time()),
                            "team_id": self.team_id, "icons": profile_icons},
        }
        # fmt: on
        if blocks:
            msg["blocks"] = blocks
        if attachments:
            msg["attachments"] = attachments
        if a.get("metadata"):
            msg["metadata"] = json_arg(a["metadata"], "invalid_metadata_format")
        if a.get("username") or icons:
            msg.update(subtype="bot_message", username=a.get("username") or BOT_NAME, icons=icons)
        return msg

    @staticmethod
    def _page(items: list[dict[str, Any]], a: dict[str, Any], default: int) -> dict[str, Any]:
        cursor = a.get("cursor")
        start = int(base64.b64decode(cursor).decode().split(":")[1]) if cursor else 0
        limit = int(a.get("limit") or default)
        page, rest = items[start : start + limit], items[start + limit :]
        nxt = base64.b64encode(f"offset:{start + limit}".encode()).decode() if rest else ""
        return {"messages": page, "has_more": bool(rest), "response_metadata": {"next_cursor": nxt}}

    # ---- Web API methods: api_<method, dots as underscores>(args) -> answer ------------

    def api_auth_test(self, a: dict[str, Any]) -> dict[str, Any]:
        # fmt: off
        return {"url": f"https://{sp.TEAM_DOMAIN}.slack.com/", "team": "Stand-in Team",
                "user": BOT_NAME, "team_id": self.team_id, "user_id": self.bot_user_id,
                "bot_id": self.bot_id, "enterprise_id": self.enterprise_id,
                "is_enterprise_install": self.enterprise_id is not None}
        # fmt: on

    def api_chat_postMessage(self, a: dict[str, Any]) -> dict[str, Any]:
        if not a.get("channel"):
            raise SlackError("channel_not_found")
        self._rate_limit(str(a["channel"]))
        channel = self._channel(a["channel"])
        if channel["is_archived"]:
            raise SlackError("is_archived")
        if not channel["is_member"]:
            raise SlackError("not_in_channel")
        cid, thread_ts = channel["id"], a.get("thread_ts") or None
        if thread_ts:
            parent = self._find(cid, thread_ts)
            if parent is None:
                raise SlackError("thread_not_found")
            thread_ts = parent.get("thread_ts", parent["ts"])
        msg = self._bot_message(a)
        if thread_ts:
            msg["thread_ts"] = thread_ts
            if truthy(a.get("reply_broadcast")):
                msg["subtype"] = "thread_broadcast"
        self._store(cid, msg)
        return {"channel": cid, "ts": msg["ts"], "message": self._out(cid, msg)}

    def api_chat_update(self, a: dict[str, Any]) -> dict[str, Any]:
        cid = self._channel(a.get("channel"))["id"]
        msg = self._message(cid, a.get("ts"))
        if msg.get("bot_id") != self.bot_id:
            raise SlackError("cant_update_message")
        new = self._bot_message({**msg.get("_args", {}), **a})
        for key in ("text", "blocks", "attachments", "metadata"):
            if key in a:
                msg.pop(key, None)
                msg.update({key: new[key]} if new.get(key) is not None else {})
        msg.setdefault("text", "")
        msg["_args"] = {**msg.get("_args", {}), **a}
        msg["edited"] = {"user": self.bot_user_id, "ts": sp.make_ts()}
        return {
            "channel": cid,
            "ts": msg["ts"],
            "text": msg["text"],
            "message": self._out(cid, msg),
        }

    def api_chat_delete(self, a: dict[str, Any]) -> dict[str, Any]:
        cid = self._channel(a.get("channel"))["id"]
        msg = self._message(cid, a.get("ts"))
        if msg.get("bot_id") != self.bot_id:
            raise SlackError("cant_delete_message")
        self._remove(cid, msg["ts"], tombstone=True)
        return {"channel": cid, "ts": a["ts"]}

    def api_chat_postEphemeral(self, a: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel(a.get("channel"))
        user = a.get("user")
        if not user or ("_members" in channel and user not in channel["_members"]):
            raise SlackError("user_not_in_channel")
        msg = self._bot_message(a)
        # fmt: off
        self.ephemerals.append({"channel": channel["id"], "user": user, "message_ts": msg["ts"],
                                "thread_ts": a.get("thread_ts"), "text": msg["text"],
                                "blocks": msg.get("blocks")})
        # fmt: on
        return {"message_ts": msg["ts"]}

    def api_chat_getPermalink(self, a: dict[str, Any]) -> dict[str, Any]:
        cid = self._channel(a.get("channel"))["id"]
        msg = self._message(cid, a.get("message_ts"))
        link = f"https://{sp.TEAM_DOMAIN}.slack.com/archives/{cid}/p{msg['ts'].replace('.', '')}"
        if msg.get("thread_ts") and msg["thread_ts"] != msg["ts"]:
            link += f"?thread_ts={msg['thread_ts']}&cid={cid}"
        return {"channel": cid, "permalink": link}

    def _reaction(self, a: dict[str, Any], create: bool) -> tuple[dict[str, Any], dict | None]:
        name = str(a.get("name") or "").strip(":")
        if not a.get("timestamp") or not a.get("channel"):
            raise SlackError("no_item_specified")
        if not name:
            raise SlackError("invalid_name")
        msg = self._message(a["channel"], a["timestamp"])
        reactions = msg.setdefault("reactions", [])
        entry = next((r for r in reactions if r["name"] == name), None)
        if entry is None and create:
            entry = {"name": name, "users": [], "count": 0}
            reactions.append(entry)
        return msg, entry

    def api_reactions_add(self, a: dict[str, Any]) -> dict[str, Any]:
        _, entry = self._reaction(a, create=True)
        assert entry is not None
        if self.bot_user_id in entry["users"]:
            raise SlackError("already_reacted")
        entry["users"].append(self.bot_user_id)
        entry["count"] += 1
        return {}

    def api_reactions_remove(self, a: dict[str, Any]) -> dict[str, Any]:
        msg, entry = self._reaction(a, create=False)
        if entry is None or self.bot_user_id not in entry["users"]:
            raise SlackError("no_reaction")
        entry["users"].remove(self.bot_user_id)
        entry["count"] -= 1
        msg["reactions"] = [r for r in msg["reactions"] if r["count"] > 0]
        return {}

    def api_conversations_info(self, a: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel(a.get("channel"))
        return {"channel": {k: v for k, v in channel.items() if not k.startswith("_")}}

    def api_conversations_open(self, a: dict[str, Any]) -> dict[str, Any]:
        """A direct message with one user (im:write), made on first need."""
        users = [u for u in str(a.get("users") or "").split(",") if u]
        if len(users) != 1 or users[0] not in self.users:
            raise SlackError("user_not_found")
        dm = "D" + users[0][1:]
        if dm not in self.channels:
            im = self.add_channel(dm, users[0])  # type: ignore[attr-defined]
            im.update(is_im=True, is_channel=False, user=users[0])
        return {"channel": {"id": dm}}

    def api_conversations_replies(self, a: dict[str, Any]) -> dict[str, Any]:
        cid = self._channel(a.get("channel"))["id"]
        parent = self._find(cid, a.get("ts"))
        if parent is None:
            raise SlackError("thread_not_found")
        items = [parent, *self.thread(cid, parent["ts"])]
        return self._page([self._out(cid, m) for m in items], a, 1000)

    def api_conversations_history(self, a: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel(a.get("channel"))
        if not channel["is_member"]:
            raise SlackError("not_in_channel")
        cid = channel["id"]
        oldest, latest = float(a.get("oldest") or 0), float(a.get("latest") or math.inf)
        top = [
            self._out(cid, m)
            for m in reversed(self.messages[cid])
            if (m.get("thread_ts") in (None, m["ts"]) or m.get("subtype") == "thread_broadcast")
            and oldest <= float(m["ts"]) <= latest
        ]
        return self._page(top, a, 100)

    def api_users_info(self, a: dict[str, Any]) -> dict[str, Any]:
        if a.get("user") not in self.users:
            raise SlackError("user_not_found")
        return {"user": self.users[a["user"]]}
