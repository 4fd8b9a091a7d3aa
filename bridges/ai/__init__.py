"""AI drafts through the `openai` library, on OpenAI or any OpenAI-compatible server
(bridges/ai/openai.py).

This module is what the `openai` entry point names: it reads OPENAI_API_KEY,
OPENAI_BASE_URL and SMSBRIDGE_AI_MODEL and imports the openai library only when a key is
set."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.plugins import Context, Env, Kind

if TYPE_CHECKING:
    from bridges.ai.openai import OpenAIPlugin

DEFAULT_MODEL = "gpt-4o-mini"


@dataclass(frozen=True)
class AiSettings:
    api_key: str
    base_url: str | None = None
    model: str = DEFAULT_MODEL
    timeout: float = 20.0


class OpenAIBridge:
    kind = Kind.AI

    def read_settings(self, env: Env) -> AiSettings | None:
        key = env.get("OPENAI_API_KEY")
        if key is None:
            return None
        return AiSettings(
            key, env.get("OPENAI_BASE_URL"), env.get("SMSBRIDGE_AI_MODEL") or DEFAULT_MODEL
        )

    def describe(self, settings: AiSettings) -> str:
        return f"on (AI drafts with {settings.model})"

    def create(self, settings: AiSettings, context: Context) -> OpenAIPlugin:
        from bridges.ai.openai import OpenAIPlugin

        return OpenAIPlugin(settings)


bridge = OpenAIBridge()
