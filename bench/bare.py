"""The baseline of the ingest benchmark: a bare aiohttp server whose `POST /twilio/sms`
only answers 200 with empty TwiML (it reads the body, as any handler must).

    python -m bench.bare PORT
"""

from __future__ import annotations

import sys

from aiohttp import web

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


async def inbound(request: web.Request) -> web.Response:
    await request.read()
    return web.Response(text=EMPTY_TWIML, content_type="text/xml")


async def healthz(_: web.Request) -> web.Response:
    return web.json_response({"ok": True})


def main() -> None:
    app = web.Application()
    app.router.add_post("/twilio/sms", inbound)
    app.router.add_get("/healthz", healthz)
    web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), access_log=None, print=None)


if __name__ == "__main__":
    main()
