"""Embedders for documents and queries, chosen by settings (local model or OpenAI)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from haystack import Document
from haystack.components.embedders import OpenAIDocumentEmbedder, OpenAITextEmbedder
from haystack.utils import Secret

from supportbot.settings import EmbeddingBackend, Settings

# Metadata embedded with each chunk: where it sits matters as much as what it says.
EMBEDDED_META = ["title", "section"]


def openai_secret(settings: Settings) -> Secret:
    """The API key for OpenAI-compatible endpoints: ours, else OPENAI_API_KEY."""
    if settings.llm_api_key is not None:
        return Secret.from_token(settings.llm_api_key.get_secret_value())
    return Secret.from_env_var("OPENAI_API_KEY")


def build_document_embedder(settings: Settings) -> Any:
    if settings.embedding_backend is EmbeddingBackend.OPENAI:
        return OpenAIDocumentEmbedder(
            api_key=openai_secret(settings),
            model=settings.embedding_model,
            api_base_url=settings.llm_base_url,
            meta_fields_to_embed=EMBEDDED_META,
        )
    # sentence-transformers brings torch (~4 s to import): not loaded when embeddings
    # come from an API.
    from haystack_integrations.components.embedders.sentence_transformers import (
        SentenceTransformersDocumentEmbedder,
    )

    return SentenceTransformersDocumentEmbedder(
        model=settings.resolved_embedding_model(),
        batch_size=32,
        normalize_embeddings=True,
        meta_fields_to_embed=EMBEDDED_META,
        progress_bar=False,
    )


def build_text_embedder(settings: Settings) -> Any:
    if settings.embedding_backend is EmbeddingBackend.OPENAI:
        return OpenAITextEmbedder(
            api_key=openai_secret(settings),
            model=settings.embedding_model,
            api_base_url=settings.llm_base_url,
        )
    # torch again: only for local embeddings.
    from haystack_integrations.components.embedders.sentence_transformers import (
        SentenceTransformersTextEmbedder,
    )

    return SentenceTransformersTextEmbedder(
        model=settings.resolved_embedding_model(),
        normalize_embeddings=True,
        progress_bar=False,
    )


Embed = Callable[[Sequence[str]], np.ndarray]  # texts → unit vectors, one row each


def embed_with(embedder: Any) -> Embed:
    """An Embed from a warmed-up Haystack document embedder."""

    def embed(texts: Sequence[str]) -> np.ndarray:
        documents = embedder.run([Document(content=t) for t in texts])["documents"]
        vectors = np.array([d.embedding for d in documents], dtype=np.float32)
        return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-9)

    return embed


def sentence_embedder(settings: Settings) -> Embed:
    """The knowledge base's embedding model, for comparing questions (harvest, reports,
    contradiction checks)."""
    embedder = build_document_embedder(settings)
    embedder.warm_up()
    return embed_with(embedder)
