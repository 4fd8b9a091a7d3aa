"""In-memory guild model of the Discord stand-in (guilds, channels, threads, messages,
members, roles, commands, webhooks, uploaded files) and the JSON objects built from it.
Field names, error codes and statuses follow /work/shared/specs/discord_openapi.fixtures.json."""

from __future__ import annotations

import copy
import hashlib
import re
import time
from datetime import UTC, datetime
from typing import Any

from standins.discord_objects import (
    CHANNEL_DEFAULTS,
    FORUM_DEFAULTS,
    GUILD_DEFAULTS,
    MEMBER_DEFAULTS,
    MESSAGE_DEFAULTS,
    ROLE_DEFAULTS,
    THREAD_DEFAULTS,
    DiscordError,
    invalid,
)

EPOCH_MS = 1420070400000
TEXT, CATEGORY, PUBLIC_THREAD, PRIVATE_THREAD, FORUM = 0, 4, 11, 12, 15
THREAD_TYPES = (10, PUBLIC_THREAD, PRIVATE_THREAD)
EPHEMERAL, LOADING, HAS_THREAD = 1 << 6, 1 << 7, 1 << 5
OWNER_ID = "1000000000000000009"  # the default guild owner: a human, not the bot
APP_FLAGS = (1 << 13) | (1 << 15) | (1 << 19) | (1 << 23)  # limited privileged intents

# Permission bits (https://discord.com/developers/docs/topics/permissions)
ADMINISTRATOR = 1 << 3
# @everyone: add reactions, view, send, embed links, attach files, read history, use app
# commands, create public threads, send in threads; the bot's role adds manage channels,
# manage messages, manage webhooks, manage threads.
EVERYONE_PERMISSIONS = sum(1 << b for b in (6, 10, 11, 14, 15, 16, 31, 35, 38))
BOT_PERMISSIONS = EVERYONE_PERMISSIONS | sum(1 << b for b in (4, 13, 29, 34))


def iso(ts: float | None = None) -> str:
    return datetime.fromtimestamp(time.time() if ts is None else ts, UTC).isoformat(
        "T", "microseconds"
    )


def _fresh(defaults: dict[str, Any]) -> dict[str, Any]:
    return copy.deepcopy(defaults)


class Snowflakes:
    """Strictly increasing snowflakes whose timestamp part is the current time."""

    def __init__(self) -> None:
        self._last = 0

    def next(self) -> str:
        self._last = max(self._last + 1, (int(time.time() * 1000) - EPOCH_MS) << 22)
        return str(self._last)


def user_object(user_id: str, username: str, *, bot: bool = False) -> dict[str, Any]:
    user: dict[str, Any] = {"id": user_id, "username": username, "discriminator": "0",
                            "global_name": username, "avatar": None, "public_flags": 0,
                            "flags": 0, "primary_guild": None}  # fmt: skip
    if bot:
        user.update(bot=True, global_name=None)
    return user


def _mentions(content: str) -> tuple[list[str], list[str]]:
    users = list(dict.fromkeys(re.findall(r"<@!?(\d+)>", content)))
    return users, list(dict.fromkeys(re.findall(r"<@&(\d+)>", content)))


class DiscordModel:
    """The state the stand-in serves. Ids are strings, as on the wire."""

    def _init_model(self, application_id: str, bot_user_id: str, bot_name: str) -> None:
        self.ids = Snowflakes()
        self.application_id, self.bot_user_id = application_id, bot_user_id
        self.users: dict[str, dict[str, Any]] = {
            bot_user_id: user_object(bot_user_id, bot_name, bot=True)
        }
        self.guilds: dict[str, dict[str, Any]] = {}
        self.channels: dict[str, dict[str, Any]] = {}  # guild channels and threads
        self.messages: dict[str, dict[str, dict[str, Any]]] = {}  # channel -> id -> message
        self.members: dict[str, dict[str, dict[str, Any]]] = {}  # guild -> user -> member
        self.commands: dict[str | None, list[dict[str, Any]]] = {}  # guild id (None: global)
        self.webhooks: dict[str, dict[str, Any]] = {}
        self.files: dict[str, tuple[bytes, str]] = {}  # attachment id -> (bytes, type)
        self.restricted: dict[str, int] = {}  # channel id -> 50001 or 50013

    # ---------------------------------------------------------------- set-up helpers
    def add_guild(self, guild_id: str, name: str, *, owner_id: str | None = None) -> dict[str, Any]:
        """A guild with its @everyone role (id = guild id) and the bot as a member."""
        everyone = self._role(guild_id, "@everyone", EVERYONE_PERMISSIONS, position=0)
        bot_role = self._role(self.ids.next(), self.users[self.bot_user_id]["username"], 0, 1)
        bot_role.update(managed=True, permissions=str(BOT_PERMISSIONS))
        bot_role["tags"] = {"bot_id": self.bot_user_id}
        self.guilds[guild_id] = {
            "id": guild_id, "name": name, "owner_id": owner_id or OWNER_ID,
            "roles": [everyone, bot_role], **_fresh(GUILD_DEFAULTS),
        }  # fmt: skip
        self.members[guild_id] = {}
        bot = self.users[self.bot_user_id]
        self.add_member(guild_id, self.bot_user_id, bot["username"], roles=[bot_role["id"]])
        return self.guilds[guild_id]

    def _role(self, role_id: str, name: str, permissions: int, position: int) -> dict[str, Any]:
        role = {"id": role_id, "name": name, "permissions": str(permissions)}
        return {**role, "position": position, **_fresh(ROLE_DEFAULTS)}

    def add_role(self, guild_id: str, role_id: str, name: str, permissions: int = 0) -> dict:
        role = self._role(role_id, name, permissions, len(self.guilds[guild_id]["roles"]))
        self.guilds[guild_id]["roles"].append(role)
        return role

    def add_member(
        self,
        guild_id: str,
        user_id: str,
        username: str,
        *,
        roles: list[str] | tuple[str, ...] = (),
        nick: str | None = None,
        bot: bool = False,
    ) -> dict[str, Any]:
        user = self.users.setdefault(user_id, user_object(user_id, username, bot=bot))
        member = {**_fresh(MEMBER_DEFAULTS), "user": user, "nick": nick, "roles": list(roles),
                  "joined_at": iso()}  # fmt: skip
        self.members[guild_id][user_id] = member
        return member

    def add_channel(
        self,
        guild_id: str,
        channel_id: str,
        name: str,
        type: int = TEXT,
        *,
        available_tags: list[str | dict[str, Any]] | tuple[str, ...] = (),
        parent_id: str | None = None,
        topic: str | None = None,
    ) -> dict[str, Any]:
        """A text (0), category (4) or forum (15) channel; forum tags by name or as objects."""
        position = sum(1 for c in self.channels.values() if c.get("guild_id") == guild_id)
        channel: dict[str, Any] = {
            "id": channel_id, "type": type, "guild_id": guild_id, "name": name,
            "position": position, **_fresh(CHANNEL_DEFAULTS), "parent_id": parent_id,
            "topic": topic, **(_fresh(FORUM_DEFAULTS) if type == FORUM else {}),
        }  # fmt: skip
        if type == FORUM:
            self.set_tags(channel, list(available_tags))
        self.channels[channel_id] = channel
        self.messages[channel_id] = {}
        return channel

    def set_tags(self, forum: dict[str, Any], tags: list[Any]) -> list[dict[str, Any]]:
        """Replace a forum's tags; tags without an id get a new one (as PATCH does)."""
        if len(tags) > 20:
            raise invalid(
                "available_tags", "BASE_TYPE_MAX_LENGTH", "Must be 20 or fewer in length."
            )
        forum["available_tags"] = [
            {"id": str(t.get("id") or self.ids.next()), "name": t["name"],
             "moderated": bool(t.get("moderated", False)), "emoji_id": t.get("emoji_id"),
             "emoji_name": t.get("emoji_name")}
            for t in ({"name": t} if isinstance(t, str) else t for t in tags)
        ]  # fmt: skip
        return forum["available_tags"]

    def add_thread(
        self,
        parent_id: str,
        name: str,
        *,
        thread_id: str | None = None,
        owner_id: str | None = None,
        applied_tags: list[str] | tuple[str, ...] = (),
        type: int = PUBLIC_THREAD,
        auto_archive_duration: int = 4320,
    ) -> dict[str, Any]:
        parent = self.get_channel(parent_id)
        tid = thread_id or self.ids.next()
        now = iso()
        meta = {
            "archived": False,
            "auto_archive_duration": auto_archive_duration,
            "archive_timestamp": now,
            "locked": False,
            "create_timestamp": now,
        }
        thread: dict[str, Any] = {
            "id": tid, "type": type, "guild_id": parent["guild_id"], "parent_id": parent_id,
            "name": name, "owner_id": owner_id or self.bot_user_id, **_fresh(THREAD_DEFAULTS),
            "applied_tags": list(applied_tags), "thread_metadata": meta,
        }  # fmt: skip
        if parent["type"] == FORUM:
            self.check_tags(parent, thread["applied_tags"])
        self.channels[tid] = thread
        self.messages[tid] = {}
        return thread

    def check_tags(self, forum: dict[str, Any], tags: list[str]) -> None:
        known = {t["id"] for t in forum.get("available_tags", [])}
        if len(tags) > 5:
            raise invalid("applied_tags", "BASE_TYPE_MAX_LENGTH", "Must be 5 or fewer in length.")
        for i, tag in enumerate(tags):
            if str(tag) not in known:
                raise invalid(f"applied_tags.{i}", "TAG_INVALID", "Tag is invalid")

    def restrict(self, channel_id: str, code: int = 50013) -> None:
        """Make the bot lack access (50001) or permission to post (50013) in a channel
        and its threads; code 0 lifts it."""
        if code:
            self.restricted[channel_id] = code
        else:
            self.restricted.pop(channel_id, None)

    # ---------------------------------------------------------------- queries
    def get_channel(self, channel_id: str) -> dict[str, Any]:
        channel = self.channels.get(str(channel_id))
        if channel is None:
            raise DiscordError(10003)
        code = self.restricted.get(channel["id"]) or self.restricted.get(channel.get("parent_id"))
        if code == 50001:
            raise DiscordError(50001)
        return channel

    def get_message(self, channel_id: str, message_id: str) -> dict[str, Any]:
        self.get_channel(channel_id)
        message = self.messages[channel_id].get(message_id)
        if message is None:
            raise DiscordError(10008)
        return message

    def channel_messages(self, channel_id: str) -> list[dict[str, Any]]:
        return list(self.messages.get(str(channel_id), {}).values())

    def threads_of(self, channel_id: str) -> list[dict[str, Any]]:
        return [
            c
            for c in self.channels.values()
            if c.get("parent_id") == str(channel_id) and c["type"] in THREAD_TYPES
        ]

    def permissions(self, guild_id: str, user_id: str) -> int:
        guild, member = self.guilds[guild_id], self.members[guild_id].get(user_id)
        if guild["owner_id"] == user_id:
            return (1 << 53) - 1
        roles = {r["id"]: int(r["permissions"]) for r in guild["roles"]}
        value = roles[guild_id]
        for role_id in member["roles"] if member else ():
            value |= roles.get(role_id, 0)
        return (1 << 53) - 1 if value & ADMINISTRATOR else value

    def member_of(self, guild_id: str, user_id: str) -> dict[str, Any]:
        member = self.members.get(guild_id, {}).get(user_id)
        if member is None:
            raise DiscordError(10007)
        return member

    # ---------------------------------------------------------------- messages
    def check_send(self, channel: dict[str, Any]) -> bool:
        """Raise if the bot may not post in `channel`; True if an archived thread was
        reopened by the post (Discord unarchives unlocked threads on send)."""
        if channel["type"] not in (TEXT, 5, *THREAD_TYPES):
            raise DiscordError(50008)
        code = self.restricted.get(channel["id"]) or self.restricted.get(channel.get("parent_id"))
        if code:
            raise DiscordError(code)
        meta = channel.get("thread_metadata")
        if meta and meta["archived"]:
            if meta["locked"]:
                raise DiscordError(50083)
            meta.update(archived=False, archive_timestamp=iso())
            return True
        return False

    def new_message(
        self,
        channel_id: str,
        author: dict[str, Any],
        body: dict[str, Any],
        attachments: list[dict[str, Any]] = (),  # type: ignore[assignment]
        *,
        message_id: str | None = None,
        type: int = 0,
        store: bool = True,
        check: bool = True,
        **extra: Any,
    ) -> dict[str, Any]:
        """Validate a message body (content, embeds, components, flags, ...) as Discord
        does, build the message object and (unless ephemeral/not `store`) keep it."""
        content = str(body.get("content") or "")
        embeds = [{"type": "rich", **e} for e in body.get("embeds") or []]
        components = list(body.get("components") or [])
        if len(content) > 2000:
            raise invalid("content", "BASE_TYPE_MAX_LENGTH", "Must be 2000 or fewer in length.")
        if len(embeds) > 10:
            raise invalid("embeds", "BASE_TYPE_MAX_LENGTH", "Must be 10 or fewer in length.")
        if check and not (content or embeds or components or attachments
                          or body.get("sticker_ids") or body.get("poll")):  # fmt: skip
            raise DiscordError(50006)
        user_ids, role_ids = _mentions(content)
        mid = message_id or self.ids.next()
        message: dict[str, Any] = {
            "type": type, "content": content, "mentions": [
                self.users.get(u) or user_object(u, f"user{u[-4:]}") for u in user_ids],
            "mention_roles": role_ids, "attachments": list(attachments), "embeds": embeds,
            "timestamp": iso(), "flags": int(body.get("flags") or 0), "components": components,
            "id": mid, "channel_id": channel_id, "author": author, **_fresh(MESSAGE_DEFAULTS),
            "tts": bool(body.get("tts", False)),
        }  # fmt: skip
        if body.get("message_reference"):
            ref = body["message_reference"]
            message["message_reference"] = {"type": 0, "channel_id": channel_id, **ref}
        if body.get("nonce") is not None:
            message["nonce"] = body["nonce"]
        message.update(extra)
        if store and not message["flags"] & EPHEMERAL:
            self.store_message(message)
        return message

    def store_message(self, message: dict[str, Any]) -> None:
        self.messages.setdefault(message["channel_id"], {})[message["id"]] = message
        channel = self.channels.get(message["channel_id"])
        if channel is not None:
            channel["last_message_id"] = message["id"]
            if "message_count" in channel:
                channel["message_count"] += 1
                channel["total_message_sent"] += 1

    def edit_message(
        self, message: dict[str, Any], body: dict[str, Any], attachments: list[dict] | None
    ) -> dict[str, Any]:
        """Apply a PATCH body; `attachments` is the new list when the body names one."""
        for key, empty in (("content", ""), ("embeds", []), ("components", [])):
            if key in body:
                message[key] = body[key] if body[key] is not None else empty
        if "content" in body and len(message["content"]) > 2000:
            raise invalid("content", "BASE_TYPE_MAX_LENGTH", "Must be 2000 or fewer in length.")
        message["embeds"] = [{"type": "rich", **e} for e in message["embeds"]]
        if body.get("flags") is not None:  # only SUPPRESS_EMBEDS may change
            message["flags"] = (message["flags"] & ~4) | (int(body["flags"]) & 4)
        if attachments is not None:
            message["attachments"] = attachments
        message["flags"] &= ~LOADING
        message["edited_timestamp"] = iso()
        return message

    def attachment(
        self,
        name: str,
        data: bytes,
        kind: str,
        base_url: str,
        channel_id: str,
        text: str | None = None,
    ) -> dict[str, Any]:
        """Keep an uploaded file and describe it; its url is served by the stand-in's CDN."""
        aid = self.ids.next()
        self.files[aid] = (data, kind)
        now = int(time.time())  # CDN links are signed and expire, as on cdn.discordapp.com
        sig = hashlib.sha256(f"{aid}{now}".encode()).hexdigest()
        query = f"ex={now + 86400:x}&is={now:x}&hm={sig}&"
        url = f"{base_url}/attachments/{channel_id}/{aid}/{name}?{query}"
        out = {"id": aid, "filename": name, "size": len(data), "url": url, "proxy_url": url,
               "content_type": kind}  # fmt: skip
        if text:
            out["description"] = text
        return out
