"""The evaluation gate: a candidate model goes live only if it beats the live one, pair
by pair, on a frozen set of held-out test pairs it was never trained on.

Both models answer each test pair from the same prompt. Each answer is scored against
the curated reference answer:
- `similarity`: cosine of sentence embeddings (the knowledge base's model);
- `facts`: numbers, yes/no polarity and named settings agree with the reference
  (facts.py); an answer that contradicts the reference scores 0 on that pair;
- `judge`: with an LLM configured, a 1-5 grade by the published rubric (JUDGE_RUBRIC),
  which then replaces similarity as the pair's quality;
- `citations`: 1 when the answer cites at least one source and every cited number is
  one of the prompt's sources, else 0.

Decision rule (`decide`): pairs whose reference is the live model's own answer (a 👍 on
its output) are left out, since the live model would score itself perfect there; with
fewer than `min_pairs` pairs left nothing is decided automatically. A pair is a win or
a loss when the qualities differ by more than `tie_margin`. The candidate is better
only if it wins more pairs than it loses, loses no pair marked critical, and cites no
less reliably. Whether a better candidate goes live by itself or waits for a lead is
the caller's setting (SUPPORTBOT_TRAIN_AUTO_PROMOTE).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field

import numpy as np

from finetune_data import facts
from finetune_data.citations import CITED
from knowledge.components.embedders import Embed

Messages = list[dict[str, str]]
Generate = Callable[[Messages], str]  # prompt messages → the model's answer
# question, reference, answer → a grade in [0, 1]
Judge = Callable[[str, str, str], float]

_SOURCE = re.compile(r'<source id="(\d+)"')

JUDGE_RUBRIC = """You grade a support answer against a reference answer written by a \
support lead. Reply with one digit only:
5: states every fact of the reference that answers the question, nothing that contradicts it;
4: the reference's key fact, minor omissions, nothing contradicting;
3: partly right: some of the key facts, or vague where the reference is specific;
2: mostly missing the point, or adds claims the reference does not support;
1: contradicts the reference (a different number, yes for no, a different setting) or \
does not answer."""


@dataclass
class GatePair:
    """One held-out pair: the prompt and reference answer as training would see them."""

    messages: Messages  # system, user, reference answer
    critical: bool = False
    reference_model: str | None = None  # the model whose own answer the reference is

    @property
    def question(self) -> str:
        return self.messages[-2]["content"].rsplit("Question:", 1)[-1].strip()

    @property
    def reference(self) -> str:
        return self.messages[-1]["content"]


@dataclass
class PairScore:
    question: str
    answer: str
    similarity: float
    citations: float
    fact_problems: list[str] = field(default_factory=list)
    judge: float | None = None
    critical: bool = False
    reference_model: str | None = None

    @property
    def quality(self) -> float:
        if self.fact_problems:
            return 0.0
        return self.judge if self.judge is not None else self.similarity


@dataclass
class ModelScore:
    model: str
    similarity: float
    citations: float
    pairs: list[PairScore] = field(default_factory=list)

    @property
    def facts(self) -> float:
        return float(np.mean([not p.fact_problems for p in self.pairs])) if self.pairs else 0.0

    def summary(self) -> dict[str, float]:
        return {
            "similarity": round(self.similarity, 4),
            "citations": round(self.citations, 4),
            "facts": round(self.facts, 4),
        }


@dataclass
class GateRules:
    min_pairs: int = 20
    tie_margin: float = 0.02


@dataclass
class Outcome:
    question: str
    result: str  # win, loss, tie (for the candidate) or excluded
    candidate: float
    live: float
    critical: bool = False
    note: str | None = None


@dataclass
class Decision:
    promote: bool  # the candidate is better: it may go live
    reason: str
    candidate: ModelScore
    live: ModelScore
    rules: GateRules
    outcomes: list[Outcome] = field(default_factory=list)
    promoted: bool = False  # set by the caller when the candidate was actually put live

    @property
    def wins(self) -> int:
        return sum(o.result == "win" for o in self.outcomes)

    @property
    def losses(self) -> int:
        return sum(o.result == "loss" for o in self.outcomes)

    def as_dict(self) -> dict[str, object]:
        return {**asdict(self), "wins": self.wins, "losses": self.losses}


def citation_validity(answer: str, prompt: str) -> float:
    cited = {int(n) for n in CITED.findall(answer)}
    sources = {int(n) for n in _SOURCE.findall(prompt)}
    return 1.0 if cited and cited <= sources else 0.0


def score(
    model: str,
    generate: Generate,
    tests: Sequence[GatePair],
    embed: Embed,
    judge: Judge | None = None,
) -> ModelScore:
    answers = [generate(test.messages[:-1]) for test in tests]
    references = [test.reference for test in tests]
    vectors = embed([*answers, *references]) if tests else np.zeros((0, 1))
    similarities = np.sum(vectors[: len(answers)] * vectors[len(answers) :], axis=1)
    pairs = [
        PairScore(
            question=test.question,
            answer=answer,
            similarity=round(float(similarity), 4),
            citations=citation_validity(answer, test.messages[-2]["content"]),
            fact_problems=facts.check(answer, test.reference).problems,
            judge=judge(test.question, test.reference, answer) if judge else None,
            critical=test.critical,
            reference_model=test.reference_model,
        )
        for test, answer, similarity in zip(tests, answers, similarities, strict=True)
    ]
    return ModelScore(
        model=model,
        similarity=float(np.mean([p.similarity for p in pairs])) if pairs else 0.0,
        citations=float(np.mean([p.citations for p in pairs])) if pairs else 0.0,
        pairs=pairs,
    )


def decide(candidate: ModelScore, live: ModelScore, rules: GateRules) -> Decision:
    outcomes = [
        _outcome(c, p, live.model, rules) for c, p in zip(candidate.pairs, live.pairs, strict=True)
    ]
    decision = Decision(False, "", candidate, live, rules, outcomes)
    counted = [o for o in outcomes if o.result != "excluded"]
    if len(counted) < rules.min_pairs:
        decision.reason = (
            f"only {len(counted)} test pairs count; at least {rules.min_pairs} are needed to "
            "decide, so a lead decides"
        )
        return decision
    lost_critical = [o.question for o in counted if o.critical and o.result == "loss"]
    cited = [
        p.citations
        for p, o in zip(candidate.pairs, outcomes, strict=True)
        if o.result != "excluded"
    ]
    cited_live = [
        p.citations for p, o in zip(live.pairs, outcomes, strict=True) if o.result != "excluded"
    ]
    tally = f"{decision.wins} wins, {decision.losses} losses, {len(counted)} pairs"
    if lost_critical:
        decision.reason = f"loses critical pair(s) {lost_critical[:3]} ({tally})"
    elif np.mean(cited) < np.mean(cited_live):
        decision.reason = f"cites its sources less reliably ({tally})"
    elif decision.wins <= decision.losses:
        decision.reason = f"does not win more pairs than it loses ({tally})"
    else:
        decision.promote = True
        decision.reason = f"better on more pairs than worse ({tally})"
    return decision


def _outcome(candidate: PairScore, live: PairScore, live_model: str, rules: GateRules) -> Outcome:
    outcome = Outcome(
        candidate.question, "tie", candidate.quality, live.quality, critical=candidate.critical
    )
    if candidate.reference_model and candidate.reference_model == live_model:
        outcome.result, outcome.note = "excluded", "the reference is the live model's own answer"
    elif candidate.quality - live.quality > rules.tie_margin:
        outcome.result = "win"
    elif live.quality - candidate.quality > rules.tie_margin:
        outcome.result = "loss"
    return outcome


def llm_judge(client: object, model: str) -> Judge:
    """A Judge that asks `model` through an openai client to grade by JUDGE_RUBRIC."""

    def grade(question: str, reference: str, answer: str) -> float:
        reply = client.chat.completions.create(  # type: ignore[attr-defined]
            model=model,
            temperature=0,
            messages=[
                {"role": "system", "content": JUDGE_RUBRIC},
                {
                    "role": "user",
                    "content": f"Question: {question}\n\nReference: {reference}\n\n"
                    f"Answer to grade: {answer}",
                },
            ],
        )
        return parse_grade(reply.choices[0].message.content or "")

    return grade


def parse_grade(text: str) -> float:
    """The rubric's 1-5 digit as a 0-1 quality; an unreadable reply is the lowest grade."""
    match = re.search(r"[1-5]", text)
    return (int(match.group(0)) - 1) / 4 if match else 0.0
