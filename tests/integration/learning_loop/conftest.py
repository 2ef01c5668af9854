"""Fixtures the learning-loop tests share."""

from __future__ import annotations

import pytest

from knowledge.components.embedders import Embed, sentence_embedder
from supportbot.settings import Settings


@pytest.fixture(scope="session")
def embed() -> Embed:
    """The knowledge base's embedding model (loaded once: it takes seconds)."""
    return sentence_embedder(Settings())
