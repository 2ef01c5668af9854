"""The evaluation gate's decision rule on hand-made score tables: a worse model is never
promoted, whatever its mean similarity says."""

from __future__ import annotations

import numpy as np
import pytest

from finetune_data import facts, gate
from finetune_data.gate import GatePair, GateRules, ModelScore, PairScore

RULES = GateRules(min_pairs=4, tie_margin=0.02)


def table(model: str, rows: list[tuple[float, ...]], **marks: object) -> ModelScore:
    """Scores from rows of (similarity,) or (similarity, citations)."""
    pairs = [
        PairScore(
            question=f"q{i}",
            answer="a",
            similarity=row[0],
            citations=row[1] if len(row) > 1 else 1.0,
            **marks,  # type: ignore[arg-type]
        )
        for i, row in enumerate(rows)
    ]
    return ModelScore(
        model,
        float(np.mean([p.similarity for p in pairs])),
        float(np.mean([p.citations for p in pairs])),
        pairs,
    )


def test_a_candidate_that_wins_2_pairs_and_loses_4_is_not_promoted() -> None:
    candidate = table("new", [(0.9,), (0.9,), (0.5,), (0.5,), (0.5,), (0.5,)])
    live = table("old", [(0.6,), (0.6,), (0.6,), (0.6,), (0.6,), (0.6,)])
    decision = gate.decide(candidate, live, RULES)
    assert (decision.wins, decision.losses) == (2, 4)
    assert not decision.promote
    assert "does not win more pairs than it loses" in decision.reason


def test_one_outlier_pair_carrying_the_whole_mean_gain_does_not_promote() -> None:
    # Mean similarity +0.027 better, as in the promoted-but-worse run: one big win, losses.
    candidate = table("new", [(0.95,), (0.60,), (0.60,), (0.60,), (0.60,), (0.60,)])
    live = table("old", [(0.40,), (0.64,), (0.64,), (0.64,), (0.64,), (0.64,)])
    assert candidate.similarity - live.similarity > 0.02
    decision = gate.decide(candidate, live, RULES)
    assert (decision.wins, decision.losses) == (1, 5)
    assert not decision.promote


def test_fewer_than_the_minimum_pairs_means_no_automatic_promotion() -> None:
    for size in (1, 2, 3):  # held-out sets of 1, 6 and 2 pairs were decided on before
        candidate = table("new", [(0.9,)] * size)
        live = table("old", [(0.1,)] * size)
        decision = gate.decide(candidate, live, RULES)
        assert not decision.promote
        assert f"only {size} test pairs count" in decision.reason
    six = gate.decide(table("new", [(0.9,)] * 6), table("old", [(0.1,)] * 6), GateRules())
    assert not six.promote, "the default minimum is 20 pairs"


def test_a_candidate_that_wins_most_pairs_is_better() -> None:
    candidate = table("new", [(0.8,), (0.8,), (0.8,), (0.6,), (0.601,)])
    live = table("old", [(0.6,), (0.6,), (0.6,), (0.7,), (0.6,)])
    decision = gate.decide(candidate, live, RULES)
    assert (decision.wins, decision.losses) == (3, 1)
    assert decision.outcomes[4].result == "tie", "differences within the margin are ties"
    assert decision.promote
    assert not decision.promoted, "deciding is not putting live: the caller does that"


def test_wrong_polarity_scored_high_by_similarity_is_a_loss() -> None:
    wrong = PairScore("Does it support WPA3?", "No, WPA3 is not supported.", 0.896, 1.0)
    wrong.fact_problems = facts.check(wrong.answer, "Yes, WPA3 is supported [1].").problems
    right = PairScore("Does it support WPA3?", "Yes, it supports WPA3 [1].", 0.730, 1.0)
    assert wrong.fact_problems
    assert wrong.quality == 0.0
    candidate = table("new", [(0.8,)] * 4)
    live = table("old", [(0.7,)] * 4)
    candidate.pairs = [wrong, *candidate.pairs[1:]]
    live.pairs = [right, *live.pairs[1:]]
    decision = gate.decide(candidate, live, RULES)
    assert decision.outcomes[0].result == "loss"


def test_losing_a_critical_pair_blocks_promotion_whatever_else_it_wins() -> None:
    candidate = table("new", [(0.9,)] * 5)
    live = table("old", [(0.5,)] * 5)
    candidate.pairs[2].similarity, candidate.pairs[2].critical = 0.1, True
    live.pairs[2].critical = True
    decision = gate.decide(candidate, live, RULES)
    assert (decision.wins, decision.losses) == (4, 1)
    assert not decision.promote
    assert "critical" in decision.reason


def test_pairs_whose_reference_is_the_live_models_own_answer_do_not_count() -> None:
    own = {"reference_model": "old"}
    candidate = table("new", [(0.5,)] * 3 + [(0.9,)] * 4)
    live = table("old", [(1.0,)] * 3 + [(0.5,)] * 4)
    for index in range(3):  # 👍 pairs: the reference is what "old" said, so it scores 1.0
        candidate.pairs[index].reference_model = own["reference_model"]
        live.pairs[index].reference_model = own["reference_model"]
    decision = gate.decide(candidate, live, RULES)
    assert [o.result for o in decision.outcomes[:3]] == ["excluded"] * 3
    assert (decision.wins, decision.losses) == (4, 0)
    assert decision.promote


def test_citing_less_reliably_blocks_promotion() -> None:
    candidate = table("new", [(0.9, 0.0)] * 5)
    live = table("old", [(0.5, 1.0)] * 5)
    decision = gate.decide(candidate, live, RULES)
    assert not decision.promote
    assert "cites its sources less reliably" in decision.reason


def test_score_applies_fact_checks_and_the_judge_to_generated_answers() -> None:
    tests = [
        GatePair(
            [
                {"role": "system", "content": "rules"},
                {
                    "role": "user",
                    "content": '<source id="1" title="t">\nx\n</source>\n\nQuestion: Q?',
                },
                {"role": "assistant", "content": "Hold it for 10 seconds [1]."},
            ],
            critical=True,
        )
    ] * 2
    answers = iter(["Hold it for 15 seconds [1].", "Hold it for 10 s [1]."])

    def embed(texts: list[str]) -> np.ndarray:
        return np.ones((len(texts), 2)) / np.sqrt(2)  # everything looks identical

    graded = []
    scored = gate.score(
        "m", lambda _messages: next(answers), tests, embed, lambda q, r, a: graded.append(a) or 0.75
    )
    first, second = scored.pairs
    assert (bool(first.fact_problems), first.quality) == (True, 0.0), "15 s contradicts 10 s"
    assert (second.fact_problems, second.quality) == ([], 0.75), "the judge's grade counts"
    assert (first.critical, first.citations, first.question) == (True, 1.0, "Q?")
    assert len(graded) == 2


@pytest.mark.parametrize(
    ("reply", "grade"), [("5", 1.0), ("Grade: 3", 0.5), ("1 - contradicts", 0.0), ("?", 0.0)]
)
def test_the_judges_reply_is_read_as_a_grade(reply: str, grade: float) -> None:
    assert gate.parse_grade(reply) == grade


@pytest.mark.parametrize(
    ("answer", "reference", "agrees"),
    [
        ("No, WPA3 is not supported.", "Yes, WPA3 is supported.", False),
        ("Yes, the hub supports 5 GHz [1].", "Yes, 5 GHz works.", True),
        ("It draws 120 W.", "The charger delivers 3 W.", False),
        ("Hold Reset for 10 s [2].", "Hold the button for 10 seconds.", True),
        ("Open Settings > Network > Reset.", "Go to Settings > General > Reset.", False),
        ("Go to Settings > General > Reset [1].", "Open Settings > General > Reset.", True),
        ("Press the button on the side.", "Hold the power key.", True),  # nothing to compare
    ],
)
def test_fact_checks(answer: str, reference: str, agrees: bool) -> None:
    assert facts.check(answer, reference).agrees is agrees
