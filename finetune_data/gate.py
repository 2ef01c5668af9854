"""The evaluation gate: a candidate model goes live only if it beats the live one.

Both models answer the dataset's held-out pairs from the same prompts (the examples'
system and user messages). Each answer is scored against the curated gold answer:
- `similarity`: cosine of sentence embeddings (the knowledge base's model);
- `citations`: 1 when the answer cites at least one source and every cited number is
  one of the prompt's sources, else 0.
The candidate is promoted when its mean similarity beats the live model's by at least
`margin` and its citation validity is no worse.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field

import numpy as np

from finetune_data.harvest import Embed

Messages = list[dict[str, str]]
Generate = Callable[[Messages], str]  # prompt messages → the model's answer

_CITED = re.compile(r"\[(\d+)\]")
_SOURCE = re.compile(r'<source id="(\d+)"')


@dataclass
class PairScore:
    question: str
    answer: str
    similarity: float
    citations: float


@dataclass
class ModelScore:
    model: str
    similarity: float
    citations: float
    pairs: list[PairScore] = field(default_factory=list)

    def summary(self) -> dict[str, float]:
        return {"similarity": round(self.similarity, 4), "citations": round(self.citations, 4)}


@dataclass
class Decision:
    promote: bool
    reason: str
    candidate: ModelScore
    live: ModelScore
    margin: float

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def citation_validity(answer: str, prompt: str) -> float:
    cited = {int(n) for n in _CITED.findall(answer)}
    sources = {int(n) for n in _SOURCE.findall(prompt)}
    return 1.0 if cited and cited <= sources else 0.0


def score(model: str, generate: Generate, examples: Sequence[Messages], embed: Embed) -> ModelScore:
    answers = [generate(example[:-1]) for example in examples]
    golds = [example[-1]["content"] for example in examples]
    vectors = embed([*answers, *golds])
    similarities = np.sum(vectors[: len(answers)] * vectors[len(answers) :], axis=1)
    pairs = [
        PairScore(
            question=example[-2]["content"].rsplit("Question:", 1)[-1].strip(),
            answer=answer,
            similarity=round(float(similarity), 4),
            citations=citation_validity(answer, example[-2]["content"]),
        )
        for example, answer, similarity in zip(examples, answers, similarities, strict=True)
    ]
    return ModelScore(
        model=model,
        similarity=float(np.mean([p.similarity for p in pairs])) if pairs else 0.0,
        citations=float(np.mean([p.citations for p in pairs])) if pairs else 0.0,
        pairs=pairs,
    )


def decide(candidate: ModelScore, live: ModelScore, margin: float) -> Decision:
    gain = candidate.similarity - live.similarity
    if candidate.citations < live.citations:
        return Decision(False, "cites its sources less reliably", candidate, live, margin)
    if gain < margin:
        reason = f"similarity gain {gain:+.3f} is below the margin {margin:.3f}"
        return Decision(False, reason, candidate, live, margin)
    return Decision(
        True, f"similarity gain {gain:+.3f} ≥ margin {margin:.3f}", candidate, live, margin
    )
