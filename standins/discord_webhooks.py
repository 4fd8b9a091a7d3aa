"""Channel webhooks of the Discord stand-in (create, list, execute with username /
avatar_url / thread_id / thread_name, edit and delete their messages), sharing the
`/webhooks/{id}/{token}` routes with interaction followups."""

from __future__ import annotations

import re
import secrets
from typing import Any

from aiohttp import web

from standins.discord_interactions import DiscordInteractions, json_response
from standins.discord_model import FORUM
from standins.discord_objects import DiscordError, invalid

API = "/api/v10"


def _bad_name(name: str) -> bool:
    """Discord refuses webhook names and usernames outside 1..80 chars or naming it."""
    return not 1 <= len(name) <= 80 or re.search("clyde|discord", name, re.I) is not None


class DiscordWebhooks(DiscordInteractions):
    def _init_webhooks(self) -> None:
        self._init_interactions()
        # one entry per execution: webhook_id, username, avatar_url, channel, thread, message
        self.webhook_executions: list[dict[str, Any]] = []

    def _webhook_routes(self) -> list[tuple[str, str, Any]]:
        msg = "/webhooks/{webhook_id}/{token}/messages/{message_id}"
        return [
            ("POST", "/interactions/{interaction_id}/{token}/callback", self._callback),
            ("GET", "/channels/{channel_id}/webhooks", self._channel_webhooks),
            ("POST", "/channels/{channel_id}/webhooks", self._channel_webhooks),
            ("GET", "/webhooks/{webhook_id}/{token}", self._get_webhook),
            ("POST", "/webhooks/{webhook_id}/{token}", self._execute),
            ("GET", msg, self._webhook_message),
            ("PATCH", msg, self._webhook_message),
            ("DELETE", msg, self._webhook_message),
        ]

    async def _channel_webhooks(self, request: web.Request) -> web.Response:
        channel = self.get_channel(request.match_info["channel_id"])
        if request.method == "GET":
            hooks = [w for w in self.webhooks.values() if w["channel_id"] == channel["id"]]
            return json_response(hooks)
        body, _ = await self._body(request)
        if "thread_metadata" in channel:
            raise DiscordError(50024)
        if self.restricted.get(channel["id"]):
            raise DiscordError(self.restricted[channel["id"]])
        name = str(body.get("name") or "")
        if _bad_name(name):
            raise invalid("name", "BASE_TYPE_BAD_LENGTH", "Invalid webhook name")
        wid, token = self.ids.next(), secrets.token_urlsafe(51)
        self.webhooks[wid] = {
            "id": wid, "type": 1, "guild_id": channel["guild_id"], "channel_id": channel["id"],
            "name": name, "avatar": None, "token": token, "application_id": self.application_id,
            "user": self.users[self.bot_user_id], "url": f"{self.url}{API}/webhooks/{wid}/{token}",
        }  # fmt: skip
        return json_response(self.webhooks[wid])

    def _webhook(self, webhook_id: str, token: str) -> dict[str, Any]:
        hook = self.webhooks.get(webhook_id)
        if hook is None:
            raise DiscordError(10015)
        if hook["token"] != token:
            raise DiscordError(50027)
        return hook

    async def _get_webhook(self, request: web.Request) -> web.Response:
        hook = self._webhook(request.match_info["webhook_id"], request.match_info["token"])
        return json_response({k: v for k, v in hook.items() if k != "user"})

    async def _execute(self, request: web.Request) -> web.Response:
        m, q = request.match_info, request.query
        body, files = await self._body(request)
        wait = q.get("wait") in ("1", "true", "True")
        rec = self._by_token(m["webhook_id"], m["token"])
        if rec is not None:
            message = await self._followup(rec, body, files)
            return json_response(message) if wait else web.Response(status=204)
        hook = self._webhook(m["webhook_id"], m["token"])
        channel = self.get_channel(hook["channel_id"])
        username = str(body.get("username") or hook["name"])
        if _bad_name(username):
            raise invalid("username", "USERNAME_INVALID", "Invalid username")
        author = {"id": hook["id"], "username": username, "avatar": None, "discriminator": "0000",
                  "bot": True, "global_name": None, "public_flags": 0, "flags": 0}  # fmt: skip
        thread, starter = None, False
        if q.get("thread_id"):
            thread = self.get_channel(q["thread_id"])
            if thread.get("parent_id") != channel["id"]:
                raise DiscordError(10003)
        elif channel["type"] == FORUM:  # a webhook may open a forum post with thread_name
            if not body.get("thread_name"):
                raise DiscordError(220001)
            tags = [str(t) for t in body.get("applied_tags") or []]
            name = str(body["thread_name"])
            thread = self.add_thread(channel["id"], name, owner_id=hook["id"], applied_tags=tags)
            await self._echo("THREAD_CREATE", {**thread, "newly_created": True})
            starter = True
        target = thread or channel
        if self.check_send(target):
            await self._echo("THREAD_UPDATE", target)
        attachments = self._attachments(target["id"], body, files) or []
        mid = target["id"] if starter else None  # a forum post's first message has its id
        message = self.new_message(
            target["id"], author, body, attachments, message_id=mid, webhook_id=hook["id"]
        )
        self.webhook_executions.append({
            "webhook_id": hook["id"], "username": username, "avatar_url": body.get("avatar_url"),
            "channel_id": target["id"], "thread_id": thread and thread["id"],
            "message_id": message["id"],
        })  # fmt: skip
        await self._echo("MESSAGE_CREATE", self._event_message(message))
        return json_response(message) if wait else web.Response(status=204)

    async def _webhook_message(self, request: web.Request) -> web.Response:
        m = request.match_info
        rec = self._by_token(m["webhook_id"], m["token"])
        if rec is not None:
            found = self._interaction_message_by_id(rec, m["message_id"])
        else:
            hook = self._webhook(m["webhook_id"], m["token"])
            channel_id = request.query.get("thread_id") or hook["channel_id"]
            found = self.messages.get(channel_id, {}).get(m["message_id"])
            if found is not None and found.get("webhook_id") != hook["id"]:
                found = None
        if found is None:
            raise DiscordError(10008)
        if request.method == "GET":
            return json_response(found)
        if request.method == "DELETE":
            if self.messages.get(found["channel_id"], {}).pop(found["id"], None) is not None:
                event = {"id": found["id"], "channel_id": found["channel_id"],
                         "guild_id": self.channels[found["channel_id"]]["guild_id"]}  # fmt: skip
                await self._echo("MESSAGE_DELETE", event)
            if rec is not None and rec.original is found:
                rec.original = None
            return web.Response(status=204)
        body, files = await self._body(request)
        attachments = self._attachments(found["channel_id"], body, files, found["attachments"])
        self.edit_message(found, body, attachments)
        await self._echo_stored("MESSAGE_UPDATE", found)
        return json_response(found)
