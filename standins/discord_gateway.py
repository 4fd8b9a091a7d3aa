"""Gateway half of the Discord stand-in: a websocket speaking gateway v10 JSON (with
zlib-stream transport compression when the client asks for it, as discord.py does), and
the helpers tests use to push events (messages, interactions) to the connected bot."""

from __future__ import annotations

import asyncio
import json
import uuid
import zlib
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

from standins.discord_model import APP_FLAGS, THREAD_TYPES, DiscordModel, user_object

# Gateway intents (https://discord.com/developers/docs/events/gateway#gateway-intents)
GUILDS, GUILD_MESSAGES, DIRECT_MESSAGES, MESSAGE_CONTENT = 1, 1 << 9, 1 << 12, 1 << 15
_BODY_FIELDS = {"components", "flags", "message_reference", "tts", "nonce", "sticker_ids", "poll"}
PRIVILEGED = (1 << 1) | (1 << 8) | MESSAGE_CONTENT  # members, presences, message content
_EVENT_INTENT = {
    **dict.fromkeys(
        "GUILD_UPDATE GUILD_DELETE GUILD_ROLE_CREATE GUILD_ROLE_UPDATE GUILD_ROLE_DELETE "
        "CHANNEL_CREATE CHANNEL_UPDATE CHANNEL_DELETE THREAD_CREATE THREAD_UPDATE THREAD_DELETE "
        "THREAD_LIST_SYNC THREAD_MEMBER_UPDATE THREAD_MEMBERS_UPDATE".split(),
        GUILDS,
    ),
    **dict.fromkeys("GUILD_MEMBER_ADD GUILD_MEMBER_UPDATE GUILD_MEMBER_REMOVE".split(), 1 << 1),
    **dict.fromkeys("MESSAGE_CREATE MESSAGE_UPDATE MESSAGE_DELETE".split(), GUILD_MESSAGES),
    **dict.fromkeys("MESSAGE_REACTION_ADD MESSAGE_REACTION_REMOVE".split(), 1 << 10),
}


@dataclass(eq=False)
class _Conn:
    ws: web.WebSocketResponse
    zlib: Any = None  # a zlib compressobj when the client asked for zlib-stream
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


@dataclass
class GatewaySession:
    session_id: str
    intents: int
    conn: _Conn | None
    seq: int = 0
    log: list[dict[str, Any]] = field(default_factory=list)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class DiscordGateway(DiscordModel):
    heartbeat_interval_ms = 41250
    token: str
    url: str

    def _init_gateway(self) -> None:
        self.session: GatewaySession | None = None
        self.identifies: list[dict[str, Any]] = []  # IDENTIFY `d` payloads (intents, ...)
        self.gateway_connects: list[dict[str, Any]] = []  # path and query of each connection
        self.received_ops: list[dict[str, Any]] = []  # every payload the client sent
        self.resumes = 0
        self.privileged_intents = PRIVILEGED  # what the application may ask for (else 4014)
        self._conns: set[_Conn] = set()
        self._connected, self._ready = asyncio.Event(), asyncio.Event()

    @property
    def gateway_url(self) -> str:
        return "ws" + self.url.removeprefix("http") + "/gateway"

    # ---------------------------------------------------------------- websocket
    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(max_msg_size=0)
        await ws.prepare(request)
        query = dict(request.query)
        self.gateway_connects.append({"path": request.path, "query": query})
        conn = _Conn(ws, zlib.compressobj() if query.get("compress") == "zlib-stream" else None)
        self._conns.add(conn)
        try:
            if query.get("v") != "10" or query.get("encoding", "json") != "json":
                await ws.close(code=4012 if query.get("v") != "10" else 4002)
                return ws
            hello = {"heartbeat_interval": self.heartbeat_interval_ms, "_trace": ["stand-in"]}
            await self._send(conn, {"op": 10, "d": hello, "s": None, "t": None})
            async for msg in ws:
                if msg.type is not WSMsgType.TEXT:
                    await ws.close(code=4002)
                    break
                payload = json.loads(msg.data)
                self.received_ops.append(payload)
                await self._on_op(conn, payload.get("op"), payload.get("d"))
        finally:
            self._conns.discard(conn)
            if self.session is not None and self.session.conn is conn:
                self.session.conn = None
                self._connected.clear()
                if ws.close_code in (1000, 1001):  # a clean close by the client ends the session
                    self.session = None
                    self._ready.clear()
        return ws

    async def _send(self, conn: _Conn, payload: dict[str, Any]) -> None:
        text = json.dumps(payload)
        async with conn.lock:  # zlib-stream frames must go out in compression order
            if conn.ws.closed:
                return
            try:
                if conn.zlib is None:
                    await conn.ws.send_str(text)
                else:
                    data = conn.zlib.compress(text.encode()) + conn.zlib.flush(zlib.Z_SYNC_FLUSH)
                    await conn.ws.send_bytes(data)
            except ConnectionError:  # the client is going; a resume replays the event
                pass

    async def _on_op(self, conn: _Conn, op: Any, d: Any) -> None:
        if op == 1:
            await self._send(conn, {"op": 11, "d": None, "s": None, "t": None})
        elif op == 2:
            await self._identify(conn, d)
        elif op == 6:
            await self._resume(conn, d)
        elif op == 8:
            await self._request_members(d)
        elif op not in (3, 4):  # presence and voice state updates are accepted and ignored
            await conn.ws.close(code=4001)  # Unknown opcode

    async def _identify(self, conn: _Conn, d: dict[str, Any]) -> None:
        self.identifies.append(d)
        intents = d.get("intents")
        if self.session is not None and self.session.conn is conn:
            await conn.ws.close(code=4005)  # Already authenticated
            return
        if str(d.get("token", "")).removeprefix("Bot ") != self.token:
            await conn.ws.close(code=4004)  # Authentication failed
            return
        if not isinstance(intents, int) or intents < 0:
            await conn.ws.close(code=4013)  # Invalid intent(s)
            return
        if intents & PRIVILEGED & ~self.privileged_intents:
            await conn.ws.close(code=4014)  # Disallowed intent(s)
            return
        self._ready.clear()
        self.session = GatewaySession(uuid.uuid4().hex, intents, conn)
        resume_url = self.gateway_url.removesuffix("/gateway") + "/gateway-resume"
        ready = {
            "v": 10, "user": self.users[self.bot_user_id], "user_settings": {},
            "guilds": [{"id": g, "unavailable": True} for g in self.guilds],
            "session_id": self.session.session_id, "session_type": "normal",
            "resume_gateway_url": resume_url, "private_channels": [], "presences": [],
            "application": {"id": self.application_id, "flags": APP_FLAGS},
            "relationships": [], "auth": {}, "geo_ordered_rtc_regions": [],
            "guild_join_requests": [], "_trace": ["stand-in"],
        }  # fmt: skip
        if d.get("shard"):
            ready["shard"] = d["shard"]
        self._connected.set()
        await self.dispatch("READY", ready)
        for guild_id in self.guilds:
            await self.dispatch("GUILD_CREATE", self.guild_payload(guild_id, intents & 2 > 0))
        self._ready.set()

    async def _resume(self, conn: _Conn, d: dict[str, Any]) -> None:
        session = self.session
        if str(d.get("token", "")).removeprefix("Bot ") != self.token:
            await conn.ws.close(code=4004)
            return
        if session is None or d.get("session_id") != session.session_id:
            await self._send(conn, {"op": 9, "d": False, "s": None, "t": None})
            return
        self.resumes += 1
        async with session.lock:
            session.conn = conn
            for payload in session.log:
                if payload["s"] > (d.get("seq") or 0):
                    await self._send(conn, payload)
        self._connected.set()
        await self.dispatch("RESUMED", {"_trace": ["stand-in"]})

    async def _request_members(self, d: dict[str, Any]) -> None:
        guild_id = str(d.get("guild_id"))
        members = list(self.members.get(guild_id, {}).values())
        if d.get("user_ids"):
            wanted = {str(u) for u in d["user_ids"]}
            members = [m for m in members if m["user"]["id"] in wanted]
        elif d.get("query"):
            members = [m for m in members if m["user"]["username"].startswith(d["query"])]
        chunk = {
            "guild_id": guild_id,
            "members": members[: d.get("limit") or None],
            "chunk_index": 0,
            "chunk_count": 1,
            "not_found": [],
        }
        if d.get("nonce"):
            chunk["nonce"] = d["nonce"]
        await self.dispatch("GUILD_MEMBERS_CHUNK", chunk)

    # ---------------------------------------------------------------- sending events
    async def dispatch(self, event: str, data: dict[str, Any]) -> int | None:
        """Send a DISPATCH (op 0) to the bot's session with the next sequence number.
        Events the session's intents exclude are not sent (None); message content is
        blanked without the MESSAGE_CONTENT intent, as Discord does. While the client is
        away (after `reconnect`), events are kept and replayed when it RESUMEs."""
        session = self.session
        if session is None:
            raise RuntimeError("no gateway session: the client has not identified yet")
        need = _EVENT_INTENT.get(event, 0)
        if event.startswith("MESSAGE") and "guild_id" not in data:
            need = DIRECT_MESSAGES if need == GUILD_MESSAGES else need
        if need and not session.intents & need:
            return None
        if event in ("MESSAGE_CREATE", "MESSAGE_UPDATE") and not session.intents & MESSAGE_CONTENT:
            data = self._without_content(data)
        async with session.lock:
            session.seq += 1
            payload = {"op": 0, "t": event, "s": session.seq, "d": data}
            session.log.append(payload)
            if session.conn is not None:
                await self._send(session.conn, payload)
            return session.seq

    def _without_content(self, data: dict[str, Any]) -> dict[str, Any]:
        author = data.get("author", {}).get("id")
        mentioned = any(u.get("id") == self.bot_user_id for u in data.get("mentions", []))
        if author == self.bot_user_id or mentioned or "guild_id" not in data:
            return data
        return {**data, "content": "", "embeds": [], "attachments": [], "components": []}

    async def _echo(self, event: str, data: dict[str, Any]) -> None:
        """What Discord tells the bot about its own REST actions (MESSAGE_CREATE of its
        posts, THREAD_CREATE, ...); dropped when no session is open."""
        if self.session is not None and self.echo:
            await self.dispatch(event, data)

    echo = True

    def _event_message(self, message: dict[str, Any]) -> dict[str, Any]:
        guild_id = self.channels.get(message["channel_id"], {}).get("guild_id")
        if guild_id is None:
            return message
        event = {**message, "guild_id": guild_id}
        member = self.members[guild_id].get(message["author"]["id"])
        if member is not None and "webhook_id" not in message:
            event["member"] = {k: v for k, v in member.items() if k != "user"}
        return event

    async def reconnect(self, *, close_code: int | None = None) -> None:
        """Ask the bot to reconnect: op 7 RECONNECT, or close the socket with
        `close_code` (e.g. 4000, resumable). Until the client RESUMEs, dispatched events
        are only logged, then replayed; `wait_connected()` waits for the resume."""
        session = self.session
        if session is None or session.conn is None:
            raise RuntimeError("no connected gateway session")
        async with session.lock:
            conn, session.conn = session.conn, None
        self._connected.clear()
        if close_code is None:
            await self._send(conn, {"op": 7, "d": None, "s": None, "t": None})
        else:
            await conn.ws.close(code=close_code)

    async def invalidate_session(self, *, resumable: bool = False) -> None:
        """Send op 9 INVALID_SESSION; unless `resumable`, the session is forgotten."""
        session = self.session
        if session is None or session.conn is None:
            raise RuntimeError("no connected gateway session")
        conn = session.conn
        if not resumable:
            self.session = None
            self._connected.clear()
            self._ready.clear()
        await self._send(conn, {"op": 9, "d": resumable, "s": None, "t": None})

    async def wait_connected(self, timeout: float = 10.0) -> None:
        """Until a client has identified or resumed and is attached to the session."""
        await asyncio.wait_for(self._connected.wait(), timeout)

    async def wait_ready(self, timeout: float = 10.0) -> None:
        """Until READY and every GUILD_CREATE were sent after an IDENTIFY."""
        await asyncio.wait_for(self._ready.wait(), timeout)

    async def _close_gateway(self) -> None:
        for conn in list(self._conns):
            await conn.ws.close(code=1001)

    def guild_payload(self, guild_id: str, all_members: bool) -> dict[str, Any]:
        """GUILD_CREATE: the guild with its channels, active threads, members and roles."""
        guild = self.guilds[guild_id]
        members = self.members[guild_id]
        in_guild = [c for c in self.channels.values() if c.get("guild_id") == guild_id]
        strip = lambda c: {k: v for k, v in c.items() if k != "guild_id"}  # noqa: E731
        return {
            **guild, "unavailable": False, "joined_at": members[self.bot_user_id]["joined_at"],
            "large": False, "lazy": True, "member_count": len(members),
            "members": list(members.values()) if all_members else [members[self.bot_user_id]],
            "channels": [strip(c) for c in in_guild if c["type"] not in THREAD_TYPES],
            "threads": [c for c in in_guild if c["type"] in THREAD_TYPES
                        and not c["thread_metadata"]["archived"]],
            "presences": [], "voice_states": [], "stage_instances": [],
            "guild_scheduled_events": [], "soundboard_sounds": [], "embedded_activities": [],
            "application_command_counts": {}, "data_mode": "full", "version": 0,
        }  # fmt: skip

    # ---------------------------------------------------------------- message events
    async def message_create(
        self,
        channel_id: str,
        author_id: str,
        content: str = "",
        attachments: Any = (),
        *,
        guild_id: str | None = None,
        embeds: list[dict[str, Any]] | None = None,
        message_id: str | None = None,
        **extra: Any,
    ) -> dict[str, Any]:
        """A member posts in a channel or thread: store it and send MESSAGE_CREATE.
        `attachments`: (filename, bytes[, content type]) tuples, served by the stand-in.
        Body fields in `extra` (components, flags, message_reference, ...) are validated as
        a post; others (webhook_id, type, ...) are set on the message as given."""
        channel = self.get_channel(channel_id)
        guild_id = guild_id or channel["guild_id"]
        author = self.users.get(author_id) or user_object(author_id, f"user{author_id[-4:]}")
        files = [self.attachment(a[0], a[1], a[2] if len(a) > 2 else "application/octet-stream",
                                 self.url, channel_id) for a in attachments]  # fmt: skip
        body = {"content": content, "embeds": embeds or []}
        body.update({k: extra.pop(k) for k in _BODY_FIELDS & extra.keys()})
        message = self.new_message(channel_id, author, body, files, message_id=message_id, **extra)
        event = self._event_message(message)
        event["guild_id"] = guild_id
        await self.dispatch("MESSAGE_CREATE", event)
        return message

    async def message_update(self, channel_id: str, message_id: str, **changes: Any) -> dict:
        """Edit a stored message (content=..., embeds=...) and send MESSAGE_UPDATE."""
        message = self.edit_message(self.get_message(channel_id, message_id), changes, None)
        await self.dispatch("MESSAGE_UPDATE", self._event_message(message))
        return message

    async def message_delete(self, channel_id: str, message_id: str) -> None:
        self.get_message(channel_id, message_id)
        del self.messages[channel_id][message_id]
        event = {"id": message_id, "channel_id": channel_id}
        if guild_id := self.channels[channel_id].get("guild_id"):
            event["guild_id"] = guild_id
        await self.dispatch("MESSAGE_DELETE", event)
