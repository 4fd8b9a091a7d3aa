"""Claiming a piece of work once across processes: a conditional UPDATE that only one
transaction can win (the others see the condition false and skip). Automations that
several processes run at once (automatic texts, auto-close, escalation, the digest) act
only on what they claimed."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Base


async def claim(
    session: AsyncSession,
    model: type[Base],
    row_id: int,
    condition: ColumnElement[bool],
    **values: Any,
) -> bool:
    """Set `values` on the row if `condition` still holds; whether this call did it."""
    result = await session.execute(
        update(model)
        .where(model.id == row_id, condition)  # type: ignore[attr-defined]
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]
