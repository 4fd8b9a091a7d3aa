"""The AI's part of `smsbridge check --online`: the key is accepted and the model exists."""

from __future__ import annotations

import openai

from bot.config import Settings
from bot.ops.online import Check


async def check(settings: Settings) -> list[Check]:
    ai = settings.bridges.get("openai")
    if ai is None:
        return []
    client = openai.AsyncOpenAI(
        api_key=ai.api_key, base_url=ai.base_url or None, timeout=15, max_retries=0
    )
    try:
        model = await client.models.retrieve(ai.model)
    except openai.AuthenticationError:
        return [Check("ai", False, "OPENAI_API_KEY refused (HTTP 401)")]
    except openai.NotFoundError:
        return [Check("ai", False, f"no model {ai.model!r} (SMSBRIDGE_AI_MODEL)")]
    except openai.APIConnectionError as exc:
        return [Check("ai", False, f"cannot reach the AI service (OPENAI_BASE_URL): {exc}")]
    except openai.APIStatusError as exc:
        return [Check("ai", False, f"the AI service answered HTTP {exc.status_code}")]
    finally:
        await client.close()
    return [Check("ai", True, f"model {model.id} available")]
