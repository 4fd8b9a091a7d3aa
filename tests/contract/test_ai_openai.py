"""bridges/ai/openai.py: the real `openai` client against the loopback stand-in."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import pytest

from bot.metrics import AI_DRAFTS, AI_TOKENS
from bot.ports import Completion, Rejected, RetryLater
from bridges.ai import AiSettings
from bridges.ai.openai import OpenAIDrafter
from standins.openai import DEFAULT_API_KEY, OpenAIStandIn

PROMPT = [
    {"role": "system", "content": "You draft SMS replies for Acme Roofing."},
    {"role": "user", "content": "Lead: Do you work Saturdays?\n\nWrite the next SMS."},
]


@pytest.fixture
async def standin() -> AsyncIterator[OpenAIStandIn]:
    server = OpenAIStandIn()
    await server.start()
    yield server
    await server.stop()


def ai(standin: OpenAIStandIn, **kw: object) -> AiSettings:
    base: dict[str, object] = {
        "api_key": DEFAULT_API_KEY,
        "base_url": standin.url + "/v1",
        "model": "gpt-4o-mini",
        "timeout": 5.0,
    }
    base.update(kw)
    return AiSettings(**base)  # type: ignore[arg-type]


@pytest.fixture
async def drafter(standin: OpenAIStandIn) -> AsyncIterator[OpenAIDrafter]:
    drafter = OpenAIDrafter(ai(standin))
    yield drafter
    await drafter.close()


def counted(metric: object, label: str) -> float:
    return metric.labels(label)._value.get()  # type: ignore[attr-defined]


async def test_request_carries_messages_model_temperature_and_max_tokens(
    standin: OpenAIStandIn, drafter: OpenAIDrafter
) -> None:
    standin.reply = "Yes, Saturdays 8-2. Want a visit? - Acme"
    before = counted(AI_TOKENS, "prompt"), counted(AI_TOKENS, "completion")
    ok_before = counted(AI_DRAFTS, "ok")
    result = await drafter.complete(PROMPT, max_tokens=120, temperature=0.3)
    assert result == Completion(
        "Yes, Saturdays 8-2. Want a visit? - Acme",
        result.prompt_tokens,
        result.completion_tokens,
        "gpt-4o-mini",
    )
    assert result.prompt_tokens > 0 and result.completion_tokens > 0
    body = standin.completions[0]["request"]
    assert body["messages"] == PROMPT
    assert body["model"] == "gpt-4o-mini"
    assert body["temperature"] == 0.3 and body["max_tokens"] == 120
    assert "stream" not in body or not body["stream"]
    call = standin.calls("/v1/chat/completions", "POST")[0]
    assert call.headers["Authorization"] == f"Bearer {DEFAULT_API_KEY}"
    assert counted(AI_TOKENS, "prompt") == before[0] + result.prompt_tokens
    assert counted(AI_TOKENS, "completion") == before[1] + result.completion_tokens
    assert counted(AI_DRAFTS, "ok") == ok_before + 1


async def test_configured_model_is_used(standin: OpenAIStandIn) -> None:
    standin.models.append("llama3.1:8b")
    standin.strict_models = True
    drafter = OpenAIDrafter(ai(standin, model="llama3.1:8b"))
    try:
        result = await drafter.complete(PROMPT, max_tokens=50, temperature=0.0)
    finally:
        await drafter.close()
    assert result.model == "llama3.1:8b"
    assert standin.completions[0]["request"]["model"] == "llama3.1:8b"


async def test_rate_limit_is_busy_with_retry_after(
    standin: OpenAIStandIn, drafter: OpenAIDrafter
) -> None:
    standin.fail_next(429, retry_after=7, path_contains="/chat/completions")
    before = counted(AI_DRAFTS, "rate_limited")
    with pytest.raises(RetryLater) as caught:
        await drafter.complete(PROMPT, max_tokens=50, temperature=0.4)
    assert str(caught.value) == "the AI service is busy (rate limited)"
    assert caught.value.after == 7
    assert len(standin.calls("/chat/completions")) == 1  # no silent retries
    assert counted(AI_DRAFTS, "rate_limited") == before + 1


async def test_quota_exhausted_is_not_retried(
    standin: OpenAIStandIn, drafter: OpenAIDrafter
) -> None:
    body = '{"error": {"message": "You exceeded your current quota", "type": '
    body += '"insufficient_quota", "param": null, "code": "insufficient_quota"}}'
    standin.fail_next(429, body=body)
    with pytest.raises(Rejected, match="no credit left"):
        await drafter.complete(PROMPT, max_tokens=50, temperature=0.4)


async def test_slow_model_times_out_quickly(standin: OpenAIStandIn) -> None:
    standin.delay = 3.0
    drafter = OpenAIDrafter(ai(standin, timeout=0.3))
    before = counted(AI_DRAFTS, "timeout")
    started = time.monotonic()
    try:
        with pytest.raises(RetryLater, match=r"^the AI took too long$"):
            await drafter.complete(PROMPT, max_tokens=50, temperature=0.4)
    finally:
        await drafter.close()
    assert time.monotonic() - started < 2.0
    assert counted(AI_DRAFTS, "timeout") == before + 1


async def test_server_error_is_a_short_reason(
    standin: OpenAIStandIn, drafter: OpenAIDrafter
) -> None:
    standin.fail_next(500)
    with pytest.raises(RetryLater) as caught:
        await drafter.complete(PROMPT, max_tokens=50, temperature=0.4)
    assert str(caught.value) == "the AI service had an error (HTTP 500)"


async def test_refusal_is_rejected_with_the_models_words(
    standin: OpenAIStandIn, drafter: OpenAIDrafter
) -> None:
    standin.refuse = True
    before = counted(AI_TOKENS, "completion")
    with pytest.raises(
        Rejected, match=r"^the AI declined: I'm sorry, but I can't help with that\.$"
    ):
        await drafter.complete(PROMPT, max_tokens=50, temperature=0.4)
    assert counted(AI_TOKENS, "completion") > before  # a refusal still costs tokens


async def test_wrong_key_names_the_variable(standin: OpenAIStandIn) -> None:
    drafter = OpenAIDrafter(ai(standin, api_key="sk-wrong-key-123456"))
    try:
        with pytest.raises(Rejected, match=r"did not accept the API key \(check OPENAI_API_KEY\)"):
            await drafter.complete(PROMPT, max_tokens=50, temperature=0.4)
    finally:
        await drafter.close()


async def test_unknown_model_names_the_variables(standin: OpenAIStandIn) -> None:
    standin.strict_models = True
    drafter = OpenAIDrafter(ai(standin, model="gpt-9"))
    try:
        with pytest.raises(Rejected, match=r"no model 'gpt-9' \(check SMSBRIDGE_AI_MODEL"):
            await drafter.complete(PROMPT, max_tokens=50, temperature=0.4)
    finally:
        await drafter.close()


async def test_bad_request_reason_is_short(standin: OpenAIStandIn, drafter: OpenAIDrafter) -> None:
    long = "x" * 500
    body = f'{{"error": {{"message": "Invalid value: {long}", "type": "invalid_request_error"}}}}'
    standin.fail_next(400, body=body)
    with pytest.raises(Rejected) as caught:
        await drafter.complete(PROMPT, max_tokens=50, temperature=0.4)
    reason = str(caught.value)
    assert reason.startswith("the AI service refused the request (HTTP 400: Invalid value: x")
    assert len(reason) < 200


async def test_unreachable_server_is_retry_later() -> None:
    drafter = OpenAIDrafter(AiSettings("sk-x", "http://127.0.0.1:9/v1", timeout=2.0))
    try:
        with pytest.raises(RetryLater, match="could not be reached"):
            await drafter.complete(PROMPT, max_tokens=50, temperature=0.4)
    finally:
        await drafter.close()


async def test_empty_answer_is_rejected(standin: OpenAIStandIn, drafter: OpenAIDrafter) -> None:
    standin.reply = "   "
    with pytest.raises(Rejected, match="empty draft"):
        await drafter.complete(PROMPT, max_tokens=50, temperature=0.4)
