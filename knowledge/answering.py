"""The one answering path every front end uses: retrieve, decide, generate, cite.

    question (+ thread history)
      → standalone question (LLM rewrite when configured, else history-aware query)
      → hybrid retrieval, newer updates boosted
      → weak evidence? abstain and hand over
      → LLM configured? generate from numbered sources : quote the best excerpts
      → keep only real citations; record timings

Generation goes through Haystack's OpenAIChatGenerator (the `openai` client), so OpenAI,
vLLM, llama.cpp and Ollama all work; the client retries timeouts, rate limits and 5xx
with backoff. If it still fails, the user gets the excerpts and a short note.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import structlog
from haystack import Document, Pipeline
from haystack.components.builders import ChatPromptBuilder
from haystack.components.generators.chat import OpenAIChatGenerator
from haystack.document_stores.types import DocumentStore
from haystack.utils import Secret
from openai import Stream as OpenAIStream

from knowledge.components.embedders import openai_secret
from knowledge.components.update_boost import UpdateBoost
from knowledge.documents import DocumentKind
from knowledge.excerpts import compose, item_of, supersessions, updates_before_older
from knowledge.prompts import ANSWER_TEMPLATE, CONDENSE_TEMPLATE, NOT_COVERED, neutralise
from knowledge.retrieval import build_retriever, retrieve
from supportbot.settings import Settings

log = structlog.stdlib.get_logger(__name__)

# Evidence is the best cosine similarity between the question and a retrieved chunk:
# unlike fused scores (normalised per query) it is comparable across questions. Below
# the threshold the bot abstains. Calibrated with benchmarks/retrieval.py (results in
# benchmarks/results/abstain.md): the answerable e-manual dev questions bottom out at
# 0.25 and general off-topic questions asked of the sample knowledge top out at 0.17;
# 0.20 sits between them.
DEFAULT_ABSTAIN_THRESHOLD = 0.20
SOURCES_IN_PROMPT = 5
CANDIDATE_SOURCES = 20  # the prompt's sources come from these (and the text updates change)
UPDATES_SEARCHED = 10  # dated updates searched on their own for changes to those sources
EXCERPTS_SHOWN = 3
EXCERPT_CHARS = 600
MAX_HISTORY_TURNS = 6

ABSTAIN_TEXT = (
    "I couldn't find this in the documentation, so I won't guess. "
    "I'm handing your question to a person on the support team."
)
EXCERPTS_INTRO = "Excerpts from the docs that look relevant (not a written answer):"
KNOWLEDGE_UNAVAILABLE_TEXT = (
    "I can't reach the documentation right now, so I can't answer reliably. "
    "I'm handing your question to a person on the support team."
)
MAX_QUESTION_CHARS = 4000
LLM_FAILED_NOTE = (
    "The answer service is not responding right now, so here are the most relevant "
    "excerpts from the docs instead."
)

_CITATION = re.compile(r"\[(\d+(?:\s*,\s*\d+)*)\]")


@dataclass
class Turn:
    role: Literal["user", "assistant"]
    text: str


class AnswerCancelled(Exception):
    """Raised from `on_token` by a caller whose asker went away: generation stops."""


def _caused_by(error: BaseException | None, kind: type[BaseException]) -> bool:
    """Whether `error` or anything that caused it is a `kind` (pipelines wrap errors)."""
    seen = 0
    while error is not None and seen < 20:
        if isinstance(error, kind):
            return True
        error, seen = error.__cause__ or error.__context__, seen + 1
    return False


def _close_streams(error: BaseException) -> None:
    """Close the model's response streams an error left open.

    A cancelled answer stops by raising from the streaming callback, and Haystack's
    synchronous stream handler does not close the openai stream it was reading when
    that happens: the model server would go on generating, and the connection stay
    taken, until garbage collection. The streams are still locals of the frames the
    error passed through; closing them ends the HTTP response now."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        trace = current.__traceback__
        while trace is not None:
            for value in list(trace.tb_frame.f_locals.values()):
                if isinstance(value, OpenAIStream):
                    value.close()
            trace = trace.tb_next
        current = current.__cause__ or current.__context__


@dataclass
class Citation:
    number: int
    title: str | None
    section: str | None
    url: str | None
    published_at: str | None
    kind: str | None
    source: str | None
    score: float | None
    excerpt: str
    product: str | None = None

    @classmethod
    def from_document(cls, number: int, document: Document) -> Citation:
        meta = document.meta
        return cls(
            number=number,
            title=meta.get("title"),
            section=meta.get("section"),
            url=meta.get("url"),
            published_at=meta.get("published_at"),
            kind=meta.get("kind"),
            source=meta.get("source"),
            score=round(document.score, 4) if document.score is not None else None,
            excerpt=_excerpt(document.content or ""),
            product=meta.get("product"),
        )


@dataclass
class Answer:
    text: str
    citations: list[Citation]
    mode: Literal["generated", "excerpts", "abstained"]
    question: str
    standalone_question: str
    model_id: str | None = None
    note: str | None = None
    timings_ms: dict[str, float] = field(default_factory=dict)
    evidence: float | None = None
    context: list[dict[str, str | None]] = field(default_factory=list)

    @property
    def abstained(self) -> bool:
        return self.mode == "abstained"


def evidence_score(documents: Sequence[Document]) -> float | None:
    """How well the best retrieved chunk matches the question, comparable across queries."""
    if not documents:
        return None
    dense = [float(d.meta["dense_score"]) for d in documents if "dense_score" in d.meta]
    return max(dense) if dense else max(float(d.score or 0.0) for d in documents)


def _excerpt(text: str, limit: int = EXCERPT_CHARS) -> str:
    # Heading lines repeat the section path the citation already shows.
    body = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    text = " ".join(" ".join(body).split()) or " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rsplit(" ", 1)[0] + "…"


def parse_citations(text: str, source_count: int) -> tuple[str, list[int]]:
    """Remove citation markers that point nowhere; return the text and cited numbers."""
    cited: list[int] = []

    def keep_valid(match: re.Match[str]) -> str:
        numbers = [int(n) for n in re.split(r"\s*,\s*", match.group(1))]
        valid = [n for n in numbers if 1 <= n <= source_count]
        for number in valid:
            if number not in cited:
                cited.append(number)
        return "".join(f"[{n}]" for n in valid)

    cleaned = _CITATION.sub(keep_valid, text)
    cleaned = re.sub(r"[ \t]+([.,;:!?])", r"\1", cleaned)  # " ." left by a removed marker
    return cleaned.strip(), cited


def _source_context(
    documents: Sequence[Document], question: str | None = None
) -> list[dict[str, str | None]]:
    """The sources as the prompt shows them; with `question`, each update that changes
    a fact of another source names it (`supersedes`: that source's number)."""

    def clean(value: Any) -> str | None:
        return neutralise(str(value)).replace('"', "'") if value else None

    position: dict[str, int] = {}
    for number, document in enumerate(documents, start=1):
        position.setdefault(item_of(document), number)
    replaced = {
        pair.update.id: str(position[item_of(pair.older)])
        for pair in (supersessions(documents, question) if question else [])
    }
    return [
        {
            "title": clean(d.meta.get("title")) or "Untitled",
            "section": clean(d.meta.get("section")),
            "kind": clean(d.meta.get("kind")),
            "date": (d.meta.get("published_at") or "")[:10] or None,
            "supersedes": replaced.get(d.id),
            "text": neutralise(d.content or ""),
        }
        for d in documents
    ]


class AnsweringService:
    """Answers questions from the knowledge base; safe to share across requests."""

    def __init__(
        self,
        settings: Settings,
        store: DocumentStore,
        abstain_threshold: float = DEFAULT_ABSTAIN_THRESHOLD,
    ) -> None:
        self.settings = settings
        self.abstain_threshold = abstain_threshold
        self.store = store
        self.retrieval = build_retriever(settings, store)
        self.boost = UpdateBoost()
        self.condense_builder = ChatPromptBuilder(template=CONDENSE_TEMPLATE)
        self._pipelines: dict[str, Pipeline] = {}
        self._lock = threading.Lock()

    # --- public --------------------------------------------------------------------

    def answer(
        self,
        question: str,
        history: Sequence[Turn] = (),
        model_id: str | None = None,
        filters: dict[str, Any] | None = None,
        on_token: Callable[[str], None] | None = None,
        language: str | None = None,
    ) -> Answer:
        """`language`: the language to answer in, by name ("German"); None: the question's."""
        question = question.strip()
        if not question:
            raise ValueError("the question is empty")
        if len(question) > MAX_QUESTION_CHARS:
            raise ValueError(
                f"the question is too long ({len(question)} characters; "
                f"at most {MAX_QUESTION_CHARS})"
            )
        model_id = model_id or self.settings.llm_model
        timings: dict[str, float] = {}
        clock = time.perf_counter()

        standalone = self._standalone(question, history[-MAX_HISTORY_TURNS:], model_id)
        timings["condense_ms"] = _since(clock)

        clock = time.perf_counter()
        base: dict[str, Any] = {"question": question, "standalone_question": standalone}
        try:
            documents = self._prompt_documents(standalone, filters)
        except Exception as error:  # store down: say so and hand over, never crash
            log.error("answer.retrieval_failed", error=f"{type(error).__name__}: {error}")
            timings["retrieval_ms"] = _since(clock)
            return Answer(
                KNOWLEDGE_UNAVAILABLE_TEXT,
                [],
                "abstained",
                note="knowledge base unavailable",
                timings_ms=timings,
                **base,
            )
        timings["retrieval_ms"] = _since(clock)
        evidence = evidence_score(documents)
        base["evidence"] = evidence
        # The sources exactly as the prompt shows them: training pairs are built from
        # this, so a fine-tuned model learns from the same input it will get.
        base["context"] = _source_context(documents, standalone)
        if evidence is None or evidence < self.abstain_threshold:
            return Answer(ABSTAIN_TEXT, [], "abstained", timings_ms=timings, **base)
        if not self.settings.llm_configured:
            return self._excerpts(documents, timings, base)

        clock = time.perf_counter()
        try:
            # The prompt shows the sources exactly as `context` records them.
            reply = self._generate(
                question if not history else standalone,
                base["context"],
                model_id,
                on_token,
                language,
            )
        except Exception as error:  # openai already retried; the user still gets help
            if _caused_by(error, AnswerCancelled):
                _close_streams(error)
                raise AnswerCancelled from None
            log.warning("answer.generation_failed", error=f"{type(error).__name__}: {error}")
            timings["generation_ms"] = _since(clock)
            return self._excerpts(documents, timings, base, note=LLM_FAILED_NOTE)
        timings["generation_ms"] = _since(clock)

        if NOT_COVERED in reply or not reply.strip():
            return Answer(
                ABSTAIN_TEXT, [], "abstained", model_id=model_id, timings_ms=timings, **base
            )
        text, cited = parse_citations(reply, len(documents))
        citations = [Citation.from_document(n, documents[n - 1]) for n in cited]
        return Answer(text, citations, "generated", model_id=model_id, timings_ms=timings, **base)

    def search(
        self, query: str, filters: dict[str, Any] | None = None, limit: int = 5
    ) -> list[Document]:
        """The best passages for `query` by relevance (hybrid retrieval, fused), without
        generating anything. No update boost: a reader of search results sees the dates
        and judges currency; the boost is for choosing an answer's sources."""
        return retrieve(self.retrieval, query, top_k=limit, filters=filters)

    def prompt_sources(
        self, question: str, filters: dict[str, Any] | None = None
    ) -> list[dict[str, str | None]]:
        """The sources the answering prompt would show for `question`: what a training
        pair built outside a conversation (an import, a benchmark) should carry."""
        return _source_context(self._prompt_documents(question, filters), question)

    # --- steps ---------------------------------------------------------------------

    def _prompt_documents(self, query: str, filters: dict[str, Any] | None) -> list[Document]:
        """The best sources; a dated update that changes a fact of an item (page, file)
        the best sources come from joins them, just before that item's passage, in place
        of the weakest source it does not supersede. Updates are also searched on their
        own: a short release note is easily outranked by the many manual pages on its
        topic."""
        documents = retrieve(self.retrieval, query, top_k=CANDIDATE_SOURCES, filters=filters)
        ranked = self.boost.run(documents)["documents"]
        best = ranked[:SOURCES_IN_PROMPT]
        shown_items = {item_of(d) for d in best}
        olders = [d for d in ranked if item_of(d) in shown_items]
        updates = self._updates(query, filters)
        found = supersessions([*best, *updates], query, olders)
        leading = updates_before_older(best, found)
        superseded = {item_of(pair.older) for pair in found}
        superseding = {pair.update.id for pair in found}
        while len(leading) > SOURCES_IN_PROMPT:
            weakest = next(
                (
                    d
                    for d in reversed(leading)
                    if item_of(d) not in superseded and d.id not in superseding
                ),
                leading[-1],
            )
            leading.remove(weakest)
        return leading

    def _updates(self, query: str, filters: dict[str, Any] | None) -> list[Document]:
        only_updates = {"field": "meta.kind", "operator": "==", "value": DocumentKind.UPDATE}
        within = (
            {"operator": "AND", "conditions": [filters, only_updates]} if filters else only_updates
        )
        return retrieve(self.retrieval, query, top_k=UPDATES_SEARCHED, filters=within)

    def _generation_pipeline(self, model_id: str) -> Pipeline:
        """prompt → LLM for one model, built once and reused (the service is long-lived;
        the registry can switch models between answers)."""
        with self._lock:
            if model_id not in self._pipelines:
                # Local OpenAI-compatible servers accept any key; the client insists on one.
                key = self.settings.llm_api_key
                generator = OpenAIChatGenerator(
                    api_key=openai_secret(self.settings) if key else Secret.from_token("none"),
                    model=model_id,
                    api_base_url=self.settings.llm_base_url,
                    timeout=self.settings.llm_timeout_s,
                    max_retries=self.settings.llm_max_retries,
                    generation_kwargs={"temperature": 0.1},
                )
                pipeline = Pipeline()
                pipeline.add_component("prompt", ChatPromptBuilder(template=ANSWER_TEMPLATE))
                pipeline.add_component("llm", generator)
                pipeline.connect("prompt.prompt", "llm.messages")
                self._pipelines[model_id] = pipeline
            return self._pipelines[model_id]

    def _generate(
        self,
        question: str,
        sources: list[dict[str, str | None]],
        model_id: str,
        on_token: Callable[[str], None] | None,
        language: str | None = None,
    ) -> str:
        streaming = (lambda chunk: on_token(chunk.content or "")) if on_token else None
        result = self._generation_pipeline(model_id).run(
            {
                "prompt": {"question": question, "sources": sources, "language": language},
                "llm": {"streaming_callback": streaming},
            }
        )
        return result["llm"]["replies"][0].text or ""

    def _llm(self, model_id: str) -> OpenAIChatGenerator:
        generator: OpenAIChatGenerator = self._generation_pipeline(model_id).get_component("llm")
        return generator

    def _standalone(self, question: str, history: Sequence[Turn], model_id: str) -> str:
        if not history:
            return question
        if self.settings.llm_configured:
            try:
                messages = self.condense_builder.run(
                    question=question,
                    history=[{"role": t.role, "text": t.text} for t in history],
                )["prompt"]
                reply = self._llm(model_id).run(messages=messages)["replies"][0].text
                if reply and reply.strip() and NOT_COVERED not in reply:
                    return reply.strip()
            except Exception as error:
                log.warning("answer.condense_failed", error=f"{type(error).__name__}: {error}")
        # Without a model, the earlier questions give retrieval the missing context.
        earlier = [t.text for t in history if t.role == "user"][-2:]
        return " ".join([*earlier, question])

    def _excerpts(
        self,
        documents: Sequence[Document],
        timings: dict[str, float],
        base: dict[str, Any],
        note: str | None = None,
    ) -> Answer:
        question = base["standalone_question"]
        excerpts = compose(question, documents, EXCERPTS_SHOWN, note or EXCERPTS_INTRO)
        citations = [Citation.from_document(n, d) for n, d in enumerate(excerpts.shown, start=1)]
        return Answer(excerpts.text, citations, "excerpts", note=note, timings_ms=timings, **base)


def _since(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 1)
