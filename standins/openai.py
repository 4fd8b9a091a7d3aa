"""Loopback stand-in for the OpenAI API: chat completions and the model list.

Answers the official `openai` library (base_url=standin.url + "/v1") with the objects of
openai_openapi.fixed.json: a `chat.completion` (or `chat.completion.chunk` events when
`stream` is set), `usage`, and OpenAI's error shape
`{"error": {"message", "type", "param", "code"}}` for 400/401/404/429/500.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from typing import Any

from aiohttp import web

from standins.base import StandIn

DEFAULT_API_KEY = "sk-standin-0123456789"
DEFAULT_MODEL = "gpt-4o-mini"
DEFAULT_REPLY = "Thanks for reaching out! Happy to help - when would be a good time to talk?"
REFUSAL = "I'm sorry, but I can't help with that."
ROLES = {"system", "developer", "user", "assistant", "tool", "function"}
FAULTS = {
    429: ("Rate limit reached for requests. Please try again later.", "requests",
          "rate_limit_exceeded"),
    500: ("The server had an error while processing your request. Sorry about that!",
          "server_error", None),
    503: ("The engine is currently overloaded, please try again later", "server_error", None),
}  # fmt: skip


def openai_error(
    status: int, message: str, type_: str, param: str | None = None, code: str | None = None
) -> web.Response:
    """OpenAI's error body."""
    payload = {"error": {"message": message, "type": type_, "param": param, "code": code}}
    return web.json_response(payload, status=status, headers={"x-request-id": _request_id()})


def count_tokens(text: str) -> int:
    """A rough token count (about four characters per token), stable for tests."""
    return max(1, (len(text) + 3) // 4) if text else 0


def _request_id() -> str:
    return "req_" + secrets.token_hex(16)


class OpenAIStandIn(StandIn):
    """Chat completions on loopback. Knobs: `reply` (the answer), `replies` (a queue used
    first, one per request), `delay` (seconds before answering: a slow model), `refuse`
    (answer with `message.refusal` and null content), `models` (listed by GET /v1/models;
    with `strict_models`, any other model is a 404 model_not_found)."""

    def __init__(
        self,
        api_key: str = DEFAULT_API_KEY,
        *,
        model: str = DEFAULT_MODEL,
        reply: str = DEFAULT_REPLY,
        strict_models: bool = False,
    ) -> None:
        self.api_key = api_key
        self.models: list[str] = [model]
        self.strict_models = strict_models
        self.reply = reply
        self.replies: list[str] = []
        self.delay = 0.0
        self.refuse = False
        self.completions: list[dict[str, Any]] = []
        super().__init__()

    def setup_routes(self, router: web.UrlDispatcher) -> None:
        router.add_post("/v1/chat/completions", self.chat_completions)
        router.add_get("/v1/models", self.list_models)
        router.add_get("/v1/models/{model}", self.get_model)

    def fault_body(self, status: int) -> str:
        message, type_, code = FAULTS.get(status, (f"HTTP {status}", "server_error", None))
        payload = {"error": {"message": message, "type": type_, "param": None, "code": code}}
        return json.dumps(payload)

    @property
    def prompts(self) -> list[list[dict[str, Any]]]:
        """The `messages` of every chat completion request received, in order."""
        return [c["request"]["messages"] for c in self.completions]

    def _authorize(self, request: web.Request) -> web.Response | None:
        header = request.headers.get("Authorization", "")
        if not header:
            return openai_error(
                401,
                "You didn't provide an API key. You need to provide your API key in an "
                "Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
                "invalid_request_error",
            )
        key = header.removeprefix("Bearer ")
        if not header.startswith("Bearer ") or key != self.api_key:
            shown = key[:3] + "*" * 4 + key[-4:] if len(key) > 8 else "*" * len(key)
            return openai_error(
                401,
                f"Incorrect API key provided: {shown}. You can find your API key at "
                "https://platform.openai.com/account/api-keys.",
                "invalid_request_error",
                code="invalid_api_key",
            )
        return None

    def _model_missing(self, model: str) -> web.Response | None:
        if self.strict_models and model not in self.models:
            return openai_error(
                404,
                f"The model `{model}` does not exist or you do not have access to it.",
                "invalid_request_error",
                code="model_not_found",
            )
        return None

    @staticmethod
    def _invalid(body: Any) -> web.Response | None:
        def bad(message: str, param: str | None, code: str | None) -> web.Response:
            return openai_error(400, message, "invalid_request_error", param, code)

        if not isinstance(body, dict):
            return bad(
                "We could not parse the JSON body of your request. (HINT: This likely means "
                "you aren't using your HTTP library correctly. The OpenAI API expects a JSON "
                "payload, but what was sent was not valid JSON.)",
                None,
                None,
            )
        if not body.get("model"):
            return bad("you must provide a model parameter", None, None)
        if not isinstance(body["model"], str):
            return bad("Invalid type for 'model': expected a string.", "model", "invalid_type")
        messages = body.get("messages")
        if messages is None:
            missing = "missing_required_parameter"
            return bad("Missing required parameter: 'messages'.", "messages", missing)
        if not isinstance(messages, list):
            return bad(
                "Invalid type for 'messages': expected an array.", "messages", "invalid_type"
            )
        if not messages:
            return bad(
                "Invalid 'messages': empty array. Expected an array with minimum length 1, "
                "but got an empty array instead.",
                "messages",
                "empty_array",
            )
        for i, message in enumerate(messages):
            if not isinstance(message, dict) or "role" not in message:
                return bad(f"Missing required parameter: 'messages[{i}].role'.",
                           f"messages[{i}].role", "missing_required_parameter")  # fmt: skip
            if message["role"] not in ROLES:
                return bad(f"Invalid value: '{message['role']}'. Supported values are: 'system', "
                           "'assistant', 'user', 'function', 'tool', and 'developer'.",
                           f"messages[{i}].role", "invalid_value")  # fmt: skip
            if message["role"] in ("system", "developer", "user") and "content" not in message:
                return bad(f"Missing required parameter: 'messages[{i}].content'.",
                           f"messages[{i}].content", "missing_required_parameter")  # fmt: skip
        return None

    async def chat_completions(self, request: web.Request) -> web.StreamResponse:
        if denied := self._authorize(request):
            return denied
        try:
            body = json.loads(await request.read())
        except ValueError:
            body = None
        if invalid := self._invalid(body):
            return invalid
        model = body["model"]
        if missing := self._model_missing(model):
            return missing
        if self.delay:
            await asyncio.sleep(self.delay)
        content = None if self.refuse else (self.replies.pop(0) if self.replies else self.reply)
        refusal = REFUSAL if self.refuse else None
        prompt_text = " ".join(
            m["content"] if isinstance(m.get("content"), str) else json.dumps(m.get("content"))
            for m in body["messages"]
        )
        prompt_tokens = count_tokens(prompt_text) + 3 * len(body["messages"]) + 3
        completion_tokens = count_tokens(content or refusal or "")
        completion = {
            "id": "chatcmpl-" + secrets.token_urlsafe(21).replace("-", "a").replace("_", "b"),
            "object": "chat.completion",
            "created": int(time.time()),
            "model": model,
            "choices": [
                {
                    "index": 0,
                    "message": {
                        "role": "assistant",
                        "content": content,
                        "refusal": refusal,
                        "annotations": [],
                    },
                    "logprobs": None,
                    "finish_reason": "stop",
                }
            ],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
                "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
                "completion_tokens_details": {
                    "reasoning_tokens": 0,
                    "audio_tokens": 0,
                    "accepted_prediction_tokens": 0,
                    "rejected_prediction_tokens": 0,
                },
            },
            "service_tier": "default",
            "system_fingerprint": "fp_standin",
        }
        self.completions.append({"request": body, "response": completion})
        headers = {"x-request-id": _request_id(), "openai-processing-ms": "1"}
        if body.get("stream"):
            return await self._stream(request, completion, headers, body)
        return web.json_response(completion, headers=headers)

    async def _stream(
        self,
        request: web.Request,
        completion: dict[str, Any],
        headers: dict[str, str],
        body: dict[str, Any],
    ) -> web.StreamResponse:
        """Server-sent `chat.completion.chunk` events, then `data: [DONE]`."""
        response = web.StreamResponse(headers={**headers, "Content-Type": "text/event-stream"})
        await response.prepare(request)
        message = completion["choices"][0]["message"]
        text = message["content"] or ""
        base = {k: completion[k] for k in ("id", "created", "model", "system_fingerprint")}
        base["object"] = "chat.completion.chunk"
        deltas: list[dict[str, Any]] = [{"role": "assistant", "content": "", "refusal": None}]
        deltas += [{"content": text[i : i + 16]} for i in range(0, len(text), 16)]
        if message["refusal"]:
            deltas.append({"refusal": message["refusal"]})
        chunks = [
            {**base, "choices": [{"index": 0, "delta": d, "logprobs": None, "finish_reason": None}]}
            for d in deltas
        ]
        chunks.append(
            {
                **base,
                "choices": [{"index": 0, "delta": {}, "logprobs": None, "finish_reason": "stop"}],
            }
        )
        if (body.get("stream_options") or {}).get("include_usage"):
            chunks.append({**base, "choices": [], "usage": completion["usage"]})
        for chunk in chunks:
            await response.write(f"data: {json.dumps(chunk)}\n\n".encode())
        await response.write(b"data: [DONE]\n\n")
        await response.write_eof()
        return response

    def _model(self, model: str) -> dict[str, Any]:
        return {"id": model, "object": "model", "created": 1715367049, "owned_by": "system"}

    async def list_models(self, request: web.Request) -> web.Response:
        if denied := self._authorize(request):
            return denied
        return web.json_response({"object": "list", "data": [self._model(m) for m in self.models]})

    async def get_model(self, request: web.Request) -> web.Response:
        if denied := self._authorize(request):
            return denied
        model = request.match_info["model"]
        if model not in self.models:
            return openai_error(
                404,
                f"The model '{model}' does not exist",
                "invalid_request_error",
                "model",
                "model_not_found",
            )
        return web.json_response(self._model(model))
