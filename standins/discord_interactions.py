"""Interactions of the Discord stand-in: builders that dispatch INTERACTION_CREATE
(slash commands, components, modals), the callback endpoint with Discord's 3 s and
acknowledge-once rules, followups and @original edits; plus the request-body helpers the
REST handlers share (JSON, or multipart `payload_json` + `files[n]`)."""

from __future__ import annotations

import asyncio
import json
import mimetypes
import re
import secrets
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import web

from standins.base import wait_for
from standins.discord_gateway import DiscordGateway
from standins.discord_model import EPHEMERAL, LOADING
from standins.discord_objects import DiscordError, invalid

if TYPE_CHECKING:
    from standins.discord import DiscordStandIn

APPLICATION_COMMAND, MESSAGE_COMPONENT, MODAL_SUBMIT = 2, 3, 5
_OPTION_TYPES = {bool: 5, int: 4, float: 10, str: 3}
_SELECT_OPTION = {5: 6, 6: 8, 7: 9, 8: 7}  # select menu type -> the option type it resolves as
_CALLBACKS = {2: {4, 5, 9}, 3: {4, 5, 6, 7, 9}, 5: {4, 5, 6, 7}}  # interaction -> callbacks


def custom_ids(message: dict[str, Any]) -> list[str]:
    """The custom ids of a message's buttons and menus, row by row."""
    return [c["custom_id"] for row in message["components"] for c in row["components"]]


async def answered(api: DiscordStandIn, interaction: dict[str, Any]) -> list[dict[str, Any]]:
    """Wait until the bot followed up (or updated) the interaction; its callbacks."""
    record = api.interactions[interaction["id"]]
    await wait_for(
        lambda: record.followups or (record.original and not record.original["flags"] & LOADING)
    )
    return record.callbacks


def json_response(data: Any, status: int = 200) -> web.Response:
    """JSON with `Content-Type: application/json` exactly (discord.py compares it as is)."""
    return web.Response(
        status=status, body=json.dumps(data).encode(), headers={"Content-Type": "application/json"}
    )


def parse_multipart(raw: bytes, content_type: str) -> list[tuple[dict[str, str], bytes]]:
    """(headers with Content-Disposition params as `name`/`filename`, body) per part.
    The raw body is parsed because the recording middleware has already read the stream."""
    boundary = re.search(r'boundary="?([^";]+)"?', content_type)
    if boundary is None:
        raise DiscordError(50109)
    parts = []
    for chunk in raw.split(b"--" + boundary.group(1).encode())[1:]:
        if chunk.startswith(b"--"):
            break
        head, _, body = chunk.partition(b"\r\n\r\n")
        headers: dict[str, str] = {}
        for line in head.decode("utf-8", "replace").strip().split("\r\n"):
            key, _, value = line.partition(":")
            headers[key.strip().lower()] = value.strip()
        headers.update(re.findall(r'(\w+)="([^"]*)"', headers.get("content-disposition", "")))
        parts.append((headers, body.removesuffix(b"\r\n")))
    return parts


@dataclass
class InteractionRecord:
    """What happened to one dispatched interaction."""

    payload: dict[str, Any]
    dispatched_at: float
    callbacks: list[dict[str, Any]] = field(default_factory=list)  # bodies POSTed to /callback
    original: dict[str, Any] | None = None  # the @original message
    followups: list[dict[str, Any]] = field(default_factory=list)


class DiscordInteractions(DiscordGateway):
    interaction_timeout = 3.0  # seconds from dispatch within which the first callback must come

    def _init_interactions(self) -> None:
        self.interactions: dict[str, InteractionRecord] = {}

    # ---------------------------------------------------------------- body helpers
    async def _body(self, request: web.Request) -> tuple[dict[str, Any], dict[str, Any]]:
        """JSON body (a list arrives as {"_list": [...]}), or multipart `payload_json` and
        `files[n]` -> (filename, bytes, content type guessed from the name)."""
        raw = await request.read()
        ctype = request.headers.get("Content-Type", "")
        if ctype.startswith("multipart/form-data"):
            payload: dict[str, Any] = {}
            files: dict[str, Any] = {}
            for headers, data in parse_multipart(raw, ctype):
                if headers.get("name") == "payload_json":
                    payload = json.loads(data)
                elif "filename" in headers:
                    kind = headers.get("content-type", "application/octet-stream")
                    if kind == "application/octet-stream":
                        kind = mimetypes.guess_type(headers["filename"])[0] or kind
                    files[headers["name"]] = (headers["filename"], data, kind)
                else:
                    payload[headers["name"]] = data.decode()
            return payload, files
        try:
            body = json.loads(raw) if raw else {}
        except ValueError:
            raise DiscordError(50109) from None
        return (body if isinstance(body, dict) else {"_list": body}), {}

    def _attachments(
        self,
        channel_id: str,
        body: dict[str, Any],
        files: dict[str, Any],
        existing: list[dict[str, Any]] | None = None,
    ) -> list[dict[str, Any]] | None:
        """The message's attachments from `attachments` + uploaded files; None when the
        body names none (an edit then keeps what the message had)."""
        if not files and "attachments" not in body:
            return None
        out, used = [], set()
        for i, item in enumerate(body.get("attachments") or []):
            key = f"files[{item.get('id')}]"
            old = [a for a in existing or [] if a["id"] == str(item.get("id"))]
            if key in files:
                name, data, kind = files[key]
                name = item.get("filename") or name
                text = item.get("description")
                out.append(self.attachment(name, data, kind, self.url, channel_id, text))
                used.add(key)
            elif old:
                out.append(old[0])
            else:
                raise invalid(f"attachments.{i}.id", "ATTACHMENT_NOT_FOUND", "Unknown attachment")
        for key, (name, data, kind) in files.items():
            if key not in used:
                out.append(self.attachment(name, data, kind, self.url, channel_id))
        return out

    # ---------------------------------------------------------------- interactions
    async def interaction_create(self, payload: dict[str, Any]) -> dict[str, Any]:
        """Dispatch INTERACTION_CREATE; the 3 s answer window starts now."""
        loop = asyncio.get_running_loop()
        self.interactions[payload["id"]] = InteractionRecord(payload, loop.time())
        await self.dispatch("INTERACTION_CREATE", payload)
        return payload

    def interaction_responses(self, interaction_id: str) -> list[dict[str, Any]]:
        """The callback bodies the bot POSTed for an interaction, in order."""
        return self.interactions[str(interaction_id)].callbacks

    def _interaction(
        self, itype: int, channel_id: str, user_id: str, data: dict[str, Any], **extra: Any
    ) -> dict[str, Any]:
        channel = self.get_channel(channel_id)
        guild_id = channel["guild_id"]
        member = self.member_of(guild_id, user_id)
        return {
            "id": self.ids.next(), "application_id": self.application_id, "type": itype,
            "data": data, "guild_id": guild_id,
            "guild": {"id": guild_id, "locale": "en-US", "features": []},
            "channel_id": channel_id, "channel": channel,
            "member": {**member, "permissions": str(self.permissions(guild_id, user_id))},
            "token": "aW50ZXJhY3Rpb246" + secrets.token_urlsafe(60), "version": 1,
            "app_permissions": str(self.permissions(guild_id, self.bot_user_id)),
            "locale": "en-US", "guild_locale": "en-US", "entitlements": [],
            "authorizing_integration_owners": {"0": guild_id}, "context": 0,
            "attachment_size_limit": 10 << 20, **extra,
        }  # fmt: skip

    async def command_interaction(
        self,
        channel_id: str,
        user_id: str,
        subcommand: str | None,
        options: dict[str, Any] | None = None,
        *,
        command: str = "sms",
    ) -> dict[str, Any]:
        """`/sms <subcommand> [options]` typed by `user_id` in `channel_id` (type 2).
        Option types come from the registered command when the bot synced it, else from
        the Python type; ("6", id)-style `(type, value)` tuples force one. `subcommand`
        may be "group sub"."""
        guild_id = self.get_channel(channel_id)["guild_id"]
        found = [c for g in (guild_id, None) for c in self.commands.get(g, [])
                 if c["name"] == command and c.get("type", 1) == 1]  # fmt: skip
        registered = found[0] if found else None
        spec: list[dict[str, Any]] = registered.get("options", []) if registered else []
        top: list[dict[str, Any]] = []
        leaf = top
        for name in (subcommand or "").split():
            found = next((o for o in spec if o["name"] == name), {"type": 1, "options": []})
            node = {"type": found["type"], "name": name, "options": []}
            leaf.append(node)
            leaf, spec = node["options"], found.get("options", [])
        resolved: dict[str, dict[str, Any]] = {}
        for name, value in (options or {}).items():
            declared = next((o["type"] for o in spec if o["name"] == name), None)
            otype, value = value if isinstance(value, tuple) else (declared, value)
            otype = int(otype or _OPTION_TYPES.get(type(value), 3))
            leaf.append({"type": otype, "name": name, "value": value})
            self._resolve(resolved, guild_id, otype, str(value))
        cid = registered["id"] if registered else self.ids.next()
        data: dict[str, Any] = {"id": cid, "name": command, "type": 1, "options": top}
        if registered and registered.get("guild_id"):
            data["guild_id"] = registered["guild_id"]
        if resolved:
            data["resolved"] = resolved
        return await self.interaction_create(
            self._interaction(APPLICATION_COMMAND, channel_id, user_id, data)
        )

    def _resolve(self, out: dict[str, Any], guild_id: str, otype: int, value: str) -> None:
        if otype in (6, 9) and value in self.users:
            out.setdefault("users", {})[value] = self.users[value]
            if member := self.members[guild_id].get(value):
                member = {k: v for k, v in member.items() if k != "user"}
                perms = str(self.permissions(guild_id, value))
                out.setdefault("members", {})[value] = {**member, "permissions": perms}
        elif otype == 7 and value in self.channels:
            channel = self.channels[value]
            out.setdefault("channels", {})[value] = {**channel, "permissions": "0"}
        elif otype in (8, 9):
            for role in self.guilds[guild_id]["roles"]:
                if role["id"] == value:
                    out.setdefault("roles", {})[value] = role

    async def component_interaction(
        self,
        channel_id: str,
        user_id: str,
        custom_id: str,
        *,
        message_id: str | None = None,
        message: dict[str, Any] | None = None,
        component_type: int = 2,
        values: list[str] | None = None,
    ) -> dict[str, Any]:
        """A click on a button (2) or a choice in a select menu (3 string, 5 user, 6 role,
        7 mentionable, 8 channel; with `values`, resolved like Discord) of a message."""
        if message is None:
            if message_id is None:
                raise ValueError("give message_id or message")
            message = self.get_message(channel_id, message_id)
        data: dict[str, Any] = {"custom_id": custom_id, "component_type": component_type}
        if values is not None:
            data["values"] = [str(v) for v in values]
        if kind := _SELECT_OPTION.get(component_type):  # user/role/mentionable/channel select
            resolved: dict[str, Any] = {}
            for value in data.get("values", []):
                self._resolve(resolved, self.get_channel(channel_id)["guild_id"], kind, value)
            data["resolved"] = resolved
        payload = self._interaction(MESSAGE_COMPONENT, channel_id, user_id, data, message=message)
        return await self.interaction_create(payload)

    async def modal_interaction(
        self,
        channel_id: str,
        user_id: str,
        custom_id: str,
        fields: dict[str, str],
        *,
        message: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """A submitted modal (type 5): `fields` maps text input custom_id -> value."""
        rows = [{"type": 1, "components": [{"type": 4, "custom_id": k, "value": v}]}
                for k, v in fields.items()]  # fmt: skip
        extra = {"message": message} if message is not None else {}
        data = {"custom_id": custom_id, "components": rows}
        return await self.interaction_create(
            self._interaction(MODAL_SUBMIT, channel_id, user_id, data, **extra)
        )

    # ---------------------------------------------------------------- callbacks, followups
    async def _callback(self, request: web.Request) -> web.Response:
        m = request.match_info
        rec = self.interactions.get(m["interaction_id"])
        if rec is None or rec.payload["token"] != m["token"]:
            raise DiscordError(10062)
        body, files = await self._body(request)
        if rec.callbacks:
            raise DiscordError(40060)
        if asyncio.get_running_loop().time() - rec.dispatched_at > self.interaction_timeout:
            raise DiscordError(10062)
        ctype, data = body.get("type"), body.get("data") or {}
        itype = rec.payload["type"]
        if ctype not in _CALLBACKS.get(itype, {1, 8}):
            raise invalid("type", "INTERACTION_CALLBACK_TYPE_INVALID", "Invalid callback type")
        if ctype == 9 and not all(data.get(k) for k in ("custom_id", "title", "components")):
            raise invalid("data.components", "BASE_TYPE_REQUIRED", "This field is required")
        channel_id = rec.payload["channel_id"]
        ephemeral = bool(int(data.get("flags") or 0) & EPHEMERAL)
        resource: dict[str, Any] = {"type": ctype}
        if ctype in (4, 5):
            if ctype == 5:
                data = {"content": "", "flags": LOADING | (EPHEMERAL if ephemeral else 0)}
            attachments = self._attachments(channel_id, data, files) or []
            rec.original = await self._interaction_message(
                rec, data, attachments, check=ctype == 4, type=20 if itype == 2 else 0
            )
            resource["message"] = rec.original
        elif ctype in (6, 7):
            target = rec.payload.get("message")
            if target is None:
                raise invalid("type", "INTERACTION_CALLBACK_TYPE_INVALID", "No message to update")
            rec.original = self.messages.get(target["channel_id"], {}).get(target["id"], target)
            if ctype == 7:
                old = rec.original["attachments"]
                attachments = self._attachments(channel_id, data, files, old)
                self.edit_message(rec.original, data, attachments)
                await self._echo_stored("MESSAGE_UPDATE", rec.original)
                resource["message"] = rec.original
        rec.callbacks.append(body)
        if request.query.get("with_response") not in ("1", "true", "True"):
            return web.Response(status=204)
        info: dict[str, Any] = {"id": rec.payload["id"], "type": itype}
        if "message" in resource:
            info["response_message_id"] = resource["message"]["id"]
            info["response_message_loading"] = ctype == 5
            info["response_message_ephemeral"] = ephemeral
        return json_response({"interaction": info, "resource": resource})

    async def _interaction_message(
        self, rec: InteractionRecord, body: dict[str, Any], attachments: list, **kw: Any
    ) -> dict[str, Any]:
        payload = rec.payload
        user = payload["member"]["user"]
        meta = {
            "id": payload["id"],
            "type": payload["type"],
            "user": user,
            "authorizing_integration_owners": payload["authorizing_integration_owners"],
        }
        if payload["type"] == 2:
            meta["name"] = payload["data"]["name"]
        message = self.new_message(
            payload["channel_id"], self.users[self.bot_user_id], body, attachments,
            webhook_id=self.application_id, application_id=self.application_id,
            interaction_metadata=meta, **kw,
        )  # fmt: skip
        if not message["flags"] & EPHEMERAL:
            await self._echo("MESSAGE_CREATE", self._event_message(message))
        return message

    async def _echo_stored(self, event: str, message: dict[str, Any]) -> None:
        if message["id"] in self.messages.get(message["channel_id"], {}):
            await self._echo(event, self._event_message(message))

    def _by_token(self, webhook_id: str, token: str) -> InteractionRecord | None:
        if webhook_id != self.application_id:
            return None
        return next((r for r in self.interactions.values() if r.payload["token"] == token), None)

    async def _followup(
        self, rec: InteractionRecord, body: dict[str, Any], files: dict[str, Any]
    ) -> dict[str, Any]:
        """POST /webhooks/{application}/{token}: only after the interaction was answered."""
        if not rec.callbacks:
            raise DiscordError(10015)
        attachments = self._attachments(rec.payload["channel_id"], body, files) or []
        message = await self._interaction_message(rec, body, attachments)
        rec.followups.append(message)
        return message

    def _interaction_message_by_id(self, rec: InteractionRecord, mid: str) -> dict | None:
        if mid == "@original":
            return rec.original
        return next((f for f in rec.followups if f["id"] == mid), None)
