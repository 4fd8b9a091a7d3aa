"""Database URLs as platforms hand them out, turned into the async drivers we run on.

Heroku, Render, Fly and compose files give `postgres://…` or `postgresql://…` (SQLAlchemy
would want psycopg), often with libpq's `sslmode`, which asyncpg calls `ssl`."""

from __future__ import annotations

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

ASYNC_DRIVERS = {
    "postgres": "postgresql+asyncpg",
    "postgresql": "postgresql+asyncpg",
    "postgresql+asyncpg": "postgresql+asyncpg",
    "sqlite": "sqlite+aiosqlite",
    "sqlite+aiosqlite": "sqlite+aiosqlite",
}


def normalize_url(url: str) -> str:
    """The URL on its async driver; ValueError names what cannot be used."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ValueError(f"not a database URL: {url.split('@')[-1]!r}") from None
    driver = ASYNC_DRIVERS.get(parsed.drivername)
    if driver is None:
        raise ValueError(
            f"unsupported database {parsed.drivername!r}: use postgresql://… (asyncpg) "
            "or sqlite+aiosqlite:///…"
        )
    parsed = parsed.set(drivername=driver)
    if driver == "postgresql+asyncpg" and "sslmode" in parsed.query:
        query = dict(parsed.query)
        query["ssl"] = query.pop("sslmode")
        parsed = parsed.set(query=query)
    return parsed.render_as_string(hide_password=False)


def redacted(url: str) -> str:
    """The URL without its password, for logs and `smsbridge check`."""
    return make_url(url).render_as_string(hide_password=True)
