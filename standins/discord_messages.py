"""Message, reaction and thread routes of the Discord stand-in: post (with `nonce` and
`enforce_nonce`), read, edit and delete messages, react, start forum posts and threads.
Each change comes back to the bot as its gateway event, as on Discord."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from standins.discord_interactions import DiscordInteractions, json_response
from standins.discord_model import FORUM, HAS_THREAD, TEXT
from standins.discord_objects import DiscordError, invalid


def check_name(body: dict[str, Any]) -> None:
    if not 1 <= len(str(body.get("name") or "")) <= 100:
        raise invalid("name", "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length.")


class DiscordMessages(DiscordInteractions):
    def _message_routes(self) -> list[tuple[str, str, Any]]:
        one = "/channels/{channel_id}/messages/{message_id}"
        return [
            ("GET", "/channels/{channel_id}/messages", self._list_messages),
            ("POST", "/channels/{channel_id}/messages", self._post_message),
            ("GET", one, self._get_message),
            ("PATCH", one, self._patch_message),
            ("DELETE", one, self._delete_message),
            ("PUT", one + "/reactions/{emoji}/@me", self._react),
            ("DELETE", one + "/reactions/{emoji}/@me", self._react),
            ("POST", "/channels/{channel_id}/threads", self._post_thread),
            ("POST", one + "/threads", self._thread_from),
        ]

    def _bot(self) -> dict[str, Any]:
        return self.users[self.bot_user_id]

    # ---------------------------------------------------------------- messages
    async def _list_messages(self, request: web.Request) -> web.Response:
        channel = self.get_channel(request.match_info["channel_id"])
        q = request.query
        items = sorted(self.channel_messages(channel["id"]), key=lambda m: -int(m["id"]))
        if "before" in q:
            items = [m for m in items if int(m["id"]) < int(q["before"])]
        if "after" in q:
            items = [m for m in items if int(m["id"]) > int(q["after"])][::-1]
        return json_response(items[: max(1, min(100, int(q.get("limit", 50))))])

    async def _post_message(self, request: web.Request) -> web.Response:
        channel = self.get_channel(request.match_info["channel_id"])
        body, files = await self._body(request)
        reopened = self.check_send(channel)
        if body.get("enforce_nonce") and body.get("nonce") is not None:  # a retried send
            for seen in self.channel_messages(channel["id"]):
                if seen.get("nonce") == body["nonce"] and seen["author"]["id"] == self.bot_user_id:
                    return json_response(seen)
        attachments = self._attachments(channel["id"], body, files) or []
        message = self.new_message(channel["id"], self._bot(), body, attachments)
        if reopened:
            await self._echo("THREAD_UPDATE", channel)
        await self._echo("MESSAGE_CREATE", self._event_message(message))
        return json_response(message)

    async def _get_message(self, request: web.Request) -> web.Response:
        m = request.match_info
        return json_response(self.get_message(m["channel_id"], m["message_id"]))

    async def _patch_message(self, request: web.Request) -> web.Response:
        m = request.match_info
        message = self.get_message(m["channel_id"], m["message_id"])
        if message["author"]["id"] != self.bot_user_id:
            raise DiscordError(50005)
        body, files = await self._body(request)
        attachments = self._attachments(m["channel_id"], body, files, message["attachments"])
        self.edit_message(message, body, attachments)
        await self._echo("MESSAGE_UPDATE", self._event_message(message))
        return json_response(message)

    async def _delete_message(self, request: web.Request) -> web.Response:
        m = request.match_info
        self.get_message(m["channel_id"], m["message_id"])
        del self.messages[m["channel_id"]][m["message_id"]]
        guild_id = self.channels[m["channel_id"]]["guild_id"]
        event = {"id": m["message_id"], "channel_id": m["channel_id"], "guild_id": guild_id}
        await self._echo("MESSAGE_DELETE", event)
        return web.Response(status=204)

    async def _react(self, request: web.Request) -> web.Response:
        m = request.match_info
        message = self.get_message(m["channel_id"], m["message_id"])
        name, _, emoji_id = m["emoji"].partition(":")
        if not emoji_id and name.isascii():
            raise DiscordError(10014)
        emoji = {"id": emoji_id or None, "name": name}
        reactions = message.setdefault("reactions", [])
        mine = next((r for r in reactions if r["emoji"] == emoji), None)
        adding = request.method == "PUT"
        if adding and mine is None:
            reactions.append({"emoji": emoji, "count": 1, "me": True, "me_burst": False,
                              "burst_me": False, "burst_count": 0, "burst_colors": [],
                              "count_details": {"burst": 0, "normal": 1}})  # fmt: skip
        elif not adding and mine is not None:
            reactions.remove(mine)
        guild_id = self.channels[m["channel_id"]]["guild_id"]
        event = {"user_id": self.bot_user_id, "channel_id": m["channel_id"], "emoji": emoji,
                 "message_id": m["message_id"], "guild_id": guild_id, "burst": False,
                 "type": 0}  # fmt: skip
        if (adding and mine is None) or (not adding and mine is not None):
            await self._echo("MESSAGE_REACTION_" + ("ADD" if adding else "REMOVE"), event)
        return web.Response(status=204)

    # ---------------------------------------------------------------- threads
    async def _post_thread(self, request: web.Request) -> web.Response:
        parent = self.get_channel(request.match_info["channel_id"])
        body, files = await self._body(request)
        check_name(body)
        if self.restricted.get(parent["id"]):
            raise DiscordError(self.restricted[parent["id"]])
        archive = int(body.get("auto_archive_duration") or 4320)
        if parent["type"] == FORUM:
            if not isinstance(body.get("message"), dict):
                raise invalid("message", "BASE_TYPE_REQUIRED", "This field is required")
            tid = self.ids.next()
            tags = [str(t) for t in body.get("applied_tags") or []]
            self.check_tags(parent, tags)
            attachments = self._attachments(tid, body["message"], files) or []
            message = self.new_message(tid, self._bot(), body["message"], attachments,
                                       message_id=tid, store=False, position=0)  # fmt: skip
            thread = self.add_thread(parent["id"], body["name"], thread_id=tid,
                                     applied_tags=tags, auto_archive_duration=archive)  # fmt: skip
            self.store_message(message)
            await self._echo("THREAD_CREATE", {**thread, "newly_created": True})
            await self._echo("MESSAGE_CREATE", self._event_message(message))
            return json_response({**thread, "message": message}, 201)
        if parent["type"] != TEXT:
            raise DiscordError(50024)
        kind = int(body.get("type") or 12)  # a text channel thread is private by default
        thread = self.add_thread(parent["id"], body["name"], type=kind,
                                 auto_archive_duration=archive)  # fmt: skip
        await self._echo("THREAD_CREATE", {**thread, "newly_created": True})
        return json_response(thread, 201)

    async def _thread_from(self, request: web.Request) -> web.Response:
        m = request.match_info
        message = self.get_message(m["channel_id"], m["message_id"])
        body, _ = await self._body(request)
        check_name(body)
        if message.get("thread") or message["id"] in self.channels:
            raise DiscordError(160004)
        archive = int(body.get("auto_archive_duration") or 4320)
        thread = self.add_thread(
            m["channel_id"], body["name"], thread_id=message["id"], auto_archive_duration=archive
        )
        message["thread"], message["flags"] = thread, message["flags"] | HAS_THREAD
        await self._echo("THREAD_CREATE", {**thread, "newly_created": True})
        return json_response(thread, 201)
