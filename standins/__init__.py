"""Loopback stand-ins of the outside APIs (Twilio, Slack, Discord, OpenAI), one module
(or a few) per system: small aiohttp servers that answer the real client libraries as the
real API would, record what they receive and fail on command.

They ship with the package because `smsbridge demo` (standins/demo.py) runs on them from a
plain install; the tests and benchmarks reuse them."""
