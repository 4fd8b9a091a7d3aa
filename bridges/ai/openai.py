"""Drafts through the official `openai` library: chat completions on OpenAI or any
OpenAI-compatible server (`OPENAI_BASE_URL`).

Implements `bot.ports.Drafter`. Every failure becomes RetryLater (busy, slow, unreachable,
5xx) or Rejected (refused, bad key, unknown model, bad request) with a short reason a
member can read; token usage and outcomes are counted for /metrics."""

from __future__ import annotations

import logging
from typing import Any

import openai
from aiohttp import web

from bot.metrics import AI_DRAFTS, AI_TOKENS
from bot.ports import Completion, Rejected, RetryLater
from bridges.ai import AiSettings

log = logging.getLogger(__name__)

REASON_CHARS = 120


class OpenAIPlugin:
    """The `openai` bridge running: a drafter and nothing to serve."""

    def __init__(self, settings: AiSettings) -> None:
        self.drafter = OpenAIDrafter(settings)

    def routes(self) -> list[web.RouteDef]:
        return []

    async def start(self) -> None:
        pass

    async def stop(self) -> None:
        await self.drafter.close()


class OpenAIDrafter:
    def __init__(self, settings: AiSettings, *, max_retries: int = 0) -> None:
        self.model = settings.model
        self.timeout = settings.timeout
        # base_url None lets the library use its default (or OPENAI_BASE_URL itself).
        self._client = openai.AsyncOpenAI(
            api_key=settings.api_key,
            base_url=settings.base_url or None,
            timeout=settings.timeout,
            max_retries=max_retries,
        )

    async def complete(
        self, messages: list[dict[str, str]], *, max_tokens: int, temperature: float
    ) -> Completion:
        try:
            response = await self._client.chat.completions.create(
                model=self.model,
                messages=messages,  # type: ignore[arg-type]
                max_tokens=max_tokens,
                temperature=temperature,
            )
        except openai.APIError as exc:
            raise self._failure(exc) from None

        usage = response.usage
        prompt_tokens = usage.prompt_tokens if usage else 0
        completion_tokens = usage.completion_tokens if usage else 0
        AI_TOKENS.labels("prompt").inc(prompt_tokens)
        AI_TOKENS.labels("completion").inc(completion_tokens)
        if not response.choices:
            raise _count("error", Rejected("the AI returned no draft"))
        choice = response.choices[0]
        refusal = getattr(choice.message, "refusal", None)
        if refusal:
            raise _count("refused", Rejected(f"the AI declined: {_short(refusal)}"))
        if choice.finish_reason == "content_filter":
            raise _count("refused", Rejected("the AI declined (content filter)"))
        text = (choice.message.content or "").strip()
        if not text:
            raise _count("error", Rejected("the AI returned an empty draft"))
        AI_DRAFTS.labels("ok").inc()
        log.info(
            "ai draft: model=%s prompt_tokens=%d completion_tokens=%d",
            response.model or self.model,
            prompt_tokens,
            completion_tokens,
        )
        return Completion(text, prompt_tokens, completion_tokens, response.model or self.model)

    def _failure(self, exc: openai.APIError) -> Exception:
        """The library's error as RetryLater or Rejected, counted and logged (no prompt,
        no key)."""
        status = getattr(exc, "status_code", None)
        log.warning("ai draft failed: %s (status %s)", type(exc).__name__, status)
        if isinstance(exc, openai.APITimeoutError):
            return _count("timeout", RetryLater("the AI took too long"))
        if isinstance(exc, openai.APIConnectionError):
            return _count("unreachable", RetryLater("the AI service could not be reached"))
        code = _error_field(exc, "code")
        if isinstance(exc, openai.RateLimitError):
            if code == "insufficient_quota":
                return _count("error", Rejected("the AI account has no credit left (quota)"))
            busy = RetryLater("the AI service is busy (rate limited)", _retry_after(exc))
            return _count("rate_limited", busy)
        if isinstance(exc, openai.AuthenticationError):
            reason = "the AI service did not accept the API key (check OPENAI_API_KEY)"
            return _count("error", Rejected(reason, code="auth"))
        if isinstance(exc, openai.PermissionDeniedError):
            return _count("error", Rejected("the AI service denied access to this API key"))
        if isinstance(exc, openai.NotFoundError):
            reason = (
                f"the AI service has no model {self.model!r} "
                "(check SMSBRIDGE_AI_MODEL and OPENAI_BASE_URL)"
            )
            return _count("error", Rejected(reason, code="model"))
        if code == "content_filter":
            return _count("refused", Rejected("the AI declined (content filter)"))
        if isinstance(exc, openai.APIStatusError):
            message = _error_field(exc, "message")
            detail = f": {_short(message)}" if message else ""
            status = exc.status_code
            if status >= 500:
                return _count("error", RetryLater(f"the AI service had an error (HTTP {status})"))
            return _count(
                "error", Rejected(f"the AI service refused the request (HTTP {status}{detail})")
            )
        return _count("error", Rejected("the AI service gave an answer smsbridge cannot read"))

    async def close(self) -> None:
        await self._client.close()


def _count(outcome: str, exc: Exception) -> Exception:
    AI_DRAFTS.labels(outcome).inc()
    return exc


def _short(text: str) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= REASON_CHARS else text[: REASON_CHARS - 1].rstrip() + "…"


def _error_field(exc: openai.APIError, name: str) -> str | None:
    """A field of OpenAI's error body (`{"error": {"message", "code", …}}`); the library
    hands over the inner object, some servers send a flat one or plain text."""
    body: Any = exc.body
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict) and inner.get(name) is not None:
            return str(inner[name])
        if isinstance(inner, str) and name == "message":
            return inner
    return None


def _retry_after(exc: openai.APIStatusError) -> float | None:
    value = exc.response.headers.get("retry-after")
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None
