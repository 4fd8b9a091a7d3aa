"""Common machinery of the loopback stand-ins: an aiohttp server that records every
request and can be told to fail (status, Retry-After, delay, dropped connection,
malformed body) so tests and benchmarks exercise the real client libraries."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def wait_for(
    check: Callable[[], Any] | Callable[[], Awaitable[Any]], timeout: float = 10.0
) -> Any:
    """Poll until `check()` is truthy and return it; fail with a clear message otherwise."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = check()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        await asyncio.sleep(0.02)


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    query: dict[str, str]
    form: dict[str, Any]
    json: Any
    raw: bytes
    at: float = field(default_factory=time.monotonic)


@dataclass
class Fault:
    status: int = 500
    times: int = 1
    retry_after: float | None = None
    delay: float = 0.0
    path_contains: str | None = None
    body: str | None = None
    drop: bool = False
    hold: float = 0.0  # the request is carried out, its answer held this long


class StandIn:
    """Base for loopback API stand-ins. Subclasses add routes in `setup_routes`."""

    def __init__(self) -> None:
        self.app = web.Application(middlewares=[self._record_and_fault], client_max_size=32 << 20)
        self.requests: list[Recorded] = []
        self.faults: list[Fault] = []
        self.url = ""
        self._runner: web.AppRunner | None = None
        self.setup_routes(self.app.router)

    def setup_routes(self, router: web.UrlDispatcher) -> None:
        raise NotImplementedError

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        # A short shutdown timeout: stop() must not hang on a handler held by a slow fault.
        self._runner = web.AppRunner(self.app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        sockets = site._server.sockets  # type: ignore[union-attr]
        self.url = f"http://{host}:{sockets[0].getsockname()[1]}"
        return self.url

    async def stop(self) -> None:
        if self._runner:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> StandIn:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def fail_next(
        self,
        status: int = 500,
        *,
        times: int = 1,
        retry_after: float | None = None,
        delay: float = 0.0,
        path_contains: str | None = None,
        body: str | None = None,
        drop: bool = False,
        hold: float = 0.0,
    ) -> None:
        """Make the next `times` matching requests fail the given way (`hold`: carried out,
        answered late, as when the caller dies before it hears the answer)."""
        self.faults.append(
            Fault(status, times, retry_after, delay, path_contains, body, drop, hold)
        )

    def fault_body(self, status: int) -> str:
        """Body of an injected error without an explicit `body`; subclasses answer in the
        error shape of the API they stand in for."""
        return json.dumps({"error": "fault"})

    def calls(self, path_contains: str = "", method: str | None = None) -> list[Recorded]:
        return [
            r
            for r in self.requests
            if path_contains in r.path and (method is None or r.method == method)
        ]

    def _take_fault(self, path: str) -> Fault | None:
        for fault in self.faults:
            if fault.path_contains is None or fault.path_contains in path:
                fault.times -= 1
                if fault.times <= 0:
                    self.faults.remove(fault)
                return fault
        return None

    @web.middleware
    async def _record_and_fault(self, request: web.Request, handler: Any) -> web.StreamResponse:
        raw = await request.read()
        form: dict[str, Any] = {}
        body_json: Any = None
        ctype = request.headers.get("Content-Type", "")
        if "application/x-www-form-urlencoded" in ctype:
            data = await request.post()
            for key in data:
                values = data.getall(key)
                form[key] = values[0] if len(values) == 1 else list(values)
        elif "application/json" in ctype and raw:
            try:
                body_json = json.loads(raw)
            except ValueError:
                body_json = None
        self.requests.append(
            Recorded(
                request.method,
                request.path,
                dict(request.headers),
                dict(request.query),
                form,
                body_json,
                raw,
            )
        )
        fault = self._take_fault(request.path)
        if fault is not None:
            if fault.delay:
                await asyncio.sleep(fault.delay)
            if fault.drop:
                assert request.transport is not None
                request.transport.close()
                return web.Response(status=500)
            if fault.status < 400 and fault.body is None:
                answer = await handler(request)
                await asyncio.sleep(fault.hold)
                return answer
            headers = {}
            if fault.retry_after is not None:
                headers["Retry-After"] = (
                    str(int(fault.retry_after))
                    if float(fault.retry_after).is_integer()
                    else str(fault.retry_after)
                )
            return web.Response(
                status=fault.status,
                text=fault.body if fault.body is not None else self.fault_body(fault.status),
                content_type="application/json",
                headers=headers,
            )
        return await handler(request)
