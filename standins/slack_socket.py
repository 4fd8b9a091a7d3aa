"""Slack's Socket Mode on the stand-in: `apps.connections.open` hands out a one-time
websocket URL, `/socket` serves it, and tests push envelopes down it and read the acks
the app sends back (the shapes of Slack's Socket Mode documentation)."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

from aiohttp import WSMsgType, web

from standins import slack_payloads as sp


class SlackSocketMode:
    """Mixed into SlackStandIn (which gives `url`); call `_socket_init()` first."""

    url: str

    def _socket_init(self) -> None:
        self.acks: dict[str, dict[str, Any]] = {}
        self.socket_envelopes: list[dict[str, Any]] = []
        self.socket_connections = 0
        self._sockets: list[web.WebSocketResponse] = []
        self._tickets: set[str] = set()
        self._changed = asyncio.Condition()

    async def _close_sockets(self) -> None:
        for ws in list(self._sockets):
            await ws.close()

    def api_apps_connections_open(self, a: dict[str, Any]) -> dict[str, Any]:
        ticket = uuid.uuid4().hex
        self._tickets.add(ticket)
        ws_base = self.url.replace("http://", "ws://", 1)
        return {"url": f"{ws_base}/socket?ticket={ticket}&app_id={sp.API_APP_ID}"}

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def _socket(self, request: web.Request) -> web.StreamResponse:
        ticket = request.query.get("ticket", "")
        if ticket not in self._tickets:  # tickets come from apps.connections.open, once
            return web.Response(status=401, text="invalid ticket")
        self._tickets.discard(ticket)
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        self._sockets.append(ws)
        self.socket_connections += 1
        # fmt: off
        await ws.send_json({"type": "hello", "num_connections": len(self._sockets),
                            "debug_info": {"host": "applink-standin", "build_number": 1,
                                           "approximate_connection_time": 18060},
                            "connection_info": {"app_id": sp.API_APP_ID}})
        # fmt: on
        await self._notify()
        try:
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                data = json.loads(msg.data)
                if isinstance(data, dict) and data.get("envelope_id"):
                    self.acks[data["envelope_id"]] = data
                    await self._notify()
        finally:
            self._sockets.remove(ws)
            await self._notify()
        return ws

    async def wait_socket(self, connections: int = 1, timeout: float = 5) -> None:
        """Wait until `connections` websockets were opened in all and one is open now."""
        async with asyncio.timeout(timeout), self._changed:
            await self._changed.wait_for(
                lambda: self.socket_connections >= connections and bool(self._sockets)
            )

    async def socket_send(
        self,
        payload_type: str,
        payload: dict[str, Any],
        envelope_id: str | None = None,
        accepts_response_payload: bool = False,
        *,
        retry_attempt: int = 0,
        retry_reason: str = "",
    ) -> str:
        """Push an envelope ("events_api", "slash_commands", "interactive") down the
        newest open socket; returns its envelope_id."""
        await self.wait_socket(1)
        envelope: dict[str, Any] = {
            "envelope_id": envelope_id or str(uuid.uuid4()),
            "payload": payload,
            "type": payload_type,
            "accepts_response_payload": accepts_response_payload,
        }
        if payload_type == "events_api":
            envelope.update(retry_attempt=retry_attempt, retry_reason=retry_reason)
        self.socket_envelopes.append(envelope)
        await self._sockets[-1].send_json(envelope)
        return envelope["envelope_id"]

    async def wait_ack(self, envelope_id: str, timeout: float = 5) -> dict[str, Any]:
        """The client's ack `{"envelope_id": ..., "payload": ...}` of an envelope."""
        async with asyncio.timeout(timeout), self._changed:
            await self._changed.wait_for(lambda: envelope_id in self.acks)
        return self.acks[envelope_id]

    async def socket_disconnect(
        self, reason: str = "refresh_requested", *, close: bool = False
    ) -> None:
        """Send Slack's `disconnect` message (the client reconnects through
        apps.connections.open), or with `close` just drop the sockets."""
        for ws in list(self._sockets):
            if close:
                await ws.close()
            else:
                debug = {"host": "applink-standin"}
                await ws.send_json({"type": "disconnect", "reason": reason, "debug_info": debug})
