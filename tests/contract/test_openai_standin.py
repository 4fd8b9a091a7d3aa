"""The official openai library against the OpenAI stand-in:
`openai.AsyncOpenAI(base_url=standin.url + "/v1", api_key=..., max_retries=0)`."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import openai
import pytest

from standins.openai import DEFAULT_MODEL, REFUSAL, OpenAIStandIn

SPEC = Path(__file__).resolve().parents[3] / "shared" / "specs" / "openai_openapi.fixed.json"
PROMPT = [
    {"role": "system", "content": "You draft short, friendly SMS replies."},
    {"role": "user", "content": "Lead: Do you do roof repairs on Saturdays?"},
]


@pytest.fixture
async def standin() -> AsyncIterator[OpenAIStandIn]:
    async with OpenAIStandIn() as server:
        yield server  # type: ignore[misc]


@pytest.fixture
async def client(standin: OpenAIStandIn) -> AsyncIterator[openai.AsyncOpenAI]:
    async with openai.AsyncOpenAI(
        base_url=standin.url + "/v1", api_key=standin.api_key, max_retries=0
    ) as client:
        yield client


async def test_completion_content_and_usage(
    standin: OpenAIStandIn, client: openai.AsyncOpenAI
) -> None:
    standin.reply = "Yes, we do! Want me to book a Saturday visit?"
    completion = await client.chat.completions.create(model=DEFAULT_MODEL, messages=PROMPT)
    assert completion.id.startswith("chatcmpl-") and completion.object == "chat.completion"
    assert completion.model == DEFAULT_MODEL and completion.created > 0
    choice = completion.choices[0]
    assert choice.message.content == "Yes, we do! Want me to book a Saturday visit?"
    assert choice.message.role == "assistant" and choice.message.refusal is None
    assert choice.finish_reason == "stop" and choice.logprobs is None
    usage = completion.usage
    assert usage is not None and usage.prompt_tokens > 0 and usage.completion_tokens > 0
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens
    assert standin.prompts == [PROMPT]
    call = standin.calls("/v1/chat/completions", "POST")[0]
    assert call.headers["Authorization"] == f"Bearer {standin.api_key}"
    assert call.json["model"] == DEFAULT_MODEL


async def test_replies_queue_then_default(
    standin: OpenAIStandIn, client: openai.AsyncOpenAI
) -> None:
    standin.replies = ["first", "second"]
    contents = []
    for _ in range(3):
        completion = await client.chat.completions.create(model=DEFAULT_MODEL, messages=PROMPT)
        contents.append(completion.choices[0].message.content)
    assert contents == ["first", "second", standin.reply]


async def test_refusal(standin: OpenAIStandIn, client: openai.AsyncOpenAI) -> None:
    standin.refuse = True
    completion = await client.chat.completions.create(model=DEFAULT_MODEL, messages=PROMPT)
    message = completion.choices[0].message
    assert message.content is None and message.refusal == REFUSAL


async def test_streaming(standin: OpenAIStandIn, client: openai.AsyncOpenAI) -> None:
    stream = await client.chat.completions.create(
        model=DEFAULT_MODEL,
        messages=PROMPT,
        stream=True,
        stream_options={"include_usage": True},
    )
    text, usage = "", None
    async for chunk in stream:
        if chunk.choices:
            text += chunk.choices[0].delta.content or ""
        usage = chunk.usage or usage
    assert text == standin.reply and usage is not None and usage.total_tokens > 0


async def test_rate_limit(standin: OpenAIStandIn, client: openai.AsyncOpenAI) -> None:
    standin.fail_next(429, retry_after=3, path_contains="/chat/completions")
    with pytest.raises(openai.RateLimitError) as info:
        await client.chat.completions.create(model=DEFAULT_MODEL, messages=PROMPT)
    assert info.value.status_code == 429 and info.value.code == "rate_limit_exceeded"
    assert info.value.response.headers["retry-after"] == "3"
    completion = await client.chat.completions.create(model=DEFAULT_MODEL, messages=PROMPT)
    assert completion.choices[0].message.content == standin.reply


async def test_server_error(standin: OpenAIStandIn, client: openai.AsyncOpenAI) -> None:
    standin.fail_next(500)
    with pytest.raises(openai.InternalServerError) as info:
        await client.chat.completions.create(model=DEFAULT_MODEL, messages=PROMPT)
    assert info.value.status_code == 500 and info.value.type == "server_error"


async def test_slow_model_times_out(standin: OpenAIStandIn) -> None:
    standin.delay = 0.5
    async with openai.AsyncOpenAI(
        base_url=standin.url + "/v1", api_key=standin.api_key, max_retries=0, timeout=0.1
    ) as client:
        with pytest.raises(openai.APITimeoutError):
            await client.chat.completions.create(model=DEFAULT_MODEL, messages=PROMPT)


async def test_bad_key_is_401(standin: OpenAIStandIn) -> None:
    async with openai.AsyncOpenAI(
        base_url=standin.url + "/v1", api_key="sk-wrong-key-123456", max_retries=0
    ) as client:
        with pytest.raises(openai.AuthenticationError) as info:
            await client.chat.completions.create(model=DEFAULT_MODEL, messages=PROMPT)
    assert info.value.code == "invalid_api_key" and info.value.type == "invalid_request_error"


@pytest.mark.parametrize(
    ("kwargs", "param"),
    [
        ({"model": "", "messages": PROMPT}, None),
        ({"model": DEFAULT_MODEL, "messages": []}, "messages"),
        (
            {"model": DEFAULT_MODEL, "messages": [{"role": "boss", "content": "x"}]},
            "messages[0].role",
        ),
    ],
)
async def test_invalid_requests_are_400(
    client: openai.AsyncOpenAI, kwargs: dict[str, object], param: str | None
) -> None:
    with pytest.raises(openai.BadRequestError) as info:
        await client.chat.completions.create(**kwargs)  # type: ignore[call-overload]
    assert info.value.type == "invalid_request_error" and info.value.param == param


async def test_strict_models(standin: OpenAIStandIn, client: openai.AsyncOpenAI) -> None:
    models = await client.models.list()
    assert [m.id for m in models.data] == [DEFAULT_MODEL]
    assert (await client.models.retrieve(DEFAULT_MODEL)).owned_by == "system"
    standin.strict_models = True
    with pytest.raises(openai.NotFoundError) as info:
        await client.chat.completions.create(model="gpt-unknown", messages=PROMPT)
    assert info.value.code == "model_not_found"


@pytest.mark.skipif(not SPEC.exists(), reason="OpenAI OpenAPI spec not available")
async def test_completion_has_the_spec_required_fields(standin: OpenAIStandIn) -> None:
    schemas = json.loads(SPEC.read_text())["components"]["schemas"]
    headers = {"Authorization": f"Bearer {standin.api_key}"}
    async with aiohttp.ClientSession(headers=headers) as session:
        url = standin.url + "/v1/chat/completions"
        async with session.post(url, json={"model": DEFAULT_MODEL, "messages": PROMPT}) as resp:
            completion = await resp.json()
        async with session.post(url, json={"messages": PROMPT}) as resp:
            assert resp.status == 400
            error = await resp.json()
    assert set(schemas["CreateChatCompletionResponse"]["required"]) <= set(completion)
    assert set(completion) <= set(schemas["CreateChatCompletionResponse"]["properties"])
    choice_schema = schemas["CreateChatCompletionResponse"]["properties"]["choices"]["items"]
    assert set(choice_schema["required"]) <= set(completion["choices"][0])
    message = completion["choices"][0]["message"]
    assert set(message) <= set(schemas["ChatCompletionResponseMessage"]["properties"])
    assert set(schemas["CompletionUsage"]["required"]) <= set(completion["usage"])
    assert set(error) == {"error"} and set(error["error"]) == set(schemas["Error"]["required"])
