"""`supportbot serve-model`: the registry's local models behind the OpenAI API.

The bot generates only through the openai client. For small open-weights models this
server closes the loop without vLLM or llama.cpp: it answers `POST /v1/chat/completions`
(plain and streamed) for the model ids the registry knows, a LoRA adapter on the
base model loaded in this process, and for the base model itself. Point
`SUPPORTBOT_LLM_BASE_URL` at it; a promotion is picked up at the next question because
the bot asks for the active model id. Larger models belong on vLLM (`--enable-lora`).
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel as Schema
from pydantic import Field
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from finetune_data.local_backend import LocalChatModel, OpenWeightsModel
from supportbot.models import ModelVersion, TrainingRun


class ChatCompletionRequest(Schema):
    model: str
    messages: list[dict[str, Any]]
    stream: bool = False
    max_tokens: int | None = Field(default=None, ge=1, le=4096)
    max_completion_tokens: int | None = Field(default=None, ge=1, le=4096)


class ModelCache:
    """Local models by id, loaded on first use and kept."""

    def __init__(self, engine: Engine, base: OpenWeightsModel) -> None:
        self.engine = engine
        self.base = base
        self._models: dict[str, LocalChatModel] = {}
        self._lock = threading.Lock()

    def known(self) -> list[str]:
        with Session(self.engine) as session:
            local = session.exec(
                select(ModelVersion.model_id).where(ModelVersion.backend == "local")
            ).all()
        return [self.base.name, *local]

    def get(self, model_id: str) -> LocalChatModel:
        with self._lock:
            if model_id not in self._models:
                self._models[model_id] = LocalChatModel(self.base, self._adapter(model_id))
            return self._models[model_id]

    def _adapter(self, model_id: str) -> Path | None:
        if model_id == self.base.name:
            return None
        with Session(self.engine) as session:
            version = session.exec(
                select(ModelVersion).where(ModelVersion.model_id == model_id)
            ).first()
            run = (
                session.get(TrainingRun, version.training_run_id)
                if version and version.training_run_id
                else None
            )
        adapter = run.metrics.get("adapter") if run else None
        if version is None or version.backend != "local" or not adapter:
            raise LookupError(model_id)
        return Path(adapter) / "adapter"


def _error(status: int, message: str, code: str, param: str | None = None) -> JSONResponse:
    # OpenAI's error shape, so the openai client raises its usual exceptions.
    body = {
        "error": {"message": message, "type": "invalid_request_error", "param": param, "code": code}
    }
    return JSONResponse(body, status_code=status)


def build_model_server(engine: Engine, base: OpenWeightsModel) -> FastAPI:
    app = FastAPI(title="supportbot local models", docs_url=None, redoc_url=None)
    cache = ModelCache(engine, base)

    @app.exception_handler(HTTPException)
    async def http_error(_request: Request, error: HTTPException) -> JSONResponse:
        return _error(error.status_code, str(error.detail), "error")

    @app.get("/v1/models")
    async def models() -> dict[str, Any]:
        known = await asyncio.to_thread(cache.known)
        return {
            "object": "list",
            "data": [
                {"id": m, "object": "model", "created": 0, "owned_by": "supportbot"} for m in known
            ],
        }

    @app.post("/v1/chat/completions", response_model=None)
    async def chat(request: ChatCompletionRequest) -> JSONResponse | StreamingResponse:
        try:
            model = await asyncio.to_thread(cache.get, request.model)
        except LookupError:
            return _error(
                404, f"The model '{request.model}' does not exist.", "model_not_found", "model"
            )
        messages = [
            {"role": str(m.get("role")), "content": _text(m.get("content"))}
            for m in request.messages
        ]
        limit = request.max_completion_tokens or request.max_tokens
        completion_id = f"chatcmpl-{uuid.uuid4().hex}"
        if not request.stream:
            text = await asyncio.to_thread(model, messages, limit)
            return JSONResponse(
                {
                    "id": completion_id,
                    "object": "chat.completion",
                    "created": int(time.time()),
                    "model": request.model,
                    "choices": [
                        {
                            "index": 0,
                            "message": {"role": "assistant", "content": text},
                            "finish_reason": "stop",
                        }
                    ],
                    "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
                }
            )
        return StreamingResponse(
            _chunks(model, messages, limit, completion_id, request.model),
            media_type="text/event-stream",
        )

    return app


async def _chunks(
    model: LocalChatModel,
    messages: list[dict[str, str]],
    limit: int | None,
    completion_id: str,
    model_id: str,
) -> AsyncIterator[bytes]:
    def chunk(delta: dict[str, Any], finish: str | None) -> bytes:
        body = {
            "id": completion_id,
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": model_id,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        }
        return f"data: {json.dumps(body)}\n\n".encode()

    yield chunk({"role": "assistant", "content": ""}, None)
    pieces = model.stream(messages, limit)
    while (piece := await asyncio.to_thread(next, pieces, None)) is not None:
        yield chunk({"content": piece}, None)
    yield chunk({}, "stop")
    yield b"data: [DONE]\n\n"


def _text(content: Any) -> str:
    """Message content as text (the API also allows a list of typed parts)."""
    if isinstance(content, list):
        return "".join(p.get("text", "") for p in content if isinstance(p, dict))
    return str(content or "")
